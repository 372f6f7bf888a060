import Foundation

extension LoanTerms {
    /// Terms from the text a client or a person typed (the API's JSON strings, the CLI's options), naming the field
    /// of the first problem: `principal`, `annualRate`, `termMonths`, `method`, `startDate`, `installmentRounding`,
    /// `upfrontFee`. Absent optional values take their defaults (`startDate` the given business date).
    /// The result is validated.
    public init(
        principalText: String, annualRateText: String, termMonths: Int, methodText: String, startDateText: String?,
        businessDate: CivilDate, installmentRoundingText: String? = nil, upfrontFeeText: String? = nil
    ) throws(FieldError) {
        func number(_ text: String, field: String, zh: String) throws(FieldError) -> Decimal {
            guard let value = Money.parse(text) else {
                throw FieldError(
                    field: field, code: "invalid",
                    message: "\(field) must be a decimal number such as 1234.56",
                    messageZh: "\(zh)须为数字，如 1234.56")
            }
            return value
        }
        let principal = try number(principalText, field: "principal", zh: "借款本金")
        let rate = try number(annualRateText, field: "annualRate", zh: "年利率")
        let method = try RepaymentMethod.named(methodText)
        var start = businessDate
        if let startDateText {
            guard let parsed = CivilDate(iso: startDateText) else {
                throw FieldError(
                    field: "startDate", code: "invalid", message: "startDate must be a date written YYYY-MM-DD",
                    messageZh: "起息日须为 YYYY-MM-DD 格式的日期")
            }
            start = parsed
        }
        let rounding = try installmentRoundingText.map { text throws(FieldError) in
            try number(text, field: "installmentRounding", zh: "还款额取整单位")
        }
        let fee = try upfrontFeeText.map { text throws(FieldError) in try number(text, field: "upfrontFee", zh: "一次性费用")
        }
        self.init(
            principal: principal, annualRatePercent: rate, termMonths: termMonths, method: method, startDate: start,
            installmentRounding: rounding ?? Decimal(sign: .plus, exponent: -2, significand: 1), upfrontFee: fee ?? 0)
        try validate()
    }
}
