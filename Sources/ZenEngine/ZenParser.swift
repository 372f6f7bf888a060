import Foundation

/// The syntax tree of a ZEN expression (mirrors zen-engine's parser nodes).
indirect enum ZenNode {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case template([ZenNode])
    case pointer  // # inside a closure
    case array([ZenNode])
    case object([(ZenNode, ZenNode)])
    case assignments([(String, ZenNode)], output: ZenNode?)
    case identifier(String)
    case closure(ZenNode, alias: String?)
    case parenthesized(ZenNode)
    case root  // $root
    case member(ZenNode, ZenNode)
    case slice(ZenNode, from: ZenNode?, to: ZenNode?)
    case interval(ZenNode, ZenNode, left: ZenBracket, right: ZenBracket)
    case conditional(ZenNode, ZenNode, ZenNode)
    case unary(ZenOperator, ZenNode)
    case binary(ZenNode, ZenOperator, ZenNode)
    case call(String, [ZenNode])
    case method(String, ZenNode, [ZenNode])
}

/// Recursive-descent parser following zen-engine's standard and unary grammars.
package struct ZenParser {
    package enum Mode { case standard, unary }
    enum Context { case global, closure }

    let tokens: [ZenToken]
    let source: String
    let mode: Mode
    var position = 0
    var depth = 0
    let hasRangeOperator: Bool

    init(tokens: [ZenToken], source: String, mode: Mode) {
        self.tokens = tokens
        self.source = source
        self.mode = mode
        self.hasRangeOperator = tokens.contains { $0.kind == .op(.range) }
    }

    static func parse(_ source: String, mode: Mode) throws(ZenSyntaxError) -> ZenNode {
        let tokens = try ZenLexer.tokenize(source)
        var parser = ZenParser(tokens: tokens, source: source, mode: mode)
        let node: ZenNode
        switch mode {
        case .standard: node = try parser.binaryExpression(0, .global)
        case .unary: node = try parser.unaryRoot()
        }
        guard parser.current == nil else {
            throw parser.fail("unexpected `\(parser.current!.value)`")
        }
        return node
    }

    func fail(_ message: String) -> ZenSyntaxError { ZenSyntaxError(expression: source, message: message) }

    var current: ZenToken? { position < tokens.count ? tokens[position] : nil }
    var currentKind: ZenTokenKind? { current?.kind }
    mutating func next() { position += 1 }

    mutating func expect(_ kind: ZenTokenKind, _ what: String) throws(ZenSyntaxError) {
        guard currentKind == kind else {
            throw fail("expected \(what), found \(current.map { "`\($0.value)`" } ?? "end of expression")")
        }
        next()
    }

    static func binaryPrecedence(_ op: ZenOperator) -> (Int, rightAssociative: Bool)? {
        switch op {
        case .or: return (10, false)
        case .and: return (15, false)
        case .equal, .notEqual, .less, .greater, .lessOrEqual, .greaterOrEqual, .in, .notIn: return (20, false)
        case .add, .subtract: return (30, false)
        case .multiply, .divide, .modulo: return (60, false)
        case .power: return (70, true)
        case .nullish: return (80, false)
        default: return nil
        }
    }

    static func unaryPrecedence(_ op: ZenOperator) -> Int? {
        switch op {
        case .not: return 50
        case .add, .subtract: return 200
        default: return nil
        }
    }

    // MARK: unary (table cell) grammar

    mutating func unaryRoot() throws(ZenSyntaxError) -> ZenNode {
        var left = try expressionPair()
        while let token = current {
            let join: ZenOperator
            switch token.kind {
            case .op(.and): join = .and
            case .op(.or), .op(.comma): join = .or
            default: throw fail("invalid join operator `\(token.value)`")
            }
            next()
            let right = try expressionPair()
            left = .binary(left, join, right)
        }
        return left
    }

    mutating func expressionPair() throws(ZenSyntaxError) -> ZenNode {
        var left: ZenNode = .identifier("$")
        if case .op(let op)? = currentKind, op.isComparison {
            // "> 5": the column value is the left side
        } else {
            left = try binaryExpression(0, .global)
        }
        if case .op(let op)? = currentKind, op.isComparison {
            next()
            let right = try binaryExpression(0, .global)
            return .binary(left, op, right)
        }
        switch ZenParser.unaryBehaviour(left) {
        case .compare(let op): return .binary(.identifier("$"), op, left)
        case .asBoolean: return .call("bool", [left])
        }
    }

    enum UnaryBehaviour: Equatable {
        case compare(ZenOperator)
        case asBoolean
    }

    static func unaryBehaviour(_ node: ZenNode) -> UnaryBehaviour {
        switch node {
        case .null, .root, .bool, .number, .string, .template, .object, .assignments, .identifier, .member:
            return .compare(.equal)
        case .pointer, .closure: return .asBoolean
        case .array, .slice, .interval: return .compare(.in)
        case .conditional(_, let a, let b):
            let x = unaryBehaviour(a)
            let y = unaryBehaviour(b)
            return x == y ? x : .compare(.equal)
        case .unary(_, let n), .parenthesized(let n): return unaryBehaviour(n)
        case .binary(let l, let op, let r):
            switch op {
            case .add, .subtract, .multiply, .divide, .modulo, .power:
                let x = unaryBehaviour(l)
                let y = unaryBehaviour(r)
                return x == y ? x : .compare(.equal)
            case .range, .colon: return .compare(.in)
            default: return .asBoolean
            }
        case .call(let name, _):
            switch name {
            case "flatten", "merge", "mergeDeep", "extract", "split", "keys", "values", "filter", "map", "flatMap":
                return .compare(.in)
            case "contains", "startsWith", "endsWith", "matches", "isNumeric", "all", "some", "none", "one":
                return .asBoolean
            default: return .compare(.equal)
            }
        case .method(let name, _, _):
            switch name {
            case "isSame", "isBefore", "isAfter", "isSameOrBefore", "isSameOrAfter", "isValid", "isYesterday",
                "isToday", "isTomorrow", "isLeapYear":
                return .asBoolean
            default: return .compare(.equal)
            }
        }
    }

    // MARK: shared grammar

    mutating func binaryExpression(_ precedence: Int, _ ctx: Context) throws(ZenSyntaxError) -> ZenNode {
        var left = try unaryExpression()
        while case .op(let op)? = currentKind {
            if mode == .unary && ctx == .global && (op == .comma || op == .and || op == .or) { break }
            guard let (p, rightAssoc) = ZenParser.binaryPrecedence(op), p >= precedence else { break }
            next()
            let right = try binaryExpression(rightAssoc ? p : p + 1, .global)
            left = .binary(left, op, right)
        }
        if precedence == 0, currentKind == .op(.question) {
            next()
            let onTrue = try binaryExpression(0, .global)
            try expect(.op(.colon), "`:`")
            let onFalse = try binaryExpression(0, .global)
            left = .conditional(left, onTrue, onFalse)
        }
        return left
    }

    mutating func unaryExpression() throws(ZenSyntaxError) -> ZenNode {
        guard let token = current else { throw fail("unexpected end of expression") }
        if depth > 0 && token.kind == .hash {
            next()
            return try postfix(.pointer).node
        }
        if case .op(let op) = token.kind {
            guard let p = ZenParser.unaryPrecedence(op) else { throw fail("unexpected operator `\(token.value)`") }
            next()
            let operand = try binaryExpression(p, .global)
            return .unary(op, operand)
        }
        if let interval = try interval() { return interval }
        if token.kind == .bracket(.leftParen) {
            next()
            let inner = try binaryExpression(0, .global)
            try expect(.bracket(.rightParen), "`)`")
            return try postfix(.parenthesized(inner)).node
        }
        return try literal()
    }

    mutating func literal() throws(ZenSyntaxError) -> ZenNode {
        guard let token = current else { throw fail("expected a value") }
        switch token.kind {
        case .null:
            next()
            return .null
        case .dollar, .root, .hash, .literal:
            return try identifier()
        case .boolean(let b):
            next()
            return .bool(b)
        case .number:
            guard let d = ZenNumber.parse(String(token.value)) else { throw fail("invalid number \(token.value)") }
            next()
            return .number(d)
        case .quote(let q):
            if q == .backtick { return try templateString() }
            return try simpleString(q)
        case .bracket(let b):
            switch b {
            case .leftParen, .rightParen, .rightSquare:
                if let i = try interval() { return i }
                throw fail("invalid syntax")
            case .leftSquare:
                if let i = try interval() { return i }
                return try array()
            case .leftCurly:
                return try object()
            case .rightCurly:
                throw fail("unexpected `}`")
            }
        case .op:
            throw fail("unexpected operator `\(token.value)`")
        case .templateStart, .templateEnd:
            throw fail("unexpected template token")
        }
    }

    mutating func simpleString(_ q: ZenQuote) throws(ZenSyntaxError) -> ZenNode {
        try expect(.quote(q), "a quote")
        guard let t = current, t.kind == .literal else { throw fail("invalid string") }
        next()
        try expect(.quote(q), "a closing quote")
        return .string(String(t.value))
    }

    mutating func templateString() throws(ZenSyntaxError) -> ZenNode {
        try expect(.quote(.backtick), "`")
        var parts: [ZenNode] = []
        while let t = current, t.kind != .quote(.backtick) {
            switch t.kind {
            case .templateStart:
                next()
                parts.append(try binaryExpression(0, .global))
                try expect(.templateEnd, "`}`")
            case .templateEnd:
                next()
            case .literal:
                parts.append(.string(String(t.value)))
                next()
            default:
                throw fail("invalid template string")
            }
        }
        try expect(.quote(.backtick), "closing `")
        return .template(parts)
    }

    enum PostfixCombination { case mixed, computed, property, inherit }

    mutating func postfix(_ node: ZenNode) throws(ZenSyntaxError) -> (node: ZenNode, combination: PostfixCombination) {
        guard let t = current else { return (node, .mixed) }
        let processed: ZenNode
        let kind: PostfixCombination
        switch t.kind {
        case .op(.dot):
            next()
            guard let property = current else { throw fail("expected a property") }
            next()
            switch property.kind {
            case .dollar, .root, .hash, .null, .literal, .op(.and), .op(.or), .op(.not), .op(.nullish), .op(.in):
                break
            default:
                throw fail("invalid property `\(property.value)`")
            }
            if currentKind == .bracket(.leftParen) {
                return (try methodCall(node, String(property.value)), .mixed)
            }
            processed = .member(node, .string(String(property.value)))
            kind = .property
        case .bracket(.leftSquare):
            next()
            processed = try computedAccess(node)
            kind = .computed
        default:
            return (node, .inherit)
        }
        let (result, combination) = try postfix(processed)
        let combined: PostfixCombination
        switch (combination, kind) {
        case (.computed, .computed): combined = .computed
        case (.property, .property): combined = .property
        case (.inherit, let other): combined = other
        default: combined = .mixed
        }
        return (result, combined)
    }

    mutating func computedAccess(_ node: ZenNode) throws(ZenSyntaxError) -> ZenNode {
        guard current != nil else { throw fail("expected a property") }
        if currentKind == .op(.colon) {
            next()
            var to: ZenNode?
            if currentKind != .bracket(.rightSquare) { to = try binaryExpression(0, .global) }
            try expect(.bracket(.rightSquare), "`]`")
            return .slice(node, from: nil, to: to)
        }
        let from = try binaryExpression(0, .global)
        if currentKind == .op(.colon) {
            next()
            var to: ZenNode?
            if currentKind != .bracket(.rightSquare) { to = try binaryExpression(0, .global) }
            try expect(.bracket(.rightSquare), "`]`")
            return .slice(node, from: from, to: to)
        }
        try expect(.bracket(.rightSquare), "`]`")
        return .member(node, from)
    }

    static let dateMethods: Set<String> = [
        "add", "sub", "set", "format", "startOf", "endOf", "diff", "tz", "isSame", "isBefore", "isAfter",
        "isSameOrBefore", "isSameOrAfter", "second", "minute", "hour", "day", "dayOfYear", "week", "weekday",
        "month", "quarter", "year", "timestamp", "offsetName", "isValid", "isYesterday", "isToday", "isTomorrow",
        "isLeapYear",
    ]

    mutating func methodCall(_ node: ZenNode, _ name: String) throws(ZenSyntaxError) -> ZenNode {
        guard ZenParser.dateMethods.contains(name) else {
            var e = fail("unknown method `\(name)`")
            e.unknownFunction = name
            throw e
        }
        try expect(.bracket(.leftParen), "`(`")
        var args: [ZenNode] = []
        while currentKind != .bracket(.rightParen) {
            args.append(try binaryExpression(0, .global))
            if currentKind != .op(.comma) { break }
            next()
        }
        try expect(.bracket(.rightParen), "`)`")
        return try postfix(.method(name, node, args)).node
    }

    mutating func identifier() throws(ZenSyntaxError) -> ZenNode {
        guard let token = current else { throw fail("expected an identifier") }
        next()
        if currentKind != .bracket(.leftParen) {
            let base: ZenNode = token.kind == .root ? .root : .identifier(String(token.value))
            let (node, combination) = try postfix(base)
            if currentKind == .op(.assign) {
                guard combination == .property || combination == .inherit else {
                    throw fail("only property access is allowed during assignment")
                }
                return try assignments(startingWith: node)
            }
            return node
        }
        let name = String(token.value)
        guard ZenFunctionTable.isKnown(name) else {
            var e = fail("unknown function `\(name)`")
            e.unknownFunction = name
            throw e
        }
        next()  // (
        var args: [ZenNode] = []
        if ZenFunctionTable.closureFunctions.contains(name) {
            args.append(try binaryExpression(0, .global))
            var alias: String?
            if let t = current, t.kind == .literal, t.value == "as" {
                next()
                guard let a = current, a.kind == .literal else { throw fail("expected identifier after 'as'") }
                alias = String(a.value)
                next()
            }
            try expect(.op(.comma), "`,`")
            depth += 1
            let body = try binaryExpression(0, .closure)
            depth -= 1
            args.append(.closure(body, alias: alias))
            try expect(.bracket(.rightParen), "`)`")
        } else {
            while currentKind != .bracket(.rightParen) {
                args.append(try binaryExpression(0, .global))
                if currentKind != .op(.comma) { break }
                next()
            }
            try expect(.bracket(.rightParen), "`)`")
        }
        return try postfix(.call(name, args)).node
    }

    static func memberKey(_ node: ZenNode) -> [String]? {
        switch node {
        case .identifier(let name): return [name]
        case .root: return ["$root"]
        case .member(let n, let p):
            guard var head = memberKey(n) else { return nil }
            switch p {
            case .string(let s): head.append(s)
            case .root: head.append("$root")
            default: return nil
            }
            return head
        default: return nil
        }
    }

    mutating func assignments(startingWith first: ZenNode) throws(ZenSyntaxError) -> ZenNode {
        try expect(.op(.assign), "`=`")
        var list: [(String, ZenNode)] = []
        guard let firstKey = ZenParser.memberKey(first) else { throw fail("failed to resolve assignment key") }
        list.append((firstKey.joined(separator: "."), try binaryExpression(0, .global)))
        var returnCheckpoint: Int?
        while current != nil {
            try expect(.op(.semicolon), "`;`")
            guard let t = current else { break }
            let checkpoint = position
            next()
            let base: ZenNode = t.kind == .root ? .root : .identifier(String(t.value))
            let saved = position
            let keyNode: ZenNode
            let combination: PostfixCombination
            do {
                (keyNode, combination) = try postfix(base)
            } catch {
                position = saved
                returnCheckpoint = checkpoint
                break
            }
            guard currentKind == .op(.assign) else {
                returnCheckpoint = checkpoint
                break
            }
            next()
            guard combination == .property || combination == .inherit, let key = ZenParser.memberKey(keyNode) else {
                throw fail("only property access is allowed during assignment")
            }
            list.append((key.joined(separator: "."), try binaryExpression(0, .global)))
        }
        var output: ZenNode?
        if let checkpoint = returnCheckpoint {
            position = checkpoint
            output = try binaryExpression(0, .global)
        }
        return .assignments(list, output: output)
    }

    mutating func interval() throws(ZenSyntaxError) -> ZenNode? {
        guard hasRangeOperator, case .bracket(let leftBracket)? = currentKind else { return nil }
        let start = position
        next()
        let left: ZenNode
        do { left = try binaryExpression(0, .global) } catch {
            position = start
            return nil
        }
        guard currentKind == .op(.range) else {
            position = start
            return nil
        }
        next()
        let right: ZenNode
        do { right = try binaryExpression(0, .global) } catch {
            position = start
            return nil
        }
        guard case .bracket(let rightBracket)? = currentKind else {
            position = start
            return nil
        }
        next()
        let node = ZenNode.interval(left, right, left: leftBracket, right: rightBracket)
        return try postfix(node).node
    }

    mutating func array() throws(ZenSyntaxError) -> ZenNode {
        try expect(.bracket(.leftSquare), "`[`")
        var items: [ZenNode] = []
        while currentKind != .bracket(.rightSquare) {
            if !items.isEmpty {
                try expect(.op(.comma), "`,`")
                if currentKind == .bracket(.rightSquare) { break }
            }
            guard current != nil else { throw fail("unterminated array") }
            items.append(try binaryExpression(0, .global))
        }
        try expect(.bracket(.rightSquare), "`]`")
        return try postfix(.array(items)).node
    }

    mutating func object() throws(ZenSyntaxError) -> ZenNode {
        try expect(.bracket(.leftCurly), "`{`")
        var pairs: [(ZenNode, ZenNode)] = []
        if currentKind == .bracket(.rightCurly) {
            next()
            return .object(pairs)
        }
        while true {
            let key = try objectKey()
            try expect(.op(.colon), "`:`")
            let value = try binaryExpression(0, .global)
            pairs.append((key, value))
            guard let t = current else { break }
            if t.kind == .op(.comma) {
                next()
                continue
            }
            if t.kind == .bracket(.rightCurly) { break }
            throw fail("invalid object syntax")
        }
        try expect(.bracket(.rightCurly), "`}`")
        return .object(pairs)
    }

    mutating func objectKey() throws(ZenSyntaxError) -> ZenNode {
        guard let t = current else { throw fail("expected an object key") }
        switch t.kind {
        case .dollar, .root, .hash, .null, .number, .literal:
            next()
            return .string(String(t.value))
        case .boolean(let b):
            next()
            return .string(b ? "true" : "false")
        case .bracket(.leftSquare):
            next()
            let k = try binaryExpression(0, .global)
            try expect(.bracket(.rightSquare), "`]`")
            return k
        case .quote(.single): return try simpleString(.single)
        case .quote(.double): return try simpleString(.double)
        default:
            throw fail("unsupported object key `\(t.value)`")
        }
    }
}
