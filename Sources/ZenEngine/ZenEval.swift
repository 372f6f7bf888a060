import Foundation

/// The variables an expression sees while it runs: the context object, a few
/// named locals (`$`, `$nodes`, assignments) and the elements of enclosing closures.
package final class ZenEnv {
    // Accessed on every variable read; an environment is used by one evaluation at a time.
    @exclusivity(unchecked) var base: ZenValue
    @exclusivity(unchecked) var locals: [(String, ZenValue)] = []
    @exclusivity(unchecked) var pointers: [ZenValue] = []
    let rootBase: ZenValue
    /// The evaluation's clock (milliseconds since 1970, UTC); nil when time may not be read.
    @exclusivity(unchecked) var now: Int64?

    package init(_ base: ZenValue, now: Int64? = nil) {
        self.base = base
        self.rootBase = base
        self.now = now
    }

    @inline(__always)
    func local(_ name: String) -> ZenValue? {
        for i in locals.indices where locals[i].0 == name { return locals[i].1 }
        return nil
    }

    /// Changes a local in place (no copy of its value when `body` takes it out first).
    package func updateLocal(_ name: String, _ body: (inout ZenValue) -> Void) {
        for i in locals.indices where locals[i].0 == name {
            body(&locals[i].1)
            return
        }
    }

    package func setLocal(_ name: String, _ value: ZenValue) {
        for i in locals.indices where locals[i].0 == name {
            locals[i].1 = value
            return
        }
        locals.append((name, value))
    }

    @inline(__always)
    func lookup(_ name: String) -> ZenValue? {
        if !locals.isEmpty, let v = local(name) { return v }
        if case .object(let o) = base { return o[name] }
        return nil
    }

    /// The context with locals folded in (zen-engine's `materialize`).
    func materialized() -> ZenValue {
        guard !locals.isEmpty, case .object(var o) = base else { return base }
        for (k, v) in locals { o[k] = v }
        return .object(o)
    }
}

typealias ZenThrows = ZenEvaluationError

/// A compiled expression node. Subclasses override `eval`.
package class ZExpr {
    package func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue { .null }
    /// A compile-time constant, when the node is one.
    var constant: ZenValue? { nil }
}

package final class ZConst: ZExpr {
    let value: ZenValue
    package init(_ value: ZenValue) { self.value = value }
    package override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue { value }
    override var constant: ZenValue? { value }
}

/// Always fails (stands for an expression that did not parse, where zen-engine fails at run time).
package final class ZFail: ZExpr {
    package override init() {}

    package override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        throw ZenEvaluationError("the expression does not parse")
    }
}

final class ZIdentifier: ZExpr {
    let name: String
    init(_ name: String) { self.name = name }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        if !env.locals.isEmpty, let v = env.local(name) { return v }
        switch env.base {
        case .object(let o): return o[name] ?? .null
        case .null: return .null
        default: throw ZenEvaluationError("Opcode FetchEnv: Unsupported type")
        }
    }
}

final class ZRoot: ZExpr {
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue { env.materialized() }
}

final class ZPointer: ZExpr {
    let depth: Int
    init(_ depth: Int) { self.depth = depth }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let i = env.pointers.count - 1 - depth
        guard i >= 0 else { throw ZenEvaluationError("Opcode Pointer: Scope depth out of bounds") }
        return env.pointers[i]
    }
}

enum ZPathStep {
    case key(String)
    case index(Int)
}

/// `a.b[0].c` with literal keys: never fails, yields null on a type mismatch.
final class ZFetchPath: ZExpr {
    let head: String?  // nil means $root
    let steps: [ZPathStep]
    /// The same path as plain keys when it has no index steps (the common case, walked faster).
    let keys: ContiguousArray<String>?
    let hashes: ContiguousArray<UInt32>
    let headHash: UInt32

