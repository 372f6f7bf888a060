import Foundation

/// Turns a parsed ZEN expression into a tree of evaluator nodes, checking
/// function names and argument counts once, at compile time.
package struct ZenCompiler {
    let source: String
    var aliases: [String?] = []

    func fail(_ message: String) -> ZenSyntaxError { ZenSyntaxError(expression: source, message: message) }

    /// Whether an expression may read `$` (other than `$nodes` / `$root`).
    package static func mayReadDollar(_ source: String) -> Bool {
        source.replacingOccurrences(of: "$nodes", with: "").replacingOccurrences(of: "$root", with: "").contains("$")
    }

    package static func compile(_ source: String, mode: ZenParser.Mode) throws(ZenSyntaxError) -> ZExpr {
        let node = try ZenParser.parse(source, mode: mode)
        var compiler = ZenCompiler(source: source)
        return try compiler.compile(node)
    }

    func aliasDepth(_ name: String) -> Int? {
        var depth = 0
        for alias in aliases.reversed() {
            if alias == name { return depth }
            depth += 1
        }
        return nil
    }

    /// A literal path like `a.b[0]` that can be fetched without evaluating sub-expressions.
    func fastPath(_ node: ZenNode) -> (head: String?, steps: [ZPathStep])? {
        switch node {
        case .root: return (nil, [])
        case .identifier(let name):
            guard aliasDepth(name) == nil else { return nil }
            return (name, [])
        case .member(let n, let p):
            guard var path = fastPath(n) else { return nil }
            switch p {
            case .string(let s): path.steps.append(.key(s))
            case .number(let d):
                guard d >= 0, let i = ZenNumber.exactInt(d), i <= Int64(UInt32.max) else { return nil }
                path.steps.append(.index(Int(i)))
            default: return nil
            }
            return path
        default: return nil
        }
    }

    mutating func compile(_ node: ZenNode) throws(ZenSyntaxError) -> ZExpr {
        switch node {
        case .null: return ZConst(.null)
        case .bool(let b): return ZConst(.bool(b))
        case .number(let n): return ZConst(.number(n))
        case .string(let s): return ZConst(.string(s))
        case .pointer: return ZPointer(0)
        case .root: return ZRoot()
        case .identifier(let name):
            if let depth = aliasDepth(name) { return ZPointer(depth) }
            return ZIdentifier(name)
        case .parenthesized(let inner): return try compile(inner)
        case .closure(let body, let alias):
            aliases.append(alias)
            defer { aliases.removeLast() }
            return try compile(body)
        case .template(let parts):
            return ZTemplate(try parts.map { (p) throws(ZenSyntaxError) in try compile(p) })
        case .array(let items):
            let compiled = try items.map { (p) throws(ZenSyntaxError) in try compile(p) }
            if compiled.allSatisfy({ $0.constant != nil }) {
                return ZConst(.array(compiled.map { $0.constant! }))
            }
            return ZArray(compiled)
        case .object(let pairs):
            var out: [(ZExpr, ZExpr)] = []
            for (k, v) in pairs { out.append((try compile(k), try compile(v))) }
            return ZObject(out)
        case .assignments(let list, let output):
            var items: [(path: [String], key: String, value: ZExpr)] = []
            for (key, value) in list {
                items.append(
                    (
                        key.split(separator: ".", omittingEmptySubsequences: false).map(String.init), key,
                        try compile(value)
                    ))
            }
            return ZAssignments(items, output: try output.map { (o) throws(ZenSyntaxError) in try compile(o) })
        case .member(let n, let p):
            if let path = fastPath(node) { return ZFetchPath(head: path.head, steps: path.steps) }
            return ZMember(try compile(n), try compile(p))
        case .slice(let n, let from, let to):
            return ZSlice(
                try compile(n), try from.map { (x) throws(ZenSyntaxError) in try compile(x) },
                try to.map { (x) throws(ZenSyntaxError) in try compile(x) })
        case .interval(let l, let r, let lb, let rb):
            return ZIntervalExpr(try compile(l), try compile(r), lb, rb)
        case .conditional(let c, let t, let f):
            return ZConditional(try compile(c), try compile(t), try compile(f))
        case .unary(let op, let inner):
            let compiled = try compile(inner)
            switch op {
            case .add: return compiled
            case .subtract:
                if case .number(let n)? = compiled.constant { return ZConst(.number(-n)) }
                return ZNegate(compiled)
            case .not: return ZNot(compiled)
            default: throw fail("unknown unary operator \(op.text)")
            }
        case .binary(let l, let op, let r):
            return try compileBinary(l, op, r)
        case .call(let name, let args):
            return try compileCall(name, args)
        case .method(let name, let this, let args):
            guard let arity = ZenDateFunctions.methodArity[name] else {
                var e = fail("unknown method `\(name)`")
                e.unknownFunction = name
                throw e
            }
            guard args.count >= arity.0 && args.count <= arity.1 else {
                throw fail("invalid number of arguments for method `\(name)`")
            }
            return ZMethod(name, try compile(this), try args.map { (a) throws(ZenSyntaxError) in try compile(a) })
        }
    }

    mutating func compileBinary(_ l: ZenNode, _ op: ZenOperator, _ r: ZenNode) throws(ZenSyntaxError) -> ZExpr {
        let left = try compile(l)
        switch op {
        case .and: return ZAnd(left, try compile(r))
        case .or: return ZOr(left, try compile(r))
        case .nullish: return ZNullish(left, try compile(r))
        default: break
        }
        let right = try compile(r)
        let kind: ZBinaryKind
        switch op {
        case .add: kind = .add
        case .subtract: kind = .subtract
        case .multiply: kind = .multiply
        case .divide: kind = .divide
        case .modulo: kind = .modulo
        case .power: kind = .power
        case .equal: kind = .equal
        case .notEqual: kind = .notEqual
        case .less: kind = .less
        case .greater: kind = .greater
        case .lessOrEqual: kind = .lessOrEqual
        case .greaterOrEqual: kind = .greaterOrEqual
        case .in, .notIn:
            if let interval = right as? ZIntervalExpr {
                return ZInInterval(left, interval, negated: op == .notIn)
            }
            kind = op == .in ? .in : .notIn
        default: throw fail("unknown binary operator \(op.text)")
        }
        if let c = right.constant {
            if let lc = left.constant, let folded = try? ZOps.apply(kind, lc, c) { return ZConst(folded) }
            return ZBinaryConst(left, kind, c)
        }
        return ZBinary(left, kind, right)
    }

    mutating func compileCall(_ name: String, _ args: [ZenNode]) throws(ZenSyntaxError) -> ZExpr {
        if let kind = ZenFunctionTable.closureKind(name) {
            guard args.count == 2 else { throw fail("invalid number of arguments for `\(name)`") }
            return ZClosureCall(kind, try compile(args[0]), try compile(args[1]))
        }
        guard let entry = ZenFunctionTable.entry(name) else {
            var e = fail("unknown function `\(name)`")
            e.unknownFunction = name
            throw e
        }
        guard args.count >= entry.minArgs && args.count <= entry.maxArgs else {
            throw fail("invalid number of arguments for `\(name)`")
        }
        let compiled = try args.map { (a) throws(ZenSyntaxError) in try compile(a) }
        if let clock = entry.clock { return ZClockCall(name, compiled, clock) }
        if compiled.count == 1, let f1 = entry.unary {
            return ZCall1(name, compiled[0], f1)
        }
        return ZCall(name, compiled, entry.function)
    }
}

