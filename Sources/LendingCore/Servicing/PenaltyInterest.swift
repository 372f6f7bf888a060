import Foundation

/// 罚息: penalty interest on overdue principal at the contract rate + 50% (民法典 art. 680 and bank practice),
/// actual days / 360, accrued one day at a time and rounded half-even to the fen each day, per installment.
public enum PenaltyInterest {
    /// The penalty rate is the contract rate × 1.5.
    public static let markup: Decimal = Decimal(string: "1.5")!

    /// Penalty interest for one day on `overduePrincipalFen`:
    /// overdue principal × (annual rate × 1.5) / 360, half-even to the fen through `Money.roundHalfEven`.
    public static func dailyFen(overduePrincipalFen: Int64, annualRatePercent: Decimal) -> Int64 {
        guard overduePrincipalFen > 0, annualRatePercent > 0 else { return 0 }
        let principal = Money.decimal(fen: overduePrincipalFen)
        let exact = principal * annualRatePercent * markup / 100 / 360
        return Money.fen(exactly: Money.roundHalfEven(exact)) ?? 0
    }
}