    init(head: String?, steps: [ZPathStep]) {
        self.head = head
        self.steps = steps
        var keys = ContiguousArray<String>()
        for step in steps {
            if case .key(let k) = step { keys.append(k) }
        }
        self.keys = keys.count == steps.count ? keys : nil
        self.hashes = ContiguousArray(keys.map(ZenObject.hash))
        self.headHash = head.map(ZenObject.hash) ?? 0
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        if let head, let keys {
            if keys.isEmpty { return env.lookup(head) ?? .null }
            // Walk the objects in place; only the final value is copied out.
            if !env.locals.isEmpty, let local = env.local(head) { return ZenFetch.walk(local, keys, hashes) }
            guard case .object(let root) = env.base else { return .null }
            return ZenFetch.walk(root, head, headHash, keys, hashes)
        }
        var v: ZenValue
        if let head {
            v = env.lookup(head) ?? .null
        } else {
            v = env.rootBase
        }
        for step in steps {
            switch step {
            case .key(let k):
                if case .object(let o) = v { v = o[k] ?? .null } else { return .null }
            case .index(let i):
                switch v {
                case .array(let a): v = i < a.count ? a[i] : .null
                case .string(let s): v = ZenFunctions.byteSlice(s, i, i) ?? .null
                default: return .null
                }
            }
        }
        return v
    }
}

enum ZenFetch {
    typealias Keys = ContiguousArray<String>
    typealias Hashes = ContiguousArray<UInt32>

    static func walk(_ start: ZenValue, _ keys: Keys, _ hashes: Hashes) -> ZenValue {
        guard case .object(let o) = start else { return .null }
        return walkObject(o, keys, hashes, 0)
    }

    static func walk(_ root: ZenObject, _ head: String, _ headHash: UInt32, _ keys: Keys, _ hashes: Hashes) -> ZenValue
    {
        root.withValue(head, hash: headHash) { first in
            guard let first, case .object(let o) = first else { return .null }
            return walkObject(o, keys, hashes, 0)
        }
    }

    static func walkObject(_ o: ZenObject, _ keys: Keys, _ hashes: Hashes, _ at: Int) -> ZenValue {
        if at == keys.count - 1 { return o.lookup(keys[at], hash: hashes[at]) ?? .null }
        return o.withValue(keys[at], hash: hashes[at]) { next in
            guard let next, case .object(let inner) = next else { return .null }
            return walkObject(inner, keys, hashes, at + 1)
        }
    }
}

final class ZMember: ZExpr {
    let node: ZExpr
    let property: ZExpr
    init(_ node: ZExpr, _ property: ZExpr) {
        self.node = node
        self.property = property
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let a = try node.eval(env)
        let b = try property.eval(env)
        switch (a, b) {
        case (.object(let o), .string(let s)): return o[s] ?? .null
        case (.array(let arr), .number(let n)):
            guard let i = ZenNumber.toIndex(n) else {
                throw ZenEvaluationError("Opcode Fetch: Failed to convert to usize")
            }
            return i < arr.count ? arr[i] : .null
        case (.string(let s), .number(let n)):
            guard let i = ZenNumber.toIndex(n) else {
                throw ZenEvaluationError("Opcode Fetch: Failed to convert to usize")
            }
            return ZenFunctions.byteSlice(s, i, i) ?? .null
        default: return .null
        }
    }
}

final class ZSlice: ZExpr {
    let node: ZExpr
    let from: ZExpr?
    let to: ZExpr?
    init(_ node: ZExpr, _ from: ZExpr?, _ to: ZExpr?) {
        self.node = node
        self.from = from
        self.to = to
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let current = try node.eval(env)
        let toValue: ZenValue
        if let to {
            toValue = try to.eval(env)
        } else {
            let len = try ZenFunctions.len(current)
            toValue = .number(len - 1)
        }
        let fromValue: ZenValue = try from?.eval(env) ?? .number(0)
        guard case .number(let f) = fromValue, case .number(let t) = toValue else {
            throw ZenEvaluationError("Opcode Slice: Unsupported type")
        }
        guard let fi = ZenNumber.toIndex(f) else { throw ZenEvaluationError("Opcode Slice: Failed to get range from") }
        guard let ti = ZenNumber.toIndex(t) else { throw ZenEvaluationError("Opcode Slice: Failed to get range to") }
        switch current {
        case .array(let a):
            guard ti < a.count, fi <= ti + 1 else { throw ZenEvaluationError("Opcode Slice: Index out of range") }
            return .array(Array(a[fi..<(ti + 1)]))
        case .string(let s):
            guard let r = ZenFunctions.byteSlice(s, fi, ti) else {
                throw ZenEvaluationError("Opcode Slice: Index out of range")
            }
            return r
        default:
            throw ZenEvaluationError("Opcode Slice: Unsupported type")
        }
    }
}

