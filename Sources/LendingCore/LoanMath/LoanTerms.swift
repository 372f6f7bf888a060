import Foundation

/// How a loan is repaid, month by month.
public enum RepaymentMethod: String, Sendable, CaseIterable, Codable {
    /// 等额本息: the same payment every month (the last takes the remainder).
    case equalInstallment = "equal-installment"
    /// 等额本金: the same principal every month, interest on what is left.
    case equalPrincipal = "equal-principal"
    /// 先息后本: interest every month, all principal with the last installment.
    case interestFirst = "interest-first"

    /// Parses the API's / CLI's spelling, or says which values are allowed (field `method`).
    public static func named(_ raw: String) throws(FieldError) -> RepaymentMethod {
        guard let method = RepaymentMethod(rawValue: raw) else {
            throw FieldError(
                field: "method", code: "invalid",
                message: "method must be one of equal-installment, equal-principal, interest-first",
                messageZh: "还款方式须为 equal-installment（等额本息）、equal-principal（等额本金）或 interest-first（先息后本）")
        }
        return method
    }
}

/// What a borrower asks for: the inputs of a quote and of a contract's repayment plan.
public struct LoanTerms: Sendable, Equatable {
    public var principal: Decimal
    /// Nominal annual rate in percent (12 means 12% a year, 1% a month).
    public var annualRatePercent: Decimal
    public var termMonths: Int
    public var method: RepaymentMethod
    /// Disbursement date; installment k falls due k months later (clamped to month end).
    public var startDate: CivilDate
    /// The level payment of an equal-installment loan is rounded (half-even) to a multiple of this.
    public var installmentRounding: Decimal
    /// Paid by the borrower at disbursement; changes only the APR.
    public var upfrontFee: Decimal

    public init(
        principal: Decimal, annualRatePercent: Decimal, termMonths: Int, method: RepaymentMethod,
        startDate: CivilDate, installmentRounding: Decimal = Decimal(sign: .plus, exponent: -2, significand: 1),
        upfrontFee: Decimal = 0
    ) {
        self.principal = principal
        self.annualRatePercent = annualRatePercent
        self.termMonths = termMonths
        self.method = method
        self.startDate = startDate
        self.installmentRounding = installmentRounding
        self.upfrontFee = upfrontFee
    }

    /// Limits a calculator needs. The regulatory caps (200,000 online, interest-first ≤ 12 months) belong to the
    /// credit policy, not here. Field names are the API's JSON keys.
    public static let maximumPrincipalFen: Int64 = 10_000_000_000
    public static let termRange = 1...360
    public static let maximumAnnualRatePercent: Decimal = 36
    /// More decimals than this in a rate would not be a real contract rate; the exact integer engine needs a bound.
    public static let maximumRateDecimals = 10
    public static let maximumInstallmentRoundingFen: Int64 = 1_000_000  // 10,000.00

    /// Throws the first problem found, naming the field by its API key.
    public func validate() throws(FieldError) {
        _ = try resolved()
    }

    /// The terms in the integer form the engine computes with (fen, exact rate fraction).
    func resolved() throws(FieldError) -> ResolvedLoanTerms {
        guard let principalFen = Money.fen(exactly: principal), principalFen >= 1,
            principalFen <= Self.maximumPrincipalFen
        else {
            throw FieldError(
                field: "principal", code: "out_of_range",
                message: "principal must be between 0.01 and 100000000.00 with at most 2 decimals",
                messageZh: "借款本金须在 0.01 至 100,000,000.00 元之间，最多两位小数")
        }
        guard let rate = ExactMonthlyRate(annualPercent: annualRatePercent, maximumDecimals: Self.maximumRateDecimals),
            annualRatePercent <= Self.maximumAnnualRatePercent
        else {
            throw FieldError(
                field: "annualRate", code: "out_of_range",
                message: "annualRate must be between 0 and 36 (percent a year) with at most 10 decimals",
                messageZh: "年利率须在 0% 至 36% 之间（最多十位小数）")
        }
        guard Self.termRange.contains(termMonths) else {
            throw FieldError(
                field: "termMonths", code: "out_of_range",
                message: "termMonths must be a whole number of months between 1 and 360",
                messageZh: "借款期限须为 1 至 360 个月")
        }
        guard startDate.year >= 1900, startDate.year <= 9968 else {
            throw FieldError(
                field: "startDate", code: "out_of_range",
                message: "startDate must be between 1900-01-01 and 9968-12-31",
                messageZh: "起息日须在 1900-01-01 至 9968-12-31 之间")
        }
        guard let roundingFen = Money.fen(exactly: installmentRounding), roundingFen >= 1,
            roundingFen <= Self.maximumInstallmentRoundingFen
        else {
            throw FieldError(
                field: "installmentRounding", code: "out_of_range",
                message:
                    "installmentRounding must be a positive multiple of 0.01 no larger than 10000 (e.g. 0.01, 1, 100)",
                messageZh: "还款额取整单位须为 0.01 的正整数倍且不超过 10000（如 0.01、1、100）")
        }
        guard let feeFen = Money.fen(exactly: upfrontFee), feeFen >= 0, feeFen < principalFen else {
            throw FieldError(
                field: "upfrontFee", code: "out_of_range",
                message: "upfrontFee must be at least 0.00, with at most 2 decimals, and below the principal",
                messageZh: "一次性费用须不小于 0.00、最多两位小数，且低于借款本金")
        }
        return ResolvedLoanTerms(
            principalFen: principalFen, rate: rate, termMonths: termMonths, method: method, startDate: startDate,
            roundingFen: roundingFen, feeFen: feeFen)
    }
}

/// Validated terms in integer fen and an exact rate.
struct ResolvedLoanTerms: Sendable {
    var principalFen: Int64
    var rate: ExactMonthlyRate
    var termMonths: Int
    var method: RepaymentMethod
    var startDate: CivilDate
    var roundingFen: Int64
    var feeFen: Int64
}
