import Foundation
import Leaf
import Vapor

/// `#keepTogether(text)`: the text, HTML-escaped, with the tokens a reader must see whole ("YD-LOAN-2026-01",
/// "6222 **** **** 0102", "SZ-0001") kept on one line: a browser would otherwise break them at a hyphen or a space
/// on a narrow phone.
struct KeepTogetherTag: UnsafeUnescapedLeafTag {
    static let tokens = try! NSRegularExpression(
        pattern: #"[A-Z]{2,}[A-Z0-9]*(?:-[A-Z0-9]+)+|\d{4}(?: [0-9*]{4})+(?: [0-9*]{1,4})?"#)

    func render(_ ctx: LeafContext) throws -> LeafData {
        guard ctx.parameters.count == 1 else { throw Abort(.internalServerError, reason: "#keepTogether needs one text") }
        return .string(Self.html(ctx.parameters[0].string ?? ""))
    }

    static func html(_ text: String) -> String {
        let ns = text as NSString
        var out = ""
        var last = 0
        for match in tokens.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += escape(ns.substring(with: NSRange(location: last, length: match.range.location - last)))
            out += "<span class=\"nowrap\">" + escape(ns.substring(with: match.range)) + "</span>"
            last = match.range.location + match.range.length
        }
        return out + escape(ns.substring(from: last))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