final class ZArray: ZExpr {
    let items: [ZExpr]
    init(_ items: [ZExpr]) { self.items = items }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        var out: [ZenValue] = []
        out.reserveCapacity(items.count)
        for item in items { out.append(try item.eval(env)) }
        return .array(out)
    }
}

final class ZObject: ZExpr {
    let pairs: [(ZExpr, ZExpr)]
    init(_ pairs: [(ZExpr, ZExpr)]) { self.pairs = pairs }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        var keys: [String] = []
        var values: [ZenValue] = []
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (k, v) in pairs {
            let key = try ZenFunctions.toStringValue(try k.eval(env))
            keys.append(key)
            values.append(try v.eval(env))
        }
        // zen-engine builds objects from a stack: the last pair is inserted first.
        var o = ZenObject(minimumCapacity: pairs.count)
        for i in stride(from: keys.count - 1, through: 0, by: -1) { o[keys[i]] = values[i] }
        return .object(o)
    }
}

final class ZTemplate: ZExpr {
    let parts: [ZExpr]
    init(_ parts: [ZExpr]) { self.parts = parts }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        var s = ""
        for p in parts { s += try ZenFunctions.toStringValue(try p.eval(env)) }
        return .string(s)
    }
}

final class ZAssignments: ZExpr {
    let list: [(path: [String], key: String, value: ZExpr)]
    let output: ZExpr?
    init(_ list: [(path: [String], key: String, value: ZExpr)], output: ZExpr?) {
        self.list = list
        self.output = output
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .object = env.base else {
            throw ZenEvaluationError("Opcode AssignedObjectStep: Failed to mutate existing env")
        }
        var result: ZenValue = .object(ZenObject())
        let savedBase = env.base
        let savedLocals = env.locals
        defer {
            env.base = savedBase
            env.locals = savedLocals
        }
        for item in list {
            let value = try item.value.eval(env)
            if item.path.count == 1 {
                env.setLocal(item.key, value)
            } else {
                var m = env.materialized()
                m.dotInsert(item.path, value)
                env.base = m
                env.locals = []
            }
            result.dotInsert(item.path, value)
        }
        if let output { return try output.eval(env) }
        return result
    }
}

final class ZConditional: ZExpr {
    let condition: ZExpr
    let onTrue: ZExpr
    let onFalse: ZExpr
    init(_ c: ZExpr, _ t: ZExpr, _ f: ZExpr) {
        condition = c
        onTrue = t
        onFalse = f
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .bool(let b) = try condition.eval(env) else {
            throw ZenEvaluationError("Opcode JumpIfFalse: Unsupported type")
        }
        return b ? try onTrue.eval(env) : try onFalse.eval(env)
    }
}

final class ZNot: ZExpr {
    let node: ZExpr
    init(_ node: ZExpr) { self.node = node }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .bool(let b) = try node.eval(env) else { throw ZenEvaluationError("Opcode Not: Unsupported type") }
        return .bool(!b)
    }
}

final class ZNegate: ZExpr {
    let node: ZExpr
    init(_ node: ZExpr) { self.node = node }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .number(let n) = try node.eval(env) else {
            throw ZenEvaluationError("Opcode Negate: Unsupported type")
        }
        return .number(-n)
    }
}

