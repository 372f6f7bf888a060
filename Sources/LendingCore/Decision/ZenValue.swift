import Foundation

/// A JSON-like value as the ZEN expression language and JDM graphs see it.
/// Numbers are exact decimals (never `Double`), so `0.1 + 0.2 == 0.3`.
public enum ZenValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case array([ZenValue])
    case object(ZenObject)
}

/// An object that keeps its keys in insertion order, as zen-engine does
/// (`keys()` and `values()` return them in that order). Equality ignores order.
public struct ZenObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String]
    public private(set) var values: [ZenValue]

    public init() {
        keys = []
        values = []
    }

    public init(minimumCapacity: Int) {
        keys = []
        values = []
        keys.reserveCapacity(minimumCapacity)
        values.reserveCapacity(minimumCapacity)
    }

    public init(dictionaryLiteral elements: (String, ZenValue)...) {
        self.init(minimumCapacity: elements.count)
        for (key, value) in elements { self[key] = value }
    }

    public init<S: Sequence>(_ pairs: S) where S.Element == (String, ZenValue) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    @inline(__always)
    func index(of key: String) -> Int? {
        // Objects in decisions are small; a linear scan beats hashing here.
        var i = 0
        let n = keys.count
        while i < n {
            if keys[i] == key { return i }
            i += 1
        }
        return nil
    }

    public subscript(key: String) -> ZenValue? {
        get {
            guard let i = index(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = index(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public var dictionary: [String: ZenValue] {
        var result: [String: ZenValue] = [:]
        for i in keys.indices { result[keys[i]] = values[i] }
        return result
    }

    public func makeIterator() -> AnyIterator<(key: String, value: ZenValue)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], values[i])
        }
    }

    public static func == (lhs: ZenObject, rhs: ZenObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for i in lhs.keys.indices {
            guard let other = rhs[lhs.keys[i]], other == lhs.values[i] else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        // Order-independent: combine a commutative sum of per-entry hashes.
        var sum = 0
        for i in keys.indices {
            var h = Hasher()
            h.combine(keys[i])
            h.combine(values[i])
            sum = sum &+ h.finalize()
        }
        hasher.combine(sum)
    }
}

extension ZenValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Decimal(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: ZenValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, ZenValue)...) {
        var object = ZenObject(minimumCapacity: elements.count)
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension ZenValue {
    /// A number from its decimal text ("0.1", "-2.5e3"); nil when it is not a number.
    public static func decimal(_ text: String) -> ZenValue? {
        ZenNumber.parse(text).map { .number($0) }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var numberValue: Decimal? { if case .number(let n) = self { return n } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var arrayValue: [ZenValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: ZenObject? { if case .object(let o) = self { return o } else { return nil } }

    /// Member access by key on an object; nil for other values or a missing key.
    public subscript(key: String) -> ZenValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Follows a dotted path ("applicant.income.monthly"); nil when any step is missing.
    public func value(atPath path: String) -> ZenValue? {
        var current = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let o) = current, let next = o[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// zen-engine's type names: null, bool, number, string, array, object (and date).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object(let o): return ZenDate.isDateObject(o) ? "date" : "object"
        }
    }
}

extension ZenValue: CustomStringConvertible {
    public var description: String { ZenJSON.serialize(self, pretty: false, sortedKeys: false) }
}

// MARK: - Merging, the way zen-engine merges node outputs

extension ZenValue {
    /// zen-engine's top-level merge of a node output into an accumulated value:
    /// an array replaces, a non-object is ignored, objects merge deeply,
    /// and a `null` member removes the key.
    func zenMerged(with patch: ZenValue) -> ZenValue {
        switch patch {
        case .array: return patch
        case .object: return ZenValue.mergeInner(self, patch)
        default: return self
        }
    }

    static func mergeInner(_ doc: ZenValue, _ patch: ZenValue) -> ZenValue {
        guard case .object(var d) = doc, case .object(let p) = patch else { return patch }
        for i in p.keys.indices {
            let key = p.keys[i]
            let value = p.values[i]
            if case .null = value {
                d[key] = nil
            } else {
                d[key] = mergeInner(d[key] ?? .null, value)
            }
        }
        return .object(d)
    }

    /// Inserts `value` at a dotted path, creating (or replacing non-object) intermediate objects.
    /// Mirrors zen-engine's `dot_insert`: it does nothing when `self` is not an object.
    mutating func dotInsert(_ path: [String], _ value: ZenValue) {
        guard case .object(var o) = self else { return }
        self = .null  // release the reference so `o` is uniquely owned
        ZenValue.dotInsert(&o, path[...], value)
        self = .object(o)
    }

    static func dotInsert(_ o: inout ZenObject, _ path: ArraySlice<String>, _ value: ZenValue) {
        guard let head = path.first else { return }
        if path.count == 1 {
            o[head] = value
            return
        }
        let existing = o[head]
        switch existing {
        case .object(var inner)?:
            o[head] = .null
            dotInsert(&inner, path.dropFirst(), value)
            o[head] = .object(inner)
        case nil:
            var inner = ZenObject()
            dotInsert(&inner, path.dropFirst(), value)
            o[head] = .object(inner)
        default:
            // zen-engine stops when an intermediate value is not an object.
            return
        }
    }
}
