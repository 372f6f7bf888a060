import Foundation

/// The facts of a person's credit report (征信报告) that the decision uses, as the bureau provider returns them.
public struct CreditReport: Sendable, Codable, Equatable {
    /// No credit accounts and no history.
    public var thinFile: Bool
    /// Number of credit accounts (loans and cards).
    public var accounts: Int
    /// Amount overdue today, in yuan.
    public var currentOverdueAmount: Decimal
    /// Months with an overdue payment in the last 24.
    public var overdueMonthsLast24: Int
    /// Loan and card inquiries by lenders in the last 3 months.
    public var inquiriesLast3Months: Int
    /// Credit card utilisation as a fraction (0.20 = 20%).
    public var cardUtilization: Decimal
    /// Existing repayments per month, in yuan.
    public var monthlyRepayments: Decimal
    public var reportId: String
    public var generatedOn: CivilDate?

    public init(
        thinFile: Bool, accounts: Int, currentOverdueAmount: Decimal, overdueMonthsLast24: Int,
        inquiriesLast3Months: Int, cardUtilization: Decimal, monthlyRepayments: Decimal, reportId: String,
        generatedOn: CivilDate? = nil
    ) {
        self.thinFile = thinFile
        self.accounts = accounts
        self.currentOverdueAmount = currentOverdueAmount
        self.overdueMonthsLast24 = overdueMonthsLast24
        self.inquiriesLast3Months = inquiriesLast3Months
        self.cardUtilization = cardUtilization
        self.monthlyRepayments = monthlyRepayments
        self.reportId = reportId
        self.generatedOn = generatedOn
    }
}