final class ZAnd: ZExpr {
    let left: ZExpr
    let right: ZExpr
    init(_ l: ZExpr, _ r: ZExpr) {
        left = l
        right = r
    }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .bool(let b) = try left.eval(env) else {
            throw ZenEvaluationError("Opcode JumpIfFalse: Unsupported type")
        }
        return b ? try right.eval(env) : .bool(false)
    }
}

final class ZOr: ZExpr {
    let left: ZExpr
    let right: ZExpr
    init(_ l: ZExpr, _ r: ZExpr) {
        left = l
        right = r
    }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        guard case .bool(let b) = try left.eval(env) else {
            throw ZenEvaluationError("Opcode JumpIfTrue: Unsupported type")
        }
        return b ? .bool(true) : try right.eval(env)
    }
}

final class ZNullish: ZExpr {
    let left: ZExpr
    let right: ZExpr
    init(_ l: ZExpr, _ r: ZExpr) {
        left = l
        right = r
    }
    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let l = try left.eval(env)
        if case .null = l { return try right.eval(env) }
        return l
    }
}

package enum ZBinaryKind {
    case add, subtract, multiply, divide, modulo, power
    case equal, notEqual, less, greater, lessOrEqual, greaterOrEqual, `in`, notIn
}

final class ZBinary: ZExpr {
    let left: ZExpr
    let right: ZExpr
    let kind: ZBinaryKind
    init(_ l: ZExpr, _ kind: ZBinaryKind, _ r: ZExpr) {
        left = l
        right = r
        self.kind = kind
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let a = try left.eval(env)
        let b = try right.eval(env)
        return try ZOps.apply(kind, a, b)
    }
}

/// `value OP constant` where the constant is known at compile time.
final class ZBinaryConst: ZExpr {
    let left: ZExpr
    let right: ZenValue
    let kind: ZBinaryKind
    init(_ l: ZExpr, _ kind: ZBinaryKind, _ r: ZenValue) {
        left = l
        right = r
        self.kind = kind
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let a = try left.eval(env)
        return try ZOps.apply(kind, a, right)
    }
}

/// A compiled interval `[a..b]`, `(a..b)`, `]a..b[` ... with zen-engine's bracket rules.
package struct ZenInterval {
    let left: ZenValue
    let right: ZenValue
    let leftBracket: ZenBracket
    let rightBracket: ZenBracket

    var display: String {
        let l: String
        switch leftBracket {
        case .leftParen: l = "("
        case .rightParen: l = ")"
        case .leftSquare: l = "["
        default: l = "]"
        }
        let r: String
        switch rightBracket {
        case .leftParen: r = "("
        case .rightParen: r = ")"
        case .leftSquare: r = "["
        default: r = "]"
        }
        return "\(l)\(ZenFunctions.displayString(left))..\(ZenFunctions.displayString(right))\(r)"
    }

    func includes(_ v: ZenValue) throws(ZenEvaluationError) -> Bool {
        let lc: Int
        let rc: Int
        switch (left, right, v) {
        case (.number(let l), .number(let r), .number(let x)):
            lc = ZenNumber.compare(l, x)
            rc = ZenNumber.compare(r, x)
        default:
            guard let l = ZenDate(value: left), let r = ZenDate(value: right), let x = ZenDate(value: v) else {
                throw ZenEvaluationError("Opcode In: Unsupported type")
            }
            lc = l < x ? -1 : (l == x ? 0 : 1)
            rc = r < x ? -1 : (r == x ? 0 : 1)
        }
        var isOpen = false
        let first: Bool
        switch leftBracket {
        case .leftParen: first = lc < 0
        case .leftSquare: first = lc <= 0
        case .rightParen:
            isOpen = true
            first = lc > 0
        case .rightSquare:
            isOpen = true
            first = lc >= 0
        default: throw ZenEvaluationError("Unsupported bracket")
        }
        let second: Bool
        switch rightBracket {
        case .rightParen: second = rc > 0
        case .rightSquare: second = rc >= 0
        case .leftParen: second = rc < 0
        case .leftSquare: second = rc <= 0
        default: throw ZenEvaluationError("Unsupported bracket")
        }
        return isOpen ? (first || second) : (first && second)
    }

    func toArray() -> [ZenValue]? {
        guard case .number(let l) = left, case .number(let r) = right,
            let li = ZenNumber.toInt(l), let ri = ZenNumber.toInt(r)
        else { return nil }
        let start: Int
        switch leftBracket {
        case .leftParen:
            guard li < Int.max else { return nil }
            start = li + 1
        case .leftSquare: start = li
        default: return nil
        }
        let end: Int
        switch rightBracket {
        case .rightParen:
            guard ri > Int.min else { return nil }
            end = ri - 1
        case .rightSquare: end = ri
        default: return nil
        }
        guard start <= end else { return [] }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span < 10_000_000 else { return nil }
        return (start...end).map { .number(Decimal($0)) }
    }
}

