import Foundation
import ZenEngine

/// A JSON Schema checked on an input or output node. Supports the common
/// validation keywords; a keyword it cannot check is refused when the graph loads.
final class DecisionSchema: @unchecked Sendable {
    enum Rule {
        /// Allowed JSON types as a bit set (see `typeBit`), plus their names for messages.
        case types(UInt8, [String])
        /// Sub-schemas by property name; a null value of a property that is not required is accepted
        /// (zen-engine 2.1.3 treats it as absent).
        case properties([(String, DecisionSchema)], required: Set<String>)
        case required([String])
        case additionalProperties(DecisionSchema?, allowed: Bool, known: Set<String>, patterns: [NSRegularExpression])
        case patternProperties([(NSRegularExpression, DecisionSchema)])
        case enumeration([ZenValue])
        case constant(ZenValue)
        case minimum(Decimal, exclusive: Bool)
        case maximum(Decimal, exclusive: Bool)
        case multipleOf(Decimal)
        case items(DecisionSchema)
        case prefixItems([DecisionSchema])
        case minItems(Int)
        case maxItems(Int)
        case uniqueItems
        case contains(DecisionSchema)
        case minLength(Int)
        case maxLength(Int)
        case pattern(NSRegularExpression, String)
        case minProperties(Int)
        case maxProperties(Int)
        case allOf([DecisionSchema])
        case anyOf([DecisionSchema])
        case oneOf([DecisionSchema])
        case not(DecisionSchema)
        case never
    }

    let rules: [Rule]

    // The common keywords again as plain fields, for a check that copies nothing (`conforms`).
    @exclusivity(unchecked) private var fastTypes: UInt8?
    @exclusivity(unchecked) private var fastProperties: [(String, UInt32, DecisionSchema)] = []
    @exclusivity(unchecked) private var fastRequired: [(String, UInt32)] = []
    @exclusivity(unchecked) private var fastEnum: [ZenValue]?
    @exclusivity(unchecked) private var fastMinimum: (Decimal, Bool)?
    @exclusivity(unchecked) private var fastMaximum: (Decimal, Bool)?
    @exclusivity(unchecked) private var fastMinLength: Int?
    @exclusivity(unchecked) private var fastMaxLength: Int?
    @exclusivity(unchecked) private var fastItems: DecisionSchema?
    /// Some rule is not among the fast ones: `conforms` defers to `violation`.
    @exclusivity(unchecked) private var slow = false

