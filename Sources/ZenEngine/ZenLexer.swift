import Foundation

/// Errors raised while reading or compiling a ZEN expression.
public struct ZenSyntaxError: Error, CustomStringConvertible, Sendable {
    public let expression: String
    public let message: String
    /// Set when the expression calls a function or method the language does not have.
    public var unknownFunction: String? = nil
    public var description: String { "\(message) in expression `\(expression)`" }
}

/// A runtime error of a ZEN expression (zen-engine's "vmError").
public struct ZenEvaluationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }

    /// A clock-dependent function ("now", `d()`, `isToday()`) ran without a clock.
    static let noClock = ZenEvaluationError(
        "this expression reads the current time; pass `now:` when evaluating to allow it")
}

enum ZenOperator: Equatable {
    case add, subtract, multiply, divide, modulo, power
    case and, or, not, nullish
    case equal, notEqual, less, greater, lessOrEqual, greaterOrEqual, `in`, notIn
    case range, comma, colon, dot, question, assign, semicolon

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .greater, .lessOrEqual, .greaterOrEqual, .in, .notIn: return true
        default: return false
        }
    }

    var text: String {
        switch self {
        case .add: return "+"
        case .subtract: return "-"
        case .multiply: return "*"
        case .divide: return "/"
        case .modulo: return "%"
        case .power: return "^"
        case .and: return "and"
        case .or: return "or"
        case .not: return "not"
        case .nullish: return "??"
        case .equal: return "=="
        case .notEqual: return "!="
        case .less: return "<"
        case .greater: return ">"
        case .lessOrEqual: return "<="
        case .greaterOrEqual: return ">="
        case .in: return "in"
        case .notIn: return "not in"
        case .range: return ".."
        case .comma: return ","
        case .colon: return ":"
        case .dot: return "."
        case .question: return "?"
        case .assign: return "="
        case .semicolon: return ";"
        }
    }
}

enum ZenBracket: Equatable {
    case leftParen, rightParen, leftSquare, rightSquare, leftCurly, rightCurly
}

enum ZenQuote: Equatable {
    case single, double, backtick
}

enum ZenTokenKind: Equatable {
    case dollar  // $
    case root  // $root
    case hash  // #
    case null
    case boolean(Bool)
    case number
    case quote(ZenQuote)
    case literal  // identifiers and string contents
    case op(ZenOperator)
    case bracket(ZenBracket)
    case templateStart  // ${
    case templateEnd  // } closing an interpolation
}

struct ZenToken {
    let kind: ZenTokenKind
    let value: Substring
}

/// Splits a ZEN expression into tokens following zen-engine's lexer.
struct ZenLexer {
    let source: String
    let chars: [Character]
    var pos = 0
    var tokens: [ZenToken] = []

    init(_ source: String) {
        self.source = source
        self.chars = Array(source)
    }

    static func tokenize(_ source: String) throws(ZenSyntaxError) -> [ZenToken] {
        var lexer = ZenLexer(source)
        try lexer.scan()
        return lexer.tokens
    }

    func fail(_ message: String) -> ZenSyntaxError { ZenSyntaxError(expression: source, message: message) }

    func text(_ from: Int, _ to: Int) -> Substring {
        Substring(String(chars[from..<to]))
    }

    mutating func push(_ kind: ZenTokenKind, _ from: Int, _ to: Int) {
        tokens.append(ZenToken(kind: kind, value: text(from, to)))
    }