final class ZIntervalExpr: ZExpr {
    let left: ZExpr
    let right: ZExpr
    let leftBracket: ZenBracket
    let rightBracket: ZenBracket
    init(_ l: ZExpr, _ r: ZExpr, _ lb: ZenBracket, _ rb: ZenBracket) {
        left = l
        right = r
        leftBracket = lb
        rightBracket = rb
    }

    func interval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenInterval {
        let a = try left.eval(env)
        let b = try right.eval(env)
        switch (a, b) {
        case (.number, .number): break
        default:
            guard ZenDate(value: a) != nil, ZenDate(value: b) != nil else {
                throw ZenEvaluationError("Opcode Interval: Unsupported type")
            }
        }
        return ZenInterval(left: a, right: b, leftBracket: leftBracket, rightBracket: rightBracket)
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        // zen-engine shows a standalone interval as its text.
        .string(try interval(env).display)
    }
}

/// `x in [a..b]` / `x not in (a..b)`.
final class ZInInterval: ZExpr {
    let value: ZExpr
    let interval: ZIntervalExpr
    let constantInterval: ZenInterval?
    let negated: Bool
    init(_ value: ZExpr, _ interval: ZIntervalExpr, negated: Bool) {
        self.value = value
        self.interval = interval
        self.negated = negated
        if let l = interval.left.constant, let r = interval.right.constant, case .number = l, case .number = r {
            constantInterval = ZenInterval(
                left: l, right: r, leftBracket: interval.leftBracket, rightBracket: interval.rightBracket)
        } else {
            constantInterval = nil
        }
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let v = try value.eval(env)
        let i: ZenInterval
        if let c = constantInterval { i = c } else { i = try interval.interval(env) }
        let r = try i.includes(v)
        return .bool(negated ? !r : r)
    }
}

final class ZCall: ZExpr {
    let name: String
    let args: [ZExpr]
    let function: ZenFunction
    init(_ name: String, _ args: [ZExpr], _ function: @escaping ZenFunction) {
        self.name = name
        self.args = args
        self.function = function
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        var values: [ZenValue] = []
        values.reserveCapacity(args.count)
        for a in args { values.append(try a.eval(env)) }
        do {
            return try function(values)
        } catch {
            throw ZenEvaluationError("Opcode CallFunction: Function `\(name)` failed: \(error.message)")
        }
    }
}

final class ZClockCall: ZExpr {
    let name: String
    let args: [ZExpr]
    let function: ZenClockFunction
    init(_ name: String, _ args: [ZExpr], _ function: @escaping ZenClockFunction) {
        self.name = name
        self.args = args
        self.function = function
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        var values: [ZenValue] = []
        for a in args { values.append(try a.eval(env)) }
        do {
            return try function(values, env.now)
        } catch {
            throw ZenEvaluationError("Opcode CallFunction: Function `\(name)` failed: \(error.message)")
        }
    }
}

final class ZCall1: ZExpr {
    let name: String
    let arg: ZExpr
    let function: ZenFunction1
    init(_ name: String, _ arg: ZExpr, _ function: @escaping ZenFunction1) {
        self.name = name
        self.arg = arg
        self.function = function
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let v = try arg.eval(env)
        do {
            return try function(v)
        } catch {
            throw ZenEvaluationError("Opcode CallFunction: Function `\(name)` failed: \(error.message)")
        }
    }
}

