import Foundation

/// The rules of a risk reviewer's decision on a referred application (人工审核).
/// - An approval is a credit limit and an annual rate: the limit at most 200,000 yuan (CBIRC 2020 No. 9, a
///   personal online credit loan per customer per bank), in whole hundreds of yuan; the rate within the product's
///   bounds, at most two decimals.
/// - Maker-checker: an approval above `secondReviewAboveFen`, or above the limit the policy suggested, needs a
///   second reviewer's confirmation, and nobody confirms their own decision.
/// - A decline names a reason from `declineReasons`.
public enum ManualReview {
    public struct Policy: Sendable, Equatable {
        public var maximumLimitFen: Int64
        public var minimumRatePercent: Decimal
        public var maximumRatePercent: Decimal
        public var secondReviewAboveFen: Int64

        public init(maximumLimitFen: Int64, minimumRatePercent: Decimal, maximumRatePercent: Decimal, secondReviewAboveFen: Int64) {
            self.maximumLimitFen = maximumLimitFen
            self.minimumRatePercent = minimumRatePercent
            self.maximumRatePercent = maximumRatePercent
            self.secondReviewAboveFen = secondReviewAboveFen
        }

        /// The product's rate bounds are those of the shipped credit policy's risk grades (A 6.00% … D 14.40%).
        public static let standard = Policy(
            maximumLimitFen: 20_000_000, minimumRatePercent: 6, maximumRatePercent: Decimal(string: "14.4")!,
            secondReviewAboveFen: 5_000_000)
    }

    public enum Decision: String, Sendable, Codable, CaseIterable {
        case approve
        case decline
    }

    public struct DeclineReason: Sendable, Equatable {
        public let code: String
        public let titleZh: String
    }

    public static let declineReasons: [DeclineReason] = [
        .init(code: "insufficient_income", titleZh: "收入不足以覆盖还款"),
        .init(code: "high_debt", titleZh: "现有负债过高"),
        .init(code: "credit_history", titleZh: "征信记录不良"),
        .init(code: "too_many_inquiries", titleZh: "近期征信查询过多"),
        .init(code: "identity_doubt", titleZh: "身份或资料存疑"),
        .init(code: "other", titleZh: "其他原因（见备注）"),
    ]

    public struct Approval: Sendable, Equatable {
        public let limitFen: Int64
        public let annualRatePercent: Decimal
    }

    /// Checks an approval's limit and rate; each problem names its field.
    public static func approval(creditLimit: String?, annualRate: String?, policy: Policy = .standard) throws(FieldError) -> Approval {
        guard let limitText = creditLimit?.trimmingCharacters(in: .whitespaces), !limitText.isEmpty else {
            throw error("creditLimit", "credit_limit_required", "Enter the credit limit.", "请填写授信额度。")
        }
        guard let limit = Money.parse(limitText), let limitFen = Money.fen(exactly: limit), limitFen > 0 else {
            throw error("creditLimit", "credit_limit_invalid", "The credit limit must be an amount in yuan, like 30000.00.", "授信额度格式不正确。")
        }
        guard limitFen <= policy.maximumLimitFen else {
            throw error(
                "creditLimit", "credit_limit_above_cap",
                "An online personal credit loan is at most \(Money.string(fen: policy.maximumLimitFen)) yuan (CBIRC 2020 No. 9).",
                "个人互联网信用贷款额度不得超过\(Money.string(fen: policy.maximumLimitFen))元。")
        }
        guard limitFen % 10_000 == 0 else {
            throw error("creditLimit", "credit_limit_not_hundreds", "The credit limit is granted in whole hundreds of yuan.", "授信额度须为100元的整数倍。")
        }
        guard let rateText = annualRate?.trimmingCharacters(in: .whitespaces), !rateText.isEmpty else {
            throw error("annualRate", "annual_rate_required", "Enter the annual rate in percent.", "请填写年利率。")
        }
        guard let rate = Money.parse(rateText), Money.fen(exactly: rate) != nil else {
            throw error("annualRate", "annual_rate_invalid", "The annual rate is a percentage with at most two decimals, like 12.00.", "年利率格式不正确（最多两位小数）。")
        }
        guard rate >= policy.minimumRatePercent, rate <= policy.maximumRatePercent else {
            throw error(
                "annualRate", "annual_rate_out_of_bounds",
                "The product's annual rate is between \(Money.string(policy.minimumRatePercent))% and \(Money.string(policy.maximumRatePercent))%.",
                "年利率须在\(Money.string(policy.minimumRatePercent))%至\(Money.string(policy.maximumRatePercent))%之间。")
        }
        return Approval(limitFen: limitFen, annualRatePercent: rate)
    }

    /// The decline reason for `code`, or an error naming the field.
    public static func declineReason(_ code: String?) throws(FieldError) -> DeclineReason {
        guard let code, !code.isEmpty else { throw error("reason", "reason_required", "Choose a reason for the decline.", "请选择拒绝原因。") }
        guard let reason = declineReasons.first(where: { $0.code == code }) else {
            throw error(
                "reason", "reason_unknown", "reason must be one of \(declineReasons.map(\.code).joined(separator: ", ")).", "请从列表中选择拒绝原因。")
        }
        return reason
    }

    /// Whether an approval needs a second reviewer: above the threshold, or above what the policy suggested.
    public static func needsSecondReview(limitFen: Int64, suggestedLimitFen: Int64?, policy: Policy = .standard) -> Bool {
        if limitFen > policy.secondReviewAboveFen { return true }
        if let suggested = suggestedLimitFen, limitFen > suggested { return true }
        return false
    }

    /// Whether `confirmer` may confirm the decision `maker` made: never their own.
    public static func mayConfirm(maker: String, confirmer: String) -> Bool { maker != confirmer }

    private static func error(_ field: String, _ code: String, _ message: String, _ zh: String) -> FieldError {
        FieldError(field: field, code: code, message: message, messageZh: zh)
    }
}
