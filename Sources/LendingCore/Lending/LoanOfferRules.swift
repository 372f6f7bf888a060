import Foundation

/// What an applicant may ask for once a limit is approved (domain.md: lawful, stated purposes;
/// interest-first only up to 12 months; never above the approved limit).
public struct LoanOffer: Sendable, Equatable {
    public let amount: Decimal
    public let termMonths: Int
    public let method: RepaymentMethod
    public let purpose: String
}

public enum LoanOfferRules {
    public static let termChoices = [3, 6, 12, 18, 24, 36]
    public static let minimumAmount: Decimal = 1000
    public static let amountStep: Decimal = 100
    public static let interestFirstMaxMonths = 12

    /// Purposes a personal consumption loan may serve. Housing purchase and securities/investment are not lawful uses.
    public static let purposes: [(code: String, titleZh: String)] = [
        ("consumption", "日常消费"), ("education", "教育培训"), ("travel", "旅游出行"), ("medical", "医疗健康"),
        ("renovation", "家居装修"), ("wedding", "婚庆"), ("durables", "购买耐用消费品"), ("other", "其他合法消费"),
    ]

    public static func validate(amount rawAmount: String?, termMonths: Int?, method rawMethod: String?, purpose rawPurpose: String?,
                                creditLimit: Decimal) throws(FieldError) -> LoanOffer {
        guard let rawAmount, !rawAmount.isEmpty else { throw missing("amount", zh: "请输入借款金额。") }
        guard let amount = Money.parse(rawAmount.trimmingCharacters(in: .whitespaces)) else {
            throw FieldError(field: "amount", code: "invalid", message: "amount must be a decimal number of yuan, e.g. \"50000\".", messageZh: "请输入正确的金额。")
        }
        guard amount >= minimumAmount else {
            throw FieldError(field: "amount", code: "out_of_range", message: "amount must be at least 1000.", messageZh: "借款金额不能低于1000元。")
        }
        guard amount <= creditLimit else {
            throw FieldError(field: "amount", code: "over_limit", message: "amount must not exceed the approved limit of \(Money.string(creditLimit)).",
                             messageZh: "借款金额不能超过您的可用额度\(Money.string(creditLimit))元。")
        }
        var quotient = amount / amountStep
        var rounded = Decimal()
        NSDecimalRound(&rounded, &quotient, 0, .plain)
        guard rounded == quotient else {
            throw FieldError(field: "amount", code: "invalid", message: "amount must be a multiple of 100.", messageZh: "借款金额须为100元的整数倍。")
        }
        guard let termMonths else { throw missing("termMonths", zh: "请选择借款期限。") }
        guard termChoices.contains(termMonths) else {
            throw FieldError(field: "termMonths", code: "out_of_range", message: "termMonths must be one of \(termChoices.map(String.init).joined(separator: ", ")).",
                             messageZh: "请选择可用的借款期限。")
        }
        guard let rawMethod, !rawMethod.isEmpty else { throw missing("method", zh: "请选择还款方式。") }
        guard let method = RepaymentMethod(rawValue: rawMethod) else {
            throw FieldError(field: "method", code: "invalid", message: "method must be equal-installment, equal-principal or interest-first.", messageZh: "请选择正确的还款方式。")
        }
        if method == .interestFirst && termMonths > interestFirstMaxMonths {
            throw FieldError(field: "method", code: "not_allowed", message: "interest-first repayment is only allowed for terms up to 12 months.",
                             messageZh: "先息后本仅适用于12个月及以内的借款。")
        }
        guard let rawPurpose, !rawPurpose.isEmpty else { throw missing("purpose", zh: "请选择借款用途。") }
        guard purposes.contains(where: { $0.code == rawPurpose }) else {
            throw FieldError(field: "purpose", code: "invalid", message: "purpose must be one of \(purposes.map(\.code).joined(separator: ", ")) (not housing or investment).",
                             messageZh: "请选择列表中的借款用途（不得用于购房或投资）。")
        }
        return LoanOffer(amount: amount, termMonths: termMonths, method: method, purpose: rawPurpose)
    }

    static func missing(_ field: String, zh: String) -> FieldError {
        FieldError(field: field, code: "missing_field", message: "\(field) is required.", messageZh: zh)
    }
}