    static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
        "writeOnly", "format", "$defs", "definitions", "contentMediaType", "contentEncoding",
    ]

    init(_ schema: ZenValue, path: String = "#") throws(DecisionLoadError) {
        switch schema {
        case .bool(let b):
            rules = b ? [] : [.never]
            return
        case .object:
            break
        default:
            throw DecisionLoadError(feature: "schema", message: "schema at \(path) is not an object")
        }
        guard case .object(let o) = schema else { fatalError() }
        var rules: [Rule] = []
        func number(_ key: String) throws(DecisionLoadError) -> Decimal {
            guard case .number(let n)? = o[key] else {
                throw DecisionLoadError(feature: "schema", message: "schema keyword \(key) at \(path) must be a number")
            }
            return n
        }
        func count(_ key: String) throws(DecisionLoadError) -> Int {
            let n = try number(key)
            guard let i = ZenNumber.toInt(n), i >= 0 else {
                throw DecisionLoadError(feature: "schema", message: "schema keyword \(key) at \(path) must be a count")
            }
            return i
        }
        func regex(_ key: String, _ p: String) throws(DecisionLoadError) -> NSRegularExpression {
            guard let re = try? NSRegularExpression(pattern: p) else {
                throw DecisionLoadError(feature: "schema", message: "invalid \(key) `\(p)` at \(path)")
            }
            return re
        }
        var patternRegexes: [NSRegularExpression] = []
        for (key, value) in o {
            switch key {
            case _ where DecisionSchema.annotations.contains(key):
                continue
            case "type":
                var set = Set<String>()
                switch value {
                case .string(let s): set.insert(s)
                case .array(let a):
                    for t in a { if case .string(let s) = t { set.insert(s) } }
                default: throw DecisionLoadError(feature: "schema", message: "invalid type at \(path)")
                }
                var mask: UInt8 = 0
                for t in set {
                    guard let bit = DecisionSchema.typeBit(t) else {
                        throw DecisionLoadError(feature: "schema", message: "unknown type `\(t)` at \(path)")
                    }
                    mask |= bit
                }
                rules.append(.types(mask, set.sorted()))
            case "properties":
                guard case .object(let props) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid properties at \(path)")
                }
                var list: [(String, DecisionSchema)] = []
                for (name, sub) in props {
                    list.append((name, try DecisionSchema(sub, path: "\(path)/properties/\(name)")))
                }
                var required = Set<String>()
                if case .array(let names)? = o["required"] { required = Set(names.compactMap { $0.stringValue }) }
                rules.append(.properties(list, required: required))
            case "patternProperties":
                guard case .object(let props) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid patternProperties at \(path)")
                }
                var list: [(NSRegularExpression, DecisionSchema)] = []
                for (p, sub) in props {
                    let re = try regex("patternProperties", p)
                    patternRegexes.append(re)
                    list.append((re, try DecisionSchema(sub, path: "\(path)/patternProperties/\(p)")))
                }
                rules.append(.patternProperties(list))
            case "additionalProperties":
                continue  // handled below, once properties are known
            case "required":
                guard case .array(let a) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid required at \(path)")
                }
                rules.append(.required(a.compactMap { $0.stringValue }))
            case "enum":
                guard case .array(let a) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid enum at \(path)")
                }
                rules.append(.enumeration(a))
            case "const": rules.append(.constant(value))
            case "minimum": rules.append(.minimum(try number(key), exclusive: false))
            case "maximum": rules.append(.maximum(try number(key), exclusive: false))
            case "exclusiveMinimum": rules.append(.minimum(try number(key), exclusive: true))
            case "exclusiveMaximum": rules.append(.maximum(try number(key), exclusive: true))
            case "multipleOf": rules.append(.multipleOf(try number(key)))
            case "items":
                if case .array(let a) = value {
                    var list: [DecisionSchema] = []
                    for (i, s) in a.enumerated() { list.append(try DecisionSchema(s, path: "\(path)/items/\(i)")) }
                    rules.append(.prefixItems(list))
                } else {
                    rules.append(.items(try DecisionSchema(value, path: "\(path)/items")))
                }
            case "prefixItems":
                guard case .array(let a) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid prefixItems at \(path)")
                }
                var list: [DecisionSchema] = []
                for (i, s) in a.enumerated() { list.append(try DecisionSchema(s, path: "\(path)/prefixItems/\(i)")) }
                rules.append(.prefixItems(list))
            case "contains": rules.append(.contains(try DecisionSchema(value, path: "\(path)/contains")))
            case "minItems": rules.append(.minItems(try count(key)))
            case "maxItems": rules.append(.maxItems(try count(key)))
            case "uniqueItems": if value == .bool(true) { rules.append(.uniqueItems) }
            case "minLength": rules.append(.minLength(try count(key)))
            case "maxLength": rules.append(.maxLength(try count(key)))
            case "minProperties": rules.append(.minProperties(try count(key)))
            case "maxProperties": rules.append(.maxProperties(try count(key)))
            case "pattern":
                guard case .string(let p) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid pattern at \(path)")
                }
                rules.append(.pattern(try regex(key, p), p))
            case "allOf", "anyOf", "oneOf":
                guard case .array(let a) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid \(key) at \(path)")
                }
                var list: [DecisionSchema] = []
                for (i, s) in a.enumerated() { list.append(try DecisionSchema(s, path: "\(path)/\(key)/\(i)")) }
                rules.append(key == "allOf" ? .allOf(list) : key == "anyOf" ? .anyOf(list) : .oneOf(list))
            case "not": rules.append(.not(try DecisionSchema(value, path: "\(path)/not")))
            default:
                throw DecisionLoadError(
                    feature: "schema keyword \(key)",
                    message: "JSON Schema keyword `\(key)` at \(path) is not supported")
            }
        }
        if let additional = o["additionalProperties"] {
            var known = Set<String>()
            if case .object(let props)? = o["properties"] { known = Set(props.keys) }
            switch additional {
            case .bool(let b):
                if !b {
                    rules.append(.additionalProperties(nil, allowed: false, known: known, patterns: patternRegexes))
                }
            default:
                rules.append(
                    .additionalProperties(
                        try DecisionSchema(additional, path: "\(path)/additionalProperties"), allowed: true,
                        known: known, patterns: patternRegexes))
            }
        }
        self.rules = rules
        for rule in rules {
            switch rule {
            case .types(let mask, _): fastTypes = mask
            case .properties(let list, _): fastProperties = list.map { ($0.0, ZenObject.hash($0.0), $0.1) }
            case .required(let names): fastRequired = names.map { ($0, ZenObject.hash($0)) }
            case .enumeration(let values): fastEnum = values
            case .minimum(let m, let e): fastMinimum = (m, e)
            case .maximum(let m, let e): fastMaximum = (m, e)
            case .minLength(let n): fastMinLength = n
            case .maxLength(let n): fastMaxLength = n
            case .items(let sub): fastItems = sub
            default: slow = true
            }
        }
    }

    /// Whether `value` conforms, without building any message (the common path).
    func conforms(_ value: ZenValue) -> Bool {
        if slow { return violation(value) == nil }
        if let mask = fastTypes, !DecisionSchema.typeMatches(value, mask: mask) { return false }
        switch value {
        case .object(let o):
            let requiredOK = fastRequired.withUnsafeBufferPointer { required in
                for i in 0..<required.count where o.index(of: required[i].0, hash: required[i].1) == nil {
                    return false
                }
                return true
            }
            if !requiredOK { return false }
            let propertiesOK = fastProperties.withUnsafeBufferPointer { props in
                for i in 0..<props.count {
                    let ok = o.withValue(props[i].0, hash: props[i].1) { v -> Bool in
                        guard let v else { return true }
                        if case .null = v, !fastRequired.contains(where: { $0.1 == props[i].1 && $0.0 == props[i].0 }) {
                            return true
                        }
                        return props[i].2.conforms(v)
                    }
                    if !ok { return false }
                }
                return true
            }
            if !propertiesOK { return false }
        case .number(let n):
            if let (m, exclusive) = fastMinimum {
                let c = ZenNumber.compare(n, m)
                if exclusive ? c <= 0 : c < 0 { return false }
            }
            if let (m, exclusive) = fastMaximum {
                let c = ZenNumber.compare(n, m)
                if exclusive ? c >= 0 : c > 0 { return false }
            }
        case .string(let str):
            if fastMinLength != nil || fastMaxLength != nil {
                let n = str.unicodeScalars.count
                if let min = fastMinLength, n < min { return false }
                if let max = fastMaxLength, n > max { return false }
            }
        case .array(let items):
            if let sub = fastItems {
                for item in items where !sub.conforms(item) { return false }
            }
        default: break
        }
        if let values = fastEnum, !values.contains(where: { DecisionSchema.jsonEqual($0, value) }) { return false }
        return true
    }

    static func typeBit(_ t: String) -> UInt8? {
        switch t {
        case "null": return 1
        case "boolean": return 2
        case "number": return 4
        case "integer": return 8
        case "string": return 16
        case "array": return 32
        case "object": return 64
        default: return nil
        }
    }

    @inline(__always)
    static func typeMatches(_ v: ZenValue, mask: UInt8) -> Bool {
        switch v {
        case .null: return mask & 1 != 0
        case .bool: return mask & 2 != 0
        case .number(let n):
            if mask & 4 != 0 { return true }
            guard mask & 8 != 0 else { return false }
            if let p = ZenNumber.parts(n), p.exponent >= 0 { return true }
            return ZenNumber.compare(ZenNumber.truncated(n), n) == 0
        case .string: return mask & 16 != 0
        case .array: return mask & 32 != 0
        case .object(let o): return ZenDate.isDateObject(o) ? mask & 16 != 0 : mask & 64 != 0
        }
    }

    static func typeMatches(_ v: ZenValue, _ t: String) -> Bool {
        switch (t, v) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
            ("object", .object):
            return true
        case ("integer", .number(let n)): return ZenNumber.truncated(n) == n
        default: return false
        }
    }

    /// nil when `value` conforms; otherwise the first violation found.
    func violation(_ value: ZenValue) -> String? { violation(value, path: { "" }) }

    /// The path is only built when a violation is reported (checking must not allocate).
    func violation(_ value: ZenValue, path: () -> String) -> String? {
        func here() -> String {
            let p = path()
            return p.isEmpty ? "/" : p
        }
        for rule in rules {
            switch rule {
            case .never: return "\(here()): no value is allowed"
            case .types(let mask, let names):
                if !DecisionSchema.typeMatches(value, mask: mask) {
                    return
                        "\(here()): \(ZenJSON.serialize(value)) is not of type \(names.map { "\"\($0)\"" }.joined(separator: ", "))"
                }
            case .properties(let props, let required):
                guard case .object(let o) = value else { continue }
                for (name, schema) in props {
                    guard let v = o[name] else { continue }
                    if v.isNull && !required.contains(name) { continue }
                    if let e = schema.violation(v, path: { "\(path())/\(name)" }) { return e }
                }
            case .patternProperties(let list):
                guard case .object(let o) = value else { continue }
                for (k, v) in o {
                    for (re, schema) in list where DecisionSchema.matches(re, k) {
                        if let e = schema.violation(v, path: { "\(path())/\(k)" }) { return e }
                    }
                }
            case .additionalProperties(let schema, let allowed, let known, let patterns):
                guard case .object(let o) = value else { continue }
                for (k, v) in o where !known.contains(k) && !patterns.contains(where: { DecisionSchema.matches($0, k) })
                {
                    if !allowed { return "\(here()): additional property \"\(k)\" is not allowed" }
                    if let schema, let e = schema.violation(v, path: { "\(path())/\(k)" }) { return e }
                }
            case .required(let names):
                guard case .object(let o) = value else { continue }
                for n in names where o[n] == nil { return "\(here()): \"\(n)\" is a required property" }
            case .enumeration(let values):
                if !values.contains(where: { DecisionSchema.jsonEqual($0, value) }) {
                    return "\(here()): \(ZenJSON.serialize(value)) is not one of \(ZenJSON.serialize(.array(values)))"
                }
            case .constant(let c):
                if !DecisionSchema.jsonEqual(c, value) { return "\(here()): \(ZenJSON.serialize(c)) was expected" }
            case .minimum(let m, let exclusive):
                guard case .number(let n) = value else { continue }
                let c = ZenNumber.compare(n, m)
                if exclusive ? c <= 0 : c < 0 {
                    return
                        "\(here()): \(ZenNumber.format(n)) is less than \(exclusive ? "or equal to " : "")the minimum of \(ZenNumber.format(m))"
                }
            case .maximum(let m, let exclusive):
                guard case .number(let n) = value else { continue }
                let c = ZenNumber.compare(n, m)
                if exclusive ? c >= 0 : c > 0 {
                    return
                        "\(here()): \(ZenNumber.format(n)) is greater than \(exclusive ? "or equal to " : "")the maximum of \(ZenNumber.format(m))"
                }
            case .multipleOf(let m):
                guard case .number(let n) = value, !m.isZero else { continue }
                if let r = ZenNumber.remainder(n, m), !r.isZero {
                    return "\(here()): \(ZenNumber.format(n)) is not a multiple of \(ZenNumber.format(m))"
                }
            case .items(let schema):
                guard case .array(let a) = value else { continue }
                for (i, item) in a.enumerated() {
                    if let e = schema.violation(item, path: { "\(path())/\(i)" }) { return e }
                }
            case .prefixItems(let list):
                guard case .array(let a) = value else { continue }
                for (i, item) in a.enumerated() where i < list.count {
                    if let e = list[i].violation(item, path: { "\(path())/\(i)" }) { return e }
                }
            case .contains(let schema):
                guard case .array(let a) = value else { continue }
                if !a.contains(where: { schema.violation($0) == nil }) {
                    return "\(here()): no item matches the `contains` schema"
                }
            case .minItems(let n):
                if case .array(let a) = value, a.count < n { return "\(here()): has fewer than \(n) items" }
            case .maxItems(let n):
                if case .array(let a) = value, a.count > n { return "\(here()): has more than \(n) items" }
            case .uniqueItems:
                if case .array(let a) = value {
                    for i in a.indices {
                        for j in a.indices where j > i && DecisionSchema.jsonEqual(a[i], a[j]) {
                            return "\(here()): has non-unique elements"
                        }
                    }
                }
            case .minLength(let n):
                if case .string(let s) = value, s.unicodeScalars.count < n {
                    return "\(here()): \"\(s)\" is shorter than \(n) characters"
                }
            case .maxLength(let n):
                if case .string(let s) = value, s.unicodeScalars.count > n {
                    return "\(here()): \"\(s)\" is longer than \(n) characters"
                }
            case .pattern(let re, let p):
                if case .string(let s) = value, !DecisionSchema.matches(re, s) {
                    return "\(here()): \"\(s)\" does not match \"\(p)\""
                }
            case .minProperties(let n):
                if case .object(let o) = value, o.count < n { return "\(here()): has fewer than \(n) properties" }
            case .maxProperties(let n):
                if case .object(let o) = value, o.count > n { return "\(here()): has more than \(n) properties" }
            case .allOf(let list):
                for s in list { if let e = s.violation(value, path: path) { return e } }
            case .anyOf(let list):
                if !list.contains(where: { $0.violation(value, path: path) == nil }) {
                    return "\(here()): does not match any of the allowed schemas"
                }
            case .oneOf(let list):
                let n = list.filter { $0.violation(value, path: path) == nil }.count
                if n != 1 { return "\(here()): must match exactly one schema (matches \(n))" }
            case .not(let s):
                if s.violation(value, path: path) == nil { return "\(here()): matches a schema it must not match" }
            }
        }
        return nil
    }

    static func matches(_ re: NSRegularExpression, _ s: String) -> Bool {
        re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    /// JSON equality (numbers by value, objects regardless of key order).
    static func jsonEqual(_ a: ZenValue, _ b: ZenValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return ZenNumber.equal(x, y)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], jsonEqual(v, w) else { return false }
            }
            return true
        default: return a == b
        }
    }
}
