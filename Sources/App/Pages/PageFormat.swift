import Foundation
import LendingCore

/// Display formats for the pages.
enum PageFormat {
    /// "200000.00" → "200,000.00"; "200000" → "200,000".
    static func yuan(_ amount: String) -> String {
        let parts = amount.split(separator: ".", maxSplits: 1)
        guard let whole = parts.first else { return amount }
        let negative = whole.hasPrefix("-")
        let digits = Array(negative ? whole.dropFirst() : whole)
        var grouped = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(ch)
        }
        return (negative ? "-" : "") + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }

    static func yuan(_ amount: Decimal) -> String { yuan(Money.string(amount)) }

    /// Whole yuan without fen when they are zero: "200,000".
    static func wholeYuan(_ amount: String) -> String {
        let formatted = yuan(amount)
        return formatted.hasSuffix(".00") ? String(formatted.dropLast(3)) : formatted
    }

    /// "7.2000" → "7.20"
    static func percent(_ raw: String?) -> String {
        guard let raw, let value = Money.parse(raw) else { return "—" }
        return Money.string(Money.roundHalfEven(value))
    }

    /// A time in China Standard Time: "2026-12-26 15:04".
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!)
    }

    static func date(_ date: Date) -> String {
        String(time(date).prefix(10))
    }

    /// A moment of a conversation or a list in China Standard Time, short: "12月4日 23:26".
    static func shortTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        let c = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return String(format: "%d月%d日 %02d:%02d", c.month!, c.day!, c.hour!, c.minute!)
    }

    /// A civil date in Chinese: 2026-12-15 → 2026年12月15日.
    static func civil(_ date: CivilDate) -> String {
        "\(date.year)年\(date.month)月\(date.day)日"
    }

    /// Test card numbers grouped by 4 for reading: 6222 0202 0011 0000 102.
    static func grouped(_ digits: String) -> String {
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && i % 4 == 0 { out.append(" ") }
            out.append(ch)
        }
        return out
    }

    static func methodTitle(_ method: RepaymentMethod) -> String {
        switch method {
        case .equalInstallment: "等额本息"
        case .equalPrincipal: "等额本金"
        case .interestFirst: "先息后本"
        }
    }

    static func methodHint(_ method: RepaymentMethod) -> String {
        switch method {
        case .equalInstallment: "每月还款金额相同"
        case .equalPrincipal: "每月本金相同，利息逐月递减"
        case .interestFirst: "每月只还利息，到期还本（限12个月内）"
        }
    }

    static func purposeTitle(_ code: String) -> String {
        LoanOfferRules.purposes.first { $0.code == code }?.titleZh ?? code
    }
}