final class ZMethod: ZExpr {
    let name: String
    let this: ZExpr
    let args: [ZExpr]
    init(_ name: String, _ this: ZExpr, _ args: [ZExpr]) {
        self.name = name
        self.this = this
        self.args = args
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let t = try this.eval(env)
        var values: [ZenValue] = []
        for a in args { values.append(try a.eval(env)) }
        do {
            return try ZenDateFunctions.method(name, t, values, now: env.now)
        } catch {
            throw ZenEvaluationError("Opcode CallMethod: Method `\(name)` failed: \(error.message)")
        }
    }
}

enum ZClosureKind {
    case all, noneOf, some, one, filter, map, flatMap, count
}

final class ZClosureCall: ZExpr {
    let kind: ZClosureKind
    let source: ZExpr
    let body: ZExpr
    init(_ kind: ZClosureKind, _ source: ZExpr, _ body: ZExpr) {
        self.kind = kind
        self.source = source
        self.body = body
    }

    func elements(_ env: ZenEnv) throws(ZenEvaluationError) -> [ZenValue] {
        if let i = source as? ZIntervalExpr {
            guard let a = try i.interval(env).toArray() else {
                throw ZenEvaluationError("Opcode Begin: Unsupported type")
            }
            return a
        }
        guard case .array(let a) = try source.eval(env) else {
            throw ZenEvaluationError("Opcode Begin: Unsupported type")
        }
        return a
    }

    @inline(__always)
    func test(_ env: ZenEnv, _ op: String) throws(ZenEvaluationError) -> Bool {
        guard case .bool(let b) = try body.eval(env) else {
            throw ZenEvaluationError("Opcode \(op): Unsupported type")
        }
        return b
    }

    override func eval(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        let items = try elements(env)
        env.pointers.append(.null)
        defer { env.pointers.removeLast() }
        let slot = env.pointers.count - 1
        switch kind {
        case .all:
            for item in items {
                env.pointers[slot] = item
                if !(try test(env, "JumpIfFalse")) { return .bool(false) }
            }
            return .bool(true)
        case .noneOf:
            for item in items {
                env.pointers[slot] = item
                guard case .bool(let b) = try body.eval(env) else {
                    throw ZenEvaluationError("Opcode Not: Unsupported type")
                }
                if b { return .bool(false) }
            }
            return .bool(true)
        case .some:
            for item in items {
                env.pointers[slot] = item
                if try test(env, "JumpIfTrue") { return .bool(true) }
            }
            return .bool(false)
        case .one:
            var count = 0
            for item in items {
                env.pointers[slot] = item
                if try test(env, "JumpIfFalse") { count += 1 }
            }
            return .bool(count == 1)
        case .count:
            var count = 0
            for item in items {
                env.pointers[slot] = item
                if try test(env, "JumpIfFalse") { count += 1 }
            }
            return .number(Decimal(count))
        case .filter:
            var out: [ZenValue] = []
            for item in items {
                env.pointers[slot] = item
                if try test(env, "JumpIfFalse") { out.append(item) }
            }
            return .array(out)
        case .map:
            var out: [ZenValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                env.pointers[slot] = item
                out.append(try body.eval(env))
            }
            return .array(out)
        case .flatMap:
            var out: [ZenValue] = []
            for item in items {
                env.pointers[slot] = item
                let v = try body.eval(env)
                if case .array(let inner) = v { out.append(contentsOf: inner) } else { out.append(v) }
            }
            return .array(out)
        }
    }
}

// MARK: - Operators