/// A standard ZEN expression, compiled once.
public struct ZenExpression: @unchecked Sendable {
    public let source: String
    let root: ZExpr

    public init(_ source: String) throws {
        self.source = source
        root = try ZenCompiler.compile(source, mode: .standard)
    }

    init(compiled root: ZExpr, source: String) {
        self.root = root
        self.source = source
    }

    /// Evaluates against a context (normally an object); errors are zen-engine's runtime errors.
    /// `now` is the clock for `d()`, `date('now')` and friends; without it they fail.
    public func evaluate(_ context: ZenValue, now: Date? = nil) throws -> ZenValue {
        let env = ZenEnv(context, now: now.map(ZenClock.millis))
        return ZenDate.externalize(try root.eval(env))
    }

    func run(_ env: ZenEnv) throws(ZenEvaluationError) -> ZenValue {
        try root.eval(env)
    }
}

/// A unary ZEN expression (a decision-table cell): `$` is the tested value.
public struct ZenUnaryExpression: @unchecked Sendable {
    public let source: String
    let root: ZExpr

    public init(_ source: String) throws {
        self.source = source
        root = try ZenCompiler.compile(source, mode: .unary)
    }

    /// True when the cell accepts `value`. `context` supplies other names the cell may read.
    public func test(_ value: ZenValue, context: ZenValue = .object(ZenObject()), now: Date? = nil) throws -> Bool {
        let env = ZenEnv(context, now: now.map(ZenClock.millis))
        env.setLocal("$", value)
        guard case .bool(let b) = try root.eval(env) else {
            throw ZenEvaluationError("Value cast error")
        }
        return b
    }

    func run(_ env: ZenEnv) throws(ZenEvaluationError) -> Bool {
        guard case .bool(let b) = try root.eval(env) else { throw ZenEvaluationError("Value cast error") }
        return b
    }
}

package enum ZenClock {
    package static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
