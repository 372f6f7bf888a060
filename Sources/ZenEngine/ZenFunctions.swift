import Foundation

typealias ZenFunction = ([ZenValue]) throws(ZenEvaluationError) -> ZenValue
typealias ZenFunction1 = (ZenValue) throws(ZenEvaluationError) -> ZenValue

typealias ZenClockFunction = ([ZenValue], Int64?) throws(ZenEvaluationError) -> ZenValue

struct ZenFunctionEntry {
    let minArgs: Int
    let maxArgs: Int
    let function: ZenFunction
    let unary: ZenFunction1?
    /// For functions that may read the current time: the evaluation's clock is passed in.
    var clock: ZenClockFunction? = nil
}

/// The built-in functions of the ZEN language (zen-engine 2.x names and behaviour).
enum ZenFunctionTable {
    static let closureFunctions: Set<String> = ["all", "none", "some", "one", "filter", "map", "flatMap", "count"]

    static func closureKind(_ name: String) -> ZClosureKind? {
        switch name {
        case "all": return .all
        case "none": return .noneOf
        case "some": return .some
        case "one": return .one
        case "filter": return .filter
        case "map": return .map
        case "flatMap": return .flatMap
        case "count": return .count
        default: return nil
        }
    }

    static func isKnown(_ name: String) -> Bool {
        closureFunctions.contains(name) || entries[name] != nil
    }

    static func entry(_ name: String) -> ZenFunctionEntry? { entries[name] }

    private static func one(_ f: @escaping ZenFunction1) -> ZenFunctionEntry {
        ZenFunctionEntry(
            minArgs: 1, maxArgs: 1,
            function: { (args) throws(ZenEvaluationError) in try f(args[0]) }, unary: f)
    }

    private static func many(_ min: Int, _ max: Int, _ f: @escaping ZenFunction) -> ZenFunctionEntry {
        ZenFunctionEntry(minArgs: min, maxArgs: max, function: f, unary: nil)
    }