enum ZOps {
    @inline(__always)
    static func apply(_ kind: ZBinaryKind, _ a: ZenValue, _ b: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        switch kind {
        case .equal: return .bool(equal(a, b))
        case .notEqual: return .bool(!equal(a, b))
        case .less, .greater, .lessOrEqual, .greaterOrEqual:
            return .bool(try compare(kind, a, b))
        case .add:
            switch (a, b) {
            case (.number(let x), .number(let y)):
                guard let r = ZenNumber.add(x, y) else { throw ZenEvaluationError("Opcode Add: Number overflow") }
                return .number(r)
            case (.string(let x), .string(let y)): return .string(x + y)
            default: throw ZenEvaluationError("Opcode Add: Unsupported type")
            }
        case .subtract:
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ZenEvaluationError("Opcode Subtract: Unsupported type")
            }
            guard let r = ZenNumber.subtract(x, y) else { throw ZenEvaluationError("Opcode Subtract: Number overflow") }
            return .number(r)
        case .multiply:
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ZenEvaluationError("Opcode Multiply: Unsupported type")
            }
            guard let r = ZenNumber.multiply(x, y) else { throw ZenEvaluationError("Opcode Multiply: Number overflow") }
            return .number(r)
        case .divide:
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ZenEvaluationError("Opcode Divide: Unsupported type")
            }
            return ZenNumber.divide(x, y).map { .number($0) } ?? .null
        case .modulo:
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ZenEvaluationError("Opcode Modulo: Unsupported type")
            }
            return ZenNumber.remainder(x, y).map { .number($0) } ?? .null
        case .power:
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ZenEvaluationError("Opcode Exponent: Unsupported type")
            }
            guard let r = ZenNumber.power(x, y).flatMap(ZenNumber.inRange) else {
                throw ZenEvaluationError("Opcode Exponent: Failed to calculate exponent")
            }
            return .number(r)
        case .in: return .bool(try contains(b, a))
        case .notIn: return .bool(!(try contains(b, a)))
        }
    }

    /// zen-engine's `==`: numbers, strings, booleans, nulls and dates by value; anything else is unequal.
    @inline(__always)
    static func equal(_ a: ZenValue, _ b: ZenValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return ZenNumber.equal(x, y)
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.object(let x), .object(let y)):
            guard let dx = ZenDate(object: x), let dy = ZenDate(object: y) else { return false }
            return dx == dy
        default: return false
        }
    }

    @inline(__always)
    static func compare(_ kind: ZBinaryKind, _ a: ZenValue, _ b: ZenValue) throws(ZenEvaluationError) -> Bool {
        if case .number(let x) = a, case .number(let y) = b {
            let c = ZenNumber.compare(x, y)
            switch kind {
            case .less: return c < 0
            case .greater: return c > 0
            case .lessOrEqual: return c <= 0
            default: return c >= 0
            }
        }
        guard let x = ZenDate(value: a), let y = ZenDate(value: b) else {
            throw ZenEvaluationError("Opcode Compare: Unsupported type")
        }
        switch kind {
        case .less: return x < y
        case .greater: return x > y
        case .lessOrEqual: return x <= y
        default: return x >= y
        }
    }

    /// zen-engine's `in` with a value (not an interval) on the right.
    static func contains(_ container: ZenValue, _ v: ZenValue) throws(ZenEvaluationError) -> Bool {
        switch (v, container) {
        case (.number(let x), .array(let arr)):
            for item in arr { if case .number(let y) = item, ZenNumber.equal(x, y) { return true } }
            return false
        case (.string(let x), .array(let arr)):
            for item in arr { if case .string(let y) = item, x == y { return true } }
            return false
        case (.string(let x), .object(let o)):
            return o[x] != nil
        case (.bool(let x), .array(let arr)):
            for item in arr { if case .bool(let y) = item, x == y { return true } }
            return false
        case (.null, .array(let arr)):
            for item in arr { if case .null = item { return true } }
            return false
        case (.object(let o), .array(let arr)):
            guard let d = ZenDate(object: o) else { throw ZenEvaluationError("Opcode In: Unsupported type") }
            for item in arr { if let e = ZenDate(value: item), e == d { return true } }
            return false
        default:
            throw ZenEvaluationError("Opcode In: Unsupported type")
        }
    }
}
