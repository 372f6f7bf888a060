import Foundation
import LendingCore
import Vapor

/// What every journey page shows around its form: title, the "第n步，共3步" indicator, the sandbox banner,
/// the CSRF token for its forms and (once known) the masked applicant.
struct PageChrome: Encodable {
    let title: String
    let progressLabel: String?
    let progress: [ProgressSegment]
    let sandbox: Bool
    let csrf: String
    let applicant: String?
    let signedIn: Bool
    /// A page script under /js (only the face page has one).
    let script: String?

    struct ProgressSegment: Encodable {
        let number: Int
        let title: String
        /// "done", "current" or "todo": a CSS class.
        let state: String
    }

    init(
        req: Request, step: JourneyStep?, title: String? = nil, applicant: String? = nil, signedIn: Bool,
        script: String? = nil
    ) {
        self.title = title ?? step?.titleZh ?? "易贷"
        self.progressLabel = step?.progressLabelZh
        let current = step?.group?.number ?? (step == nil ? 0 : JourneyStepGroup.allCases.count + 1)
        self.progress =
            step == nil
            ? []
            : JourneyStepGroup.allCases.map { group in
                ProgressSegment(
                    number: group.number, title: group.titleZh,
                    state: group.number < current ? "done" : (group.number == current ? "current" : "todo"))
            }
        self.sandbox = req.yidai.providers.isSandbox
        self.csrf = req.csrfToken
        self.applicant = applicant
        self.signedIn = signedIn
        self.script = script
    }
}

/// What the person typed and what was wrong with it, so a page re-renders with both.
/// Errors are keyed by the form field's name; an error for a field the page does not show goes to `formError`.
struct FormState: Encodable {
    var values: [String: String] = [:]
    var errors: [String: String] = [:]
    var formError: String?
    var notice: String?

    init(values: [String: String] = [:]) {
        self.values = values
    }

    /// Puts the service's error next to its field. `fieldMap` maps the service's field names (e.g.
    /// "emergencyContact.phone") to the page's form field names (e.g. "contactPhone"); unknown fields and
    /// field-less errors go to `fallbackField` when given, else to the top of the form.
    mutating func record(_ error: APIError, fieldMap: [String: String], fallbackField: String? = nil) {
        if let field = error.field, let formField = fieldMap[field] {
            errors[formField] =
                Self.missingPrompts[formField].flatMap { error.code == "missing_field" ? $0 : nil } ?? error.messageZh
        } else if let fallbackField {
            errors[fallbackField] = error.messageZh
        } else {
            formError = error.messageZh
        }
    }

    /// What to say for an empty field, more helpful than the API's generic "请填写此项。".
    static let missingPrompts: [String: String] = [
        "phone": "请输入手机号。", "code": "请输入短信验证码。",
        "frontImage": "请拍摄或选择身份证人像面照片。", "backImage": "请拍摄或选择身份证国徽面照片。",
        "name": "请填写姓名。", "idNumber": "请填写身份证号码。", "address": "请填写住址。", "validUntil": "请填写证件有效期。",
        "capture": "请先拍摄照片，或开启摄像头完成识别。", "cardNumber": "请输入借记卡卡号。",
    ]

    /// Identity field maps: the page uses the service's names.
    static func same(_ names: String...) -> [String: String] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, $0) })
    }
}

/// One option of a `<select>` or radio group.
struct Choice: Encodable {
    let value: String
    let label: String
    let selected: Bool

    static func list(_ options: [(String, String)], selected: String?) -> [Choice] {
        options.map { Choice(value: $0.0, label: $0.1, selected: $0.0 == selected) }
    }
}

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