    nonisolated(unsafe) static let entries: [String: ZenFunctionEntry] = {
        typealias F = ZenFunctions
        var t: [String: ZenFunctionEntry] = [:]
        t["len"] = one { (v) throws(ZenEvaluationError) in .number(try F.len(v)) }
        t["contains"] = many(2, 2) { (a) throws(ZenEvaluationError) in try F.contains(a[0], a[1]) }
        t["flatten"] = one { (v) throws(ZenEvaluationError) in try F.flatten(v) }
        t["merge"] = one { (v) throws(ZenEvaluationError) in try F.merge(v) }
        t["mergeDeep"] = one { (v) throws(ZenEvaluationError) in try F.mergeDeep(v) }
        t["upper"] = one { (v) throws(ZenEvaluationError) in .string(try F.str(v, 0).uppercased()) }
        t["lower"] = one { (v) throws(ZenEvaluationError) in .string(try F.str(v, 0).lowercased()) }
        t["trim"] = one { (v) throws(ZenEvaluationError) in
            .string(try F.str(v, 0).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        t["startsWith"] = many(2, 2) { (a) throws(ZenEvaluationError) in
            .bool(try F.str(a[0], 0).hasPrefix(try F.str(a[1], 1)))
        }
        t["endsWith"] = many(2, 2) { (a) throws(ZenEvaluationError) in
            .bool(try F.str(a[0], 0).hasSuffix(try F.str(a[1], 1)))
        }
        t["matches"] = many(2, 2) { (a) throws(ZenEvaluationError) in
            .bool(try ZenRegex.get(try F.str(a[1], 1)).matches(try F.str(a[0], 0)))
        }
        t["extract"] = many(2, 2) { (a) throws(ZenEvaluationError) in
            try ZenRegex.get(try F.str(a[1], 1)).extract(try F.str(a[0], 0))
        }
        t["split"] = many(2, 2) { (a) throws(ZenEvaluationError) in
            F.split(try F.str(a[0], 0), try F.str(a[1], 1))
        }
        t["fuzzyMatch"] = many(2, 2) { (a) throws(ZenEvaluationError) in try F.fuzzyMatch(a[0], try F.str(a[1], 1)) }
        t["abs"] = one { (v) throws(ZenEvaluationError) in .number(abs(try F.num(v, 0))) }
        t["sum"] = one { (v) throws(ZenEvaluationError) in .number(try F.total(try F.numbers(v))) }
        t["avg"] = one { (v) throws(ZenEvaluationError) in
            let n = try F.numbers(v)
            guard let r = ZenNumber.divide(try F.total(n), Decimal(n.count)) else {
                throw ZenEvaluationError("Empty array")
            }
            return .number(r)
        }
        t["min"] = one { (v) throws(ZenEvaluationError) in try F.extreme(v, wantMax: false) }
        t["max"] = one { (v) throws(ZenEvaluationError) in try F.extreme(v, wantMax: true) }
        t["rand"] = one { (v) throws(ZenEvaluationError) in
            let n = try F.num(v, 0)
            guard let upper = ZenNumber.toInt(ZenNumber.round(n)), upper >= 0 else {
                throw ZenEvaluationError("Invalid upper range")
            }
            return .number(Decimal(Int.random(in: 0...upper)))
        }
        t["median"] = one { (v) throws(ZenEvaluationError) in try F.median(v) }
        t["mode"] = one { (v) throws(ZenEvaluationError) in try F.mode(v) }
        t["floor"] = one { (v) throws(ZenEvaluationError) in .number(ZenNumber.floor(try F.num(v, 0))) }
        t["ceil"] = one { (v) throws(ZenEvaluationError) in .number(ZenNumber.ceil(try F.num(v, 0))) }
        t["round"] = many(1, 2) { (a) throws(ZenEvaluationError) in
            .number(ZenNumber.round(try F.num(a[0], 0), scale: try F.places(a)))
        }
        t["trunc"] = many(1, 2) { (a) throws(ZenEvaluationError) in
            .number(ZenNumber.truncated(try F.num(a[0], 0), scale: try F.places(a)))
        }
        t["isNumeric"] = one { (v) throws(ZenEvaluationError) in
            switch v {
            case .number: return .bool(true)
            case .string(let s): return .bool(F.parseNumber(s) != nil)
            default: return .bool(false)
            }
        }
        t["string"] = one { (v) throws(ZenEvaluationError) in .string(try F.toStringValue(v)) }
        t["number"] = one { (v) throws(ZenEvaluationError) in try F.toNumber(v) }
        t["bool"] = one { (v) throws(ZenEvaluationError) in .bool(F.toBool(v)) }
        t["type"] = one { (v) throws(ZenEvaluationError) in .string(v.typeName) }
        t["keys"] = one { (v) throws(ZenEvaluationError) in
            switch v {
            case .array(let a): return .array(a.indices.map { .number(Decimal($0)) })
            case .object(let o): return .array(o.keys.map { .string($0) })
            default: throw ZenEvaluationError("Cannot determine keys of type \(v.typeName)")
            }
        }
        t["values"] = one { (v) throws(ZenEvaluationError) in
            guard case .object(let o) = v else {
                throw ZenEvaluationError("Argument on 0 position is not a valid object")
            }
            return .array(o.values)
        }
        func clocked(_ min: Int, _ max: Int, _ f: @escaping ZenClockFunction) -> ZenFunctionEntry {
            ZenFunctionEntry(
                minArgs: min, maxArgs: max, function: { (a) throws(ZenEvaluationError) in try f(a, nil) }, unary: nil,
                clock: f)
        }
        t["d"] = clocked(0, 2) { (a, now) throws(ZenEvaluationError) in try ZenDateFunctions.d(a, now: now) }
        // zen-engine 2.x keeps the 1.x date helpers (they work on unix seconds).
        t["date"] = clocked(1, 1) { (a, now) throws(ZenEvaluationError) in
            try ZenDateFunctions.legacyDate(a[0], now: now)
        }
        t["time"] = clocked(1, 1) { (a, now) throws(ZenEvaluationError) in
            try ZenDateFunctions.legacyTime(a[0], now: now)
        }
        t["duration"] = one { (v) throws(ZenEvaluationError) in try ZenDateFunctions.legacyDuration(v) }
        for name in [
            "year", "dayOfWeek", "dayOfMonth", "dayOfYear", "weekOfYear", "monthOfYear", "monthString",
            "dateString", "weekdayString",
        ] {
            t[name] = clocked(1, 1) { (a, now) throws(ZenEvaluationError) in
                try ZenDateFunctions.legacyPart(name, a[0], now: now)
            }
        }
        t["startOf"] = clocked(2, 2) { (a, now) throws(ZenEvaluationError) in
            try ZenDateFunctions.legacyStartEnd(a[0], try F.str(a[1], 1), end: false, now: now)
        }
        t["endOf"] = clocked(2, 2) { (a, now) throws(ZenEvaluationError) in
            try ZenDateFunctions.legacyStartEnd(a[0], try F.str(a[1], 1), end: true, now: now)
        }
        return t
    }()
}

enum ZenFunctions {
    static func str(_ v: ZenValue, _ pos: Int) throws(ZenEvaluationError) -> String {
        guard case .string(let s) = v else {
            throw ZenEvaluationError("Argument on \(pos) position is not a valid string")
        }
        return s
    }

    static func num(_ v: ZenValue, _ pos: Int) throws(ZenEvaluationError) -> Decimal {
        guard case .number(let n) = v else {
            throw ZenEvaluationError("Argument on \(pos) position is not a valid number")
        }
        return n
    }

    static func places(_ a: [ZenValue]) throws(ZenEvaluationError) -> Int {
        guard a.count > 1 else { return 0 }
        guard case .number(let n) = a[1] else { throw ZenEvaluationError("Argument on 1 is not a number") }
        guard n >= 0, let i = ZenNumber.toInt(n) else { throw ZenEvaluationError("Invalid number of decimal places") }
        return min(i, 28)
    }

    static func numbers(_ v: ZenValue) throws(ZenEvaluationError) -> [Decimal] {
        guard case .array(let a) = v else { throw ZenEvaluationError("Argument on 0 position is not a valid array") }
        var out: [Decimal] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard case .number(let n) = item else { throw ZenEvaluationError("Expected a number array") }
            out.append(n)
        }
        return out
    }

    static func total(_ numbers: [Decimal]) throws(ZenEvaluationError) -> Decimal {
        var acc = ZenNumber.zero
        for n in numbers {
            guard let r = ZenNumber.add(acc, n) else { throw ZenEvaluationError("Number overflow") }
            acc = r
        }
        return acc
    }

    static func len(_ v: ZenValue) throws(ZenEvaluationError) -> Decimal {
        switch v {
        case .string(let s): return Decimal(s.utf8.count)
        case .array(let a): return Decimal(a.count)
        default: throw ZenEvaluationError("Cannot determine len of type \(v.typeName)")
        }
    }

    /// Bytes `from...to` of a string, when they fall on character boundaries (Rust's `str::get`).
    static func byteSlice(_ s: String, _ from: Int, _ to: Int) -> ZenValue? {
        let utf8 = Array(s.utf8)
        guard from >= 0, to < utf8.count, from <= to + 1 else { return nil }
        let slice = Array(utf8[from..<(to + 1)])
        // Reject slices that cut a multi-byte character.
        if from < utf8.count && (utf8[from] & 0xC0) == 0x80 { return nil }
        if to + 1 < utf8.count && (utf8[to + 1] & 0xC0) == 0x80 { return nil }
        return .string(String(decoding: slice, as: UTF8.self))
    }

    static func contains(_ a: ZenValue, _ b: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        switch (a, b) {
        case (.string(let x), .string(let y)): return .bool(y.isEmpty || x.contains(y))
        case (.array(let arr), _):
            for item in arr {
                switch (item, b) {
                case (.number(let x), .number(let y)) where x == y: return .bool(true)
                case (.string(let x), .string(let y)) where x == y: return .bool(true)
                case (.bool(let x), .bool(let y)) where x == y: return .bool(true)
                case (.null, .null): return .bool(true)
                default: continue
                }
            }
            return .bool(false)
        default:
            throw ZenEvaluationError("Cannot determine contains for type \(a.typeName) and \(b.typeName)")
        }
    }

    static func flatten(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        guard case .array(let a) = v else { throw ZenEvaluationError("Argument on 0 position is not a valid array") }
        var out: [ZenValue] = []
        for item in a {
            if case .array(let inner) = item { out.append(contentsOf: inner) } else { out.append(item) }
        }
        return .array(out)
    }

    static func merge(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        guard case .array(let a) = v else { throw ZenEvaluationError("Argument on 0 position is not a valid array") }
        guard let first = a.first(where: { !$0.isNull }) else { return .object(ZenObject()) }
        switch first {
        case .array:
            var out: [ZenValue] = []
            for item in a {
                switch item {
                case .array(let inner): out.append(contentsOf: inner)
                case .null: continue
                default: throw ZenEvaluationError("Expected array of arrays")
                }
            }
            return .array(out)
        case .object:
            var out = ZenObject()
            for item in a {
                switch item {
                case .object(let o): for (k, val) in o { out[k] = val }
                case .null: continue
                default: throw ZenEvaluationError("Expected array of objects")
                }
            }
            return .object(out)
        default:
            throw ZenEvaluationError("merge expects an array of arrays or objects, got \(first.typeName)")
        }
    }

    static func mergeDeep(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        guard case .array(let a) = v else { throw ZenEvaluationError("Argument on 0 position is not a valid array") }
        var result: ZenValue = .object(ZenObject())
        for item in a {
            switch item {
            case .object: result = deepMerge(result, item)
            case .null: continue
            default: throw ZenEvaluationError("Expected array of objects")
            }
        }
        return result
    }

    static func deepMerge(_ base: ZenValue, _ patch: ZenValue) -> ZenValue {
        switch (base, patch) {
        case (.object(var a), .object(let b)):
            for (k, v) in b { a[k] = a[k].map { deepMerge($0, v) } ?? v }
            return .object(a)
        case (.array(let a), .array(let b)): return .array(a + b)
        default: return patch
        }
    }

    static func split(_ s: String, _ sep: String) -> ZenValue {
        if sep.isEmpty {
            // Rust yields an empty string at both ends and every character in between.
            var parts: [ZenValue] = [.string("")]
            for c in s { parts.append(.string(String(c))) }
            parts.append(.string(""))
            return .array(parts)
        }
        return .array(s.components(separatedBy: sep).map { .string($0) })
    }

    static func extreme(_ v: ZenValue, wantMax: Bool) throws(ZenEvaluationError) -> ZenValue {
        guard case .array(let a) = v else { throw ZenEvaluationError("Argument on 0 position is not a valid array") }
        if case .number? = a.first {
            var best: Decimal?
            for item in a {
                guard case .number(let n) = item else { throw ZenEvaluationError("Expected a number array") }
                if let b = best {
                    let c = ZenNumber.compare(n, b)
                    if wantMax ? c > 0 : c < 0 { best = n }
                } else {
                    best = n
                }
            }
            guard let r = best else { throw ZenEvaluationError("Empty array") }
            return .number(r)
        }
        var dates: [(ZenDate, ZenValue)] = []
        for item in a {
            guard let d = ZenDate(value: item) else { throw ZenEvaluationError("Expected a number array") }
            dates.append((d, item))
        }
        guard !dates.isEmpty else { throw ZenEvaluationError("Empty array") }
        var best = dates[0]
        for d in dates.dropFirst() where wantMax ? d.0 >= best.0 : d.0 < best.0 { best = d }
        return best.1
    }

    static func median(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        let a = try numbers(v).sorted()
        guard !a.isEmpty else { throw ZenEvaluationError("Index out of bounds") }
        let c = a.count / 2
        if a.count % 2 == 1 { return .number(a[c]) }
        guard let s = ZenNumber.add(a[c - 1], a[c]) else { throw ZenEvaluationError("Number overflow") }
        return .number(ZenNumber.divide(s, 2)!)
    }

    static func mode(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        let a = try numbers(v)
        guard !a.isEmpty else { throw ZenEvaluationError("Empty array") }
        var counts: [Decimal: Int] = [:]
        for n in a { counts[n, default: 0] += 1 }
        // Rust iterates the counts in ascending order and keeps the last maximum.
        let best = counts.sorted { $0.key < $1.key }.reduce(nil as (Decimal, Int)?) { acc, e in
            guard let acc else { return (e.key, e.value) }
            return e.value >= acc.1 ? (e.key, e.value) : acc
        }
        return .number(best!.0)
    }

    static func parseNumber(_ s: String) -> Decimal? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty, !t.contains("_") else { return nil }
        return ZenNumber.parse(t)
    }