    static func isAlpha(_ c: Character) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "$" || c == "_" || c == "#"
    }

    static func isAlphanumeric(_ c: Character) -> Bool {
        isAlpha(c) || (c >= "0" && c <= "9")
    }

    static func isDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }

    mutating func scan() throws(ZenSyntaxError) {
        while pos < chars.count {
            try scanOne()
        }
    }

    mutating func scanOne() throws(ZenSyntaxError) {
        let c = chars[pos]
        switch c {
        case " ", "\n", "\t":
            pos += 1
        case "'": try string(.single)
        case "\"": try string(.double)
        case "`": try template()
        case _ where ZenLexer.isDigit(c): number()
        case "(":
            push(.bracket(.leftParen), pos, pos + 1)
            pos += 1
        case ")":
            push(.bracket(.rightParen), pos, pos + 1)
            pos += 1
        case "[":
            push(.bracket(.leftSquare), pos, pos + 1)
            pos += 1
        case "]":
            push(.bracket(.rightSquare), pos, pos + 1)
            pos += 1
        case "{":
            push(.bracket(.leftCurly), pos, pos + 1)
            pos += 1
        case "}":
            push(.bracket(.rightCurly), pos, pos + 1)
            pos += 1
        case ">", "<", "!":
            let start = pos
            pos += 1
            var value = String(c)
            if pos < chars.count && chars[pos] == "=" {
                pos += 1
                value.append("=")
            }
            let op: ZenOperator
            switch value {
            case ">": op = .greater
            case ">=": op = .greaterOrEqual
            case "<": op = .less
            case "<=": op = .lessOrEqual
            case "!": op = .not
            case "!=": op = .notEqual
            default: throw fail("unexpected symbol \(value)")
            }
            push(.op(op), start, pos)
        case ",":
            push(.op(.comma), pos, pos + 1)
            pos += 1
        case ":":
            push(.op(.colon), pos, pos + 1)
            pos += 1
        case "+":
            push(.op(.add), pos, pos + 1)
            pos += 1
        case "-":
            push(.op(.subtract), pos, pos + 1)
            pos += 1
        case "/":
            push(.op(.divide), pos, pos + 1)
            pos += 1
        case "*":
            push(.op(.multiply), pos, pos + 1)
            pos += 1
        case "^":
            push(.op(.power), pos, pos + 1)
            pos += 1
        case "%":
            push(.op(.modulo), pos, pos + 1)
            pos += 1
        case "?":
            if pos + 1 < chars.count && chars[pos + 1] == "?" {
                push(.op(.nullish), pos, pos + 2)
                pos += 2
            } else {
                push(.op(.question), pos, pos + 1)
                pos += 1
            }
        case "=":
            if pos + 1 < chars.count && chars[pos + 1] == "=" {
                push(.op(.equal), pos, pos + 2)
                pos += 2
            } else {
                push(.op(.assign), pos, pos + 1)
                pos += 1
            }
        case ".":
            if pos + 1 < chars.count && chars[pos + 1] == "." {
                push(.op(.range), pos, pos + 2)
                pos += 2
            } else {
                push(.op(.dot), pos, pos + 1)
                pos += 1
            }
        case ";":
            push(.op(.semicolon), pos, pos + 1)
            pos += 1
        case _ where ZenLexer.isAlpha(c): identifier()
        default:
            throw fail("unexpected symbol `\(c)`")
        }
    }

    mutating func string(_ quote: ZenQuote) throws(ZenSyntaxError) {
        let opener = chars[pos]
        let start = pos
        pos += 1
        while true {
            guard pos < chars.count else { throw fail("unterminated string") }
            if chars[pos] == opener { break }
            pos += 1
        }
        let end = pos
        pos += 1
        push(.quote(quote), start, start + 1)
        push(.literal, start + 1, end)
        push(.quote(quote), end, end + 1)
    }

    mutating func template() throws(ZenSyntaxError) {
        let start = pos
        pos += 1
        push(.quote(.backtick), start, start + 1)
        var inExpression = false
        var stringStart = start + 1
        while true {
            guard pos < chars.count else {
                if !inExpression && stringStart < chars.count {
                    push(.literal, stringStart, chars.count)
                }
                push(.quote(.backtick), chars.count, chars.count)
                return
            }
            let e = pos
            let c = chars[pos]
            pos += 1
            switch (c, inExpression) {
            case ("`", _):
                if stringStart < e { push(.literal, stringStart, e) }
                push(.quote(.backtick), e, e + 1)
                return
            case ("$", false):
                if pos < chars.count && chars[pos] == "{" {
                    pos += 1
                    inExpression = true
                    push(.literal, stringStart, e)
                    push(.templateStart, e, e + 2)
                }
            case ("}", true):
                inExpression = false
                push(.templateEnd, e, e + 1)
                stringStart = e + 1
            case (_, false):
                continue
            case (_, true):
                pos -= 1
                try scanOne()
            }
        }
    }

    mutating func number() {
        let start = pos
        pos += 1
        var end = start
        var fractal = false
        while pos < chars.count {
            let c = chars[pos]
            guard ZenLexer.isDigit(c) || c == "_" || c == "." else { break }
            if c == "." {
                if fractal { break }
                if pos + 1 < chars.count {
                    if chars[pos + 1] == "." { break }
                    fractal = true
                }
            }
            end = pos
            pos += 1
        }
        if pos < chars.count && chars[pos] == "e" {
            let ePos = pos
            pos += 1
            end = ePos
            if pos < chars.count && (chars[pos] == "+" || chars[pos] == "-") {
                end = pos
                pos += 1
            }
            var hasDigits = false
            while pos < chars.count && ZenLexer.isDigit(chars[pos]) {
                end = pos
                pos += 1
                hasDigits = true
            }
            if !hasDigits {
                pos = ePos
                end = ePos - 1
            }
        }
        push(.number, start, end + 1)
    }

    mutating func identifier() {
        let start = pos
        pos += 1
        while pos < chars.count && ZenLexer.isAlphanumeric(chars[pos]) { pos += 1 }
        let value = String(chars[start..<pos])
        switch value {
        case "and": push(.op(.and), start, pos)
        case "or": push(.op(.or), start, pos)
        case "in": push(.op(.in), start, pos)
        case "true": push(.boolean(true), start, pos)
        case "false": push(.boolean(false), start, pos)
        case "not":
            // "not in" is one operator when followed by exactly " in ".
            let rest = " in "
            let restChars = Array(rest)
            if pos + restChars.count <= chars.count && Array(chars[pos..<pos + restChars.count]) == restChars {
                pos += restChars.count
                tokens.append(ZenToken(kind: .op(.notIn), value: "not in"))
            } else {
                push(.op(.not), start, pos)
            }
        case "$": push(.dollar, start, pos)
        case "$root": push(.root, start, pos)
        case "#": push(.hash, start, pos)
        case "null": push(.null, start, pos)
        default: push(.literal, start, pos)
        }
    }
}
