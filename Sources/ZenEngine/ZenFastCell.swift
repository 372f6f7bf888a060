import Foundation

/// A unary cell reduced to a direct test of the column value (no environment needed): what decision tables
/// run for most cells.
package enum ZenFastCell {
    case compare(ZBinaryKind, ZenValue)
    /// `$ < 5` and friends with a small constant: integer comparisons on the decimal's parts.
    case compareNumber(ZBinaryKind, ZenDecimalParts)
    case inInterval(ZenInterval, negated: Bool)
    /// `[a..b]` with small constant bounds: "<" / "<=" on each side.
    case inNumberInterval(ZenDecimalParts, ZenDecimalParts, leftInclusive: Bool, rightInclusive: Bool)
    case inValues(ZenValue, negated: Bool)
    indirect case and(ZenFastCell, ZenFastCell)
    indirect case or(ZenFastCell, ZenFastCell)

    /// Signed comparison of two small decimals given as parts.
    @inline(__always)
    static func compareParts(_ x: ZenDecimalParts, _ y: ZenDecimalParts) -> Int? {
        let xs = x.mantissa == 0 ? 0 : (x.negative ? -1 : 1)
        let ys = y.mantissa == 0 ? 0 : (y.negative ? -1 : 1)
        if xs != ys { return xs < ys ? -1 : 1 }
        if xs == 0 { return 0 }
        guard abs(x.exponent - y.exponent) <= 19,
            let c = ZenNumber.compareMagnitude(x.mantissa, x.exponent, y.mantissa, y.exponent)
        else { return nil }
        return xs > 0 ? c : -c
    }

    /// The test on a number already split into parts (the column value's parts are computed once).
    @inline(__always)
    package func testNumber(_ p: ZenDecimalParts, _ v: ZenValue) -> Bool? {
        switch self {
        case .compareNumber(let kind, let c):
            guard let r = ZenFastCell.compareParts(p, c) else { return test(v) }
            switch kind {
            case .equal: return r == 0
            case .notEqual: return r != 0
            case .less: return r < 0
            case .greater: return r > 0
            case .lessOrEqual: return r <= 0
            default: return r >= 0
            }
        case .inNumberInterval(let lo, let hi, let li, let ri):
            guard let a = ZenFastCell.compareParts(lo, p), let b = ZenFastCell.compareParts(p, hi) else {
                return test(v)
            }
            return (li ? a <= 0 : a < 0) && (ri ? b <= 0 : b < 0)
        case .and(let a, let b):
            guard let x = a.testNumber(p, v) else { return nil }
            return x ? b.testNumber(p, v) : false
        case .or(let a, let b):
            guard let x = a.testNumber(p, v) else { return nil }
            return x ? true : b.testNumber(p, v)
        default:
            return test(v)
        }
    }

    /// nil when zen-engine would raise an error (the cell then fails).
    @inline(__always)
    package func test(_ v: ZenValue) -> Bool? {
        switch self {
        case .compareNumber(let kind, let c):
            let constant = ZenValue.number(
                ZenNumber.make(mantissa: c.mantissa, exponent: c.exponent, negative: c.negative))
            return ZenFastCell.compare(kind, constant).test(v)
        case .inNumberInterval(let lo, let hi, let li, let ri):
            let l = ZenValue.number(ZenNumber.make(mantissa: lo.mantissa, exponent: lo.exponent, negative: lo.negative))
            let r = ZenValue.number(ZenNumber.make(mantissa: hi.mantissa, exponent: hi.exponent, negative: hi.negative))
            let i = ZenInterval(
                left: l, right: r, leftBracket: li ? .leftSquare : .leftParen,
                rightBracket: ri ? .rightSquare : .rightParen)
            return ZenFastCell.inInterval(i, negated: false).test(v)
        case .compare(let kind, let c):
            switch kind {
            case .equal: return ZOps.equal(v, c)
            case .notEqual: return !ZOps.equal(v, c)
            default: return try? ZOps.compare(kind, v, c)
            }
        case .inInterval(let i, let negated):
            guard let r = try? i.includes(v) else { return nil }
            return negated ? !r : r
        case .inValues(let container, let negated):
            guard let r = try? ZOps.contains(container, v) else { return nil }
            return negated ? !r : r
        case .and(let a, let b):
            guard let x = a.test(v) else { return nil }
            return x ? b.test(v) : false
        case .or(let a, let b):
            guard let x = a.test(v) else { return nil }
            return x ? true : b.test(v)
        }
    }

    /// The fast form of a unary cell's source, or nil when it has none (the cell is then evaluated as compiled).
    package static func from(unary source: String) -> ZenFastCell? {
        guard let parsed = try? ZenParser.parse(source, mode: .unary) else { return nil }
        return from(parsed, source: source)
    }

    static func from(_ node: ZenNode, source: String) -> ZenFastCell? {
        switch node {
        case .parenthesized(let n): return from(n, source: source)
        case .call("bool", let args) where args.count == 1:
            // bool() of a comparison is the comparison itself.
            if case .binary(_, let op, _) = args[0], op.isComparison { return from(args[0], source: source) }
            if case .binary(_, let op, _) = args[0], op == .and || op == .or { return from(args[0], source: source) }
            return nil
        case .binary(let l, let op, let r):
            if op == .and || op == .or {
                guard let a = from(l, source: source), let b = from(r, source: source) else { return nil }
                return op == .and ? .and(a, b) : .or(a, b)
            }
            guard op.isComparison, case .identifier("$") = l else { return nil }
            var compiler = ZenCompiler(source: source)
            if op == .in || op == .notIn {
                if case .interval(let a, let b, let lb, let rb) = r {
                    guard let ca = try? compiler.compile(a).constant, let cb = try? compiler.compile(b).constant,
                        case .number = ca, case .number = cb
                    else { return nil }
                    if op == .in, case .number(let x) = ca, case .number(let y) = cb, let px = ZenNumber.parts(x),
                        let py = ZenNumber.parts(y), lb == .leftSquare || lb == .leftParen,
                        rb == .rightSquare || rb == .rightParen
                    {
                        return .inNumberInterval(
                            px, py, leftInclusive: lb == .leftSquare, rightInclusive: rb == .rightSquare)
                    }
                    return .inInterval(
                        ZenInterval(left: ca, right: cb, leftBracket: lb, rightBracket: rb), negated: op == .notIn)
                }
                guard let c = try? compiler.compile(r).constant else { return nil }
                switch c {
                case .array, .object: return .inValues(c, negated: op == .notIn)
                default: return nil
                }
            }
            guard let c = try? compiler.compile(r).constant else { return nil }
            if case .object = c { return nil }
            let kind: ZBinaryKind
            switch op {
            case .equal: kind = .equal
            case .notEqual: kind = .notEqual
            case .less: kind = .less
            case .greater: kind = .greater
            case .lessOrEqual: kind = .lessOrEqual
            default: kind = .greaterOrEqual
            }
            if case .number(let n) = c, let p = ZenNumber.parts(n) { return .compareNumber(kind, p) }
            return .compare(kind, c)
        default:
            return nil
        }
    }
}

