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
    /// A member; `hash` is a cheap hash of the key, compared before the key itself.
    struct Entry: Sendable {
        var key: String
        var value: ZenValue
        var hash: UInt32
    }

    /// The members in insertion order (one allocation per object).
    private(set) var entries: [Entry]

    /// FNV-1a over the key's UTF-8 bytes.
    @inline(__always)
    package static func hash(_ key: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in key.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    public init() { entries = [] }

    public init(minimumCapacity: Int) {
        entries = []
        entries.reserveCapacity(minimumCapacity)
    }

    public init(dictionaryLiteral elements: (String, ZenValue)...) {
        self.init(minimumCapacity: elements.count)
        for (key, value) in elements { self[key] = value }
    }

    public init<S: Sequence>(_ pairs: S) where S.Element == (String, ZenValue) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }
    public var values: [ZenValue] { entries.map(\.value) }

    @inline(__always)
    func index(of key: String) -> Int? { index(of: key, hash: ZenObject.hash(key)) }

    /// Objects in decisions are small: a linear scan comparing hashes first, reading through the
    /// buffer so that no value is copied.
    @inline(__always)
    package func index(of key: String, hash: UInt32) -> Int? {
        entries.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where buffer[i].hash == hash && buffer[i].key == key { return i }
            return nil
        }
    }

    /// Calls `body` with the value for `key` borrowed in place (no copy of the member).
    @inline(__always)
    package func withValue<R>(_ key: String, hash: UInt32, _ body: (ZenValue?) -> R) -> R {
        return entries.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where buffer[i].hash == hash && buffer[i].key == key {
                return body(buffer[i].value)
            }
            return body(nil)
        }
    }

    /// The value for `key`, read in place.
    @inline(__always)
    func lookup(_ key: String) -> ZenValue? { lookup(key, hash: ZenObject.hash(key)) }

    @inline(__always)
    func lookup(_ key: String, hash: UInt32) -> ZenValue? {
        return entries.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where buffer[i].hash == hash && buffer[i].key == key {
                return buffer[i].value
            }
            return nil
        }
    }

    public subscript(key: String) -> ZenValue? {
        get { lookup(key) }
        set {
            let h = ZenObject.hash(key)
            if let i = index(of: key, hash: h) {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue, hash: h))
            }
        }
    }

    mutating func remove(at i: Int) { entries.remove(at: i) }

    /// Changes the object stored at member `i` in place; false when that member is not an object.
    @inline(__always)
    mutating func modifyObject(at i: Int, _ body: (inout ZenObject) -> Void) -> Bool {
        guard case .object(var inner) = entries[i].value else { return false }
        entries[i].value = .null  // drop this reference so `inner` is the only one (no copy)
        body(&inner)
        entries[i].value = .object(inner)
        return true
    }

    /// Drops the members whose value is null (top level only).
    mutating func removeNulls() {
        entries.removeAll { $0.value.isNull }
    }

    /// Appends without looking for an existing key (the caller knows it is new).
    @inline(__always)
    mutating func appendNew(_ key: String, _ value: ZenValue) {
        entries.append(Entry(key: key, value: value, hash: ZenObject.hash(key)))
    }

    @inline(__always)
    mutating func appendNew(_ key: String, _ value: ZenValue, hash: UInt32) {
        entries.append(Entry(key: key, value: value, hash: hash))
    }

    /// Takes the member out (leaving null) so it can be changed without copying.
    @inline(__always)
    mutating func take(_ i: Int) -> ZenValue {
        let v = entries[i].value
        entries[i].value = .null
        return v
    }

    @inline(__always)
    mutating func put(_ i: Int, _ value: ZenValue) {
        entries[i].value = value
    }

    public var dictionary: [String: ZenValue] {
        var result: [String: ZenValue] = [:]
        for e in entries { result[e.key] = e.value }
        return result
    }

    public func makeIterator() -> AnyIterator<(key: String, value: ZenValue)> {
        var i = 0
        let entries = self.entries
        return AnyIterator {
            guard i < entries.count else { return nil }
            defer { i += 1 }
            return (entries[i].key, entries[i].value)
        }
    }

    public static func == (lhs: ZenObject, rhs: ZenObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for e in lhs.entries {
            guard let other = rhs[e.key], other == e.value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        // Order-independent: combine a commutative sum of per-entry hashes.
        var sum = 0
        for e in entries {
            var h = Hasher()
            h.combine(e.key)
            h.combine(e.value)
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
    package func zenMerged(with patch: ZenValue) -> ZenValue {
        switch patch {
        case .array: return patch
        case .object(let p):
            // Merging into an empty object gives the patch without its null members (no copy
            // when it has none): zen-engine's merge removes keys whose new value is null.
            if case .object(let o) = self, o.isEmpty {
                guard p.entries.contains(where: { $0.value.isNull }) else { return patch }
                var stripped = p
                stripped.removeNulls()
                return .object(stripped)
            }
            return ZenValue.mergeInner(self, patch)
        default: return self
        }
    }

    static func mergeInner(_ doc: ZenValue, _ patch: ZenValue) -> ZenValue {
        guard case .object(var d) = doc, case .object(let p) = patch else { return patch }
        for e in p.entries {
            if case .null = e.value {
                if let i = d.index(of: e.key, hash: e.hash) { d.remove(at: i) }
            } else if let i = d.index(of: e.key, hash: e.hash) {
                if case .object = e.value, case .object = d.entries[i].value {
                    let inner = d.take(i)
                    d.put(i, mergeInner(inner, e.value))
                } else {
                    d.put(i, e.value)
                }
            } else {
                d.appendNew(e.key, e.value, hash: e.hash)
            }
        }
        return .object(d)
    }

    /// Inserts `value` at a dotted path, creating (or replacing non-object) intermediate objects.
    /// Mirrors zen-engine's `dot_insert`: it does nothing when `self` is not an object.
    package mutating func dotInsert(_ path: [String], _ value: ZenValue) {
        guard case .object(var o) = self else { return }
        self = .null  // release the reference so `o` is uniquely owned
        ZenValue.dotInsert(&o, path, 0, value)
        self = .object(o)
    }

    static func dotInsert(_ o: inout ZenObject, _ path: ArraySlice<String>, _ value: ZenValue) {
        dotInsert(&o, Array(path), 0, value)
    }

    package static func dotInsert(_ o: inout ZenObject, _ path: [String], _ at: Int, _ value: ZenValue) {
        dotInsert(&o, path, nil, at, value)
    }

    /// `hashes` (optional) are the keys' precomputed hashes.
    package static func dotInsert(
        _ o: inout ZenObject, _ path: [String], _ hashes: [UInt32]?, _ at: Int, _ value: ZenValue
    ) {
        guard at < path.count else { return }
        let head = path[at]
        let h = hashes?[at] ?? ZenObject.hash(head)
        if at == path.count - 1 {
            if let i = o.index(of: head, hash: h) { o.put(i, value) } else { o.appendNew(head, value, hash: h) }
            return
        }
        if let i = o.index(of: head, hash: h) {
            // zen-engine stops at a non-object; otherwise the nested object is changed in place.
            _ = o.modifyObject(at: i) { inner in dotInsert(&inner, path, hashes, at + 1, value) }
        } else {
            var inner = ZenObject(minimumCapacity: 4)
            dotInsert(&inner, path, hashes, at + 1, value)
            o.appendNew(head, .object(inner), hash: h)
        }
    }
}
