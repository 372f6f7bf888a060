import Foundation

/// A JSON Schema checked on an input or output node. Supports the common
/// validation keywords; a keyword it cannot check is refused when the graph loads.
final class DecisionSchema: @unchecked Sendable {
    enum Rule {
        case types(Set<String>)
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
                rules.append(.types(set))
            case "properties":
                guard case .object(let props) = value else {
                    throw DecisionLoadError(feature: "schema", message: "invalid properties at \(path)")
                }
                var list: [(String, DecisionSchema)] = []
                for (name, sub) in props { list.append((name, try DecisionSchema(sub, path: "\(path)/properties/\(name)"))) }
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
                if !b { rules.append(.additionalProperties(nil, allowed: false, known: known, patterns: patternRegexes)) }
            default:
                rules.append(
                    .additionalProperties(
                        try DecisionSchema(additional, path: "\(path)/additionalProperties"), allowed: true,
                        known: known, patterns: patternRegexes))
            }
        }
        self.rules = rules
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
    func violation(_ value: ZenValue, path: String = "") -> String? {
        let here = path.isEmpty ? "/" : path
        for rule in rules {
            switch rule {
            case .never: return "\(here): no value is allowed"
            case .types(let types):
                if !types.contains(where: { DecisionSchema.typeMatches(value, $0) }) {
                    return "\(here): \(ZenJSON.serialize(value)) is not of type \(types.sorted().joined(separator: ", "))"
                }
            case .properties(let props, let required):
                guard case .object(let o) = value else { continue }
                for (name, schema) in props {
                    guard let v = o[name] else { continue }
                    if v.isNull && !required.contains(name) { continue }
                    if let e = schema.violation(v, path: "\(path)/\(name)") { return e }
                }
            case .patternProperties(let list):
                guard case .object(let o) = value else { continue }
                for (k, v) in o {
                    for (re, schema) in list where DecisionSchema.matches(re, k) {
                        if let e = schema.violation(v, path: "\(path)/\(k)") { return e }
                    }
                }
            case .additionalProperties(let schema, let allowed, let known, let patterns):
                guard case .object(let o) = value else { continue }
                for (k, v) in o where !known.contains(k) && !patterns.contains(where: { DecisionSchema.matches($0, k) }) {
                    if !allowed { return "\(here): additional property \"\(k)\" is not allowed" }
                    if let schema, let e = schema.violation(v, path: "\(path)/\(k)") { return e }
                }
            case .required(let names):
                guard case .object(let o) = value else { continue }
                for n in names where o[n] == nil { return "\(here): \"\(n)\" is a required property" }
            case .enumeration(let values):
                if !values.contains(where: { DecisionSchema.jsonEqual($0, value) }) {
                    return "\(here): \(ZenJSON.serialize(value)) is not one of \(ZenJSON.serialize(.array(values)))"
                }
            case .constant(let c):
                if !DecisionSchema.jsonEqual(c, value) { return "\(here): \(ZenJSON.serialize(c)) was expected" }
            case .minimum(let m, let exclusive):
                guard case .number(let n) = value else { continue }
                if exclusive ? !(n > m) : n < m {
                    return "\(here): \(ZenNumber.format(n)) is less than \(exclusive ? "or equal to " : "")the minimum of \(ZenNumber.format(m))"
                }
            case .maximum(let m, let exclusive):
                guard case .number(let n) = value else { continue }
                if exclusive ? !(n < m) : n > m {
                    return "\(here): \(ZenNumber.format(n)) is greater than \(exclusive ? "or equal to " : "")the maximum of \(ZenNumber.format(m))"
                }
            case .multipleOf(let m):
                guard case .number(let n) = value, !m.isZero else { continue }
                if let r = ZenNumber.remainder(n, m), !r.isZero {
                    return "\(here): \(ZenNumber.format(n)) is not a multiple of \(ZenNumber.format(m))"
                }
            case .items(let schema):
                guard case .array(let a) = value else { continue }
                for (i, item) in a.enumerated() {
                    if let e = schema.violation(item, path: "\(path)/\(i)") { return e }
                }
            case .prefixItems(let list):
                guard case .array(let a) = value else { continue }
                for (i, item) in a.enumerated() where i < list.count {
                    if let e = list[i].violation(item, path: "\(path)/\(i)") { return e }
                }
            case .contains(let schema):
                guard case .array(let a) = value else { continue }
                if !a.contains(where: { schema.violation($0) == nil }) {
                    return "\(here): no item matches the `contains` schema"
                }
            case .minItems(let n):
                if case .array(let a) = value, a.count < n { return "\(here): has fewer than \(n) items" }
            case .maxItems(let n):
                if case .array(let a) = value, a.count > n { return "\(here): has more than \(n) items" }
            case .uniqueItems:
                if case .array(let a) = value {
                    for i in a.indices {
                        for j in a.indices where j > i && DecisionSchema.jsonEqual(a[i], a[j]) {
                            return "\(here): has non-unique elements"
                        }
                    }
                }
            case .minLength(let n):
                if case .string(let s) = value, s.unicodeScalars.count < n {
                    return "\(here): \"\(s)\" is shorter than \(n) characters"
                }
            case .maxLength(let n):
                if case .string(let s) = value, s.unicodeScalars.count > n {
                    return "\(here): \"\(s)\" is longer than \(n) characters"
                }
            case .pattern(let re, let p):
                if case .string(let s) = value, !DecisionSchema.matches(re, s) {
                    return "\(here): \"\(s)\" does not match \"\(p)\""
                }
            case .minProperties(let n):
                if case .object(let o) = value, o.count < n { return "\(here): has fewer than \(n) properties" }
            case .maxProperties(let n):
                if case .object(let o) = value, o.count > n { return "\(here): has more than \(n) properties" }
            case .allOf(let list):
                for s in list { if let e = s.violation(value, path: path) { return e } }
            case .anyOf(let list):
                if !list.contains(where: { $0.violation(value, path: path) == nil }) {
                    return "\(here): does not match any of the allowed schemas"
                }
            case .oneOf(let list):
                let n = list.filter { $0.violation(value, path: path) == nil }.count
                if n != 1 { return "\(here): must match exactly one schema (matches \(n))" }
            case .not(let s):
                if s.violation(value, path: path) == nil { return "\(here): matches a schema it must not match" }
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