/// A numeric cell on a column: `< 5`, `>= 10000`, `[22..55]`, `(0..1]` with small constants.
/// Plain data, so checking it costs no reference counting.
package struct ZenNumericCell {
    enum Kind: UInt8 { case equal, notEqual, less, greater, lessOrEqual, greaterOrEqual, interval }
    package let column: Int
    let kind: Kind
    let a: ZenDecimalParts
    let b: ZenDecimalParts
    let leftInclusive: Bool
    let rightInclusive: Bool

    package init?(column: Int, _ cell: ZenFastCell) {
        self.column = column
        switch cell {
        case .compareNumber(let k, let c):
            switch k {
            case .equal: kind = .equal
            case .notEqual: kind = .notEqual
            case .less: kind = .less
            case .greater: kind = .greater
            case .lessOrEqual: kind = .lessOrEqual
            case .greaterOrEqual: kind = .greaterOrEqual
            default: return nil
            }
            a = c
            b = c
            leftInclusive = false
            rightInclusive = false
        case .inNumberInterval(let lo, let hi, let li, let ri):
            kind = .interval
            a = lo
            b = hi
            leftInclusive = li
            rightInclusive = ri
        default:
            return nil
        }
    }

    /// nil when the exact answer needs Foundation (very large or very precise values).
    @inline(__always)
    package func test(_ p: ZenDecimalParts) -> Bool? {
        if kind == .interval {
            guard let x = ZenFastCell.compareParts(a, p), let y = ZenFastCell.compareParts(p, b) else { return nil }
            return (leftInclusive ? x <= 0 : x < 0) && (rightInclusive ? y <= 0 : y < 0)
        }
        guard let r = ZenFastCell.compareParts(p, a) else { return nil }
        switch kind {
        case .equal: return r == 0
        case .notEqual: return r != 0
        case .less: return r < 0
        case .greater: return r > 0
        case .lessOrEqual: return r <= 0
        default: return r >= 0
        }
    }
}