    static func toNumber(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        switch v {
        case .number: return v
        case .string(let s):
            guard let n = parseNumber(s) else { throw ZenEvaluationError("Invalid number") }
            return .number(n)
        case .bool(let b): return .number(b ? 1 : 0)
        default: throw ZenEvaluationError("Cannot convert type \(v.typeName) to number")
        }
    }

    static func toBool(_ v: ZenValue) -> Bool {
        switch v {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return !n.isZero
        case .array, .object: return true
        case .string(let s):
            switch s.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "true": return true
            case "false": return false
            default: return s.isEmpty
            }
        }
    }

    static func toStringValue(_ v: ZenValue) throws(ZenEvaluationError) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return ZenNumber.format(n)
        case .string(let s): return s
        case .object(let o):
            if let d = ZenDate(object: o) { return d.isoString }
            throw ZenEvaluationError("Cannot convert type object to string")
        case .array: throw ZenEvaluationError("Cannot convert type array to string")
        }
    }

    static func displayString(_ v: ZenValue) -> String {
        (try? toStringValue(v)) ?? ZenJSON.serialize(v)
    }

    static func fuzzyMatch(_ a: ZenValue, _ b: String) throws(ZenEvaluationError) -> ZenValue {
        switch a {
        case .string(let s): return .number(ZenNumber.fromDouble(similarity(s, b)))
        case .array(let arr):
            var out: [ZenValue] = []
            for item in arr {
                guard case .string(let s) = item else { throw ZenEvaluationError("Expected string array") }
                out.append(.number(ZenNumber.fromDouble(similarity(s, b))))
            }
            return .array(out)
        default: throw ZenEvaluationError("Fuzzy match not available for type")
        }
    }

    /// Normalized Damerau-Levenshtein similarity (strsim's `normalized_damerau_levenshtein`).
    static func similarity(_ a: String, _ b: String) -> Double {
        let x = Array(a)
        let y = Array(b)
        if x.isEmpty && y.isEmpty { return 1 }
        let d = damerauLevenshtein(x, y)
        return 1 - Double(d) / Double(max(x.count, y.count))
    }

    static func damerauLevenshtein(_ a: [Character], _ b: [Character]) -> Int {
        let n = a.count
        let m = b.count
        if n == 0 { return m }
        if m == 0 { return n }
        var lastRow: [Character: Int] = [:]
        let maxDist = n + m
        let width = m + 2
        var d = [Int](repeating: 0, count: (n + 2) * width)
        d[0] = maxDist
        for i in 0...n {
            d[(i + 1) * width] = maxDist
            d[(i + 1) * width + 1] = i
        }
        for j in 0...m {
            d[j + 1] = maxDist
            d[width + j + 1] = j
        }
        for i in 1...n {
            var lastMatch = 0
            for j in 1...m {
                let k = lastRow[b[j - 1]] ?? 0
                let l = lastMatch
                let cost: Int
                if a[i - 1] == b[j - 1] {
                    cost = 0
                    lastMatch = j
                } else {
                    cost = 1
                }
                let substitution = d[i * width + j] + cost
                let insertion = d[(i + 1) * width + j] + 1
                let deletion = d[i * width + j + 1] + 1
                let transposition = d[k * width + l] + (i - k - 1) + 1 + (j - l - 1)
                d[(i + 1) * width + j + 1] = min(substitution, insertion, deletion, transposition)
            }
            lastRow[a[i - 1]] = i
        }
        return d[(n + 1) * width + m + 1]
    }
}

/// Compiled regular expressions, shared (patterns in policies are few and fixed).
final class ZenRegex: @unchecked Sendable {
    let regex: NSRegularExpression

    init(_ regex: NSRegularExpression) { self.regex = regex }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: ZenRegex] = [:]

    static func get(_ pattern: String) throws(ZenEvaluationError) -> ZenRegex {
        lock.lock()
        defer { lock.unlock() }
        if let r = cache[pattern] { return r }
        guard let re = try? NSRegularExpression(pattern: pattern) else {
            throw ZenEvaluationError("Invalid regular expression")
        }
        let r = ZenRegex(re)
        if cache.count > 256 { cache.removeAll() }
        cache[pattern] = r
        return r
    }

    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    func extract(_ s: String) -> ZenValue {
        guard let m = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return .array([]) }
        var out: [ZenValue] = []
        for i in 0..<m.numberOfRanges {
            let r = m.range(at: i)
            guard r.location != NSNotFound, let range = Range(r, in: s) else { continue }
            out.append(.string(String(s[range])))
        }
        return .array(out)
    }
}
