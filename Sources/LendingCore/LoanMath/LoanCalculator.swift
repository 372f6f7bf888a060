import Foundation

/// Repayment plans by the conventions of shared/vectors/README.md (360/30 interest, half-even to the fen, level
/// payment rounded to a multiple of `installmentRounding`, last installment takes the remainder, due dates counted
/// from the start date with month-end clamping, APR by IRR including the upfront fee).
public enum LoanCalculator {
    public static func schedule(for terms: LoanTerms) throws(FieldError) -> RepaymentSchedule {
        let resolved = try terms.resolved()
        var plan = AmortizationPlan(
            method: resolved.method, rate: resolved.rate, principalFen: resolved.principalFen,
            periods: resolved.termMonths, firstNumber: 1, startDate: resolved.startDate)
        switch resolved.method {
        case .equalInstallment:
            let level = LevelPayment.fen(
                principalFen: resolved.principalFen, rate: resolved.rate, periods: resolved.termMonths,
                roundingFen: resolved.roundingFen)
            // A coarse rounding can push the payment below the first month's interest: the loan would not amortize.
            if resolved.termMonths > 1, level < resolved.rate.periodInterest(onFen: resolved.principalFen) {
                throw FieldError(
                    field: "installmentRounding", code: "too_coarse",
                    message:
                        "installmentRounding is too coarse for this loan: the rounded installment would not cover the interest",
                    messageZh: "还款额取整单位过大：取整后的月供不足以支付利息")
            }
            plan.levelPaymentFen = level
        case .equalPrincipal:
            plan.principalPerPeriodFen = Int64(
                FenArithmetic.multiplyDivideRoundingHalfEven(
                    UInt64(resolved.principalFen), 1, UInt64(resolved.termMonths)))
        case .interestFirst:
            break
        }
        let installments = plan.layOut()
        let apr = AnnualPercentageRate.hundredthsOfPercent(
            netDisbursedFen: resolved.principalFen - resolved.feeFen,
            paymentsFen: installments.map(\.paymentFen),
            guess: resolved.rate.approximate)
        return RepaymentSchedule(terms: terms, installments: installments, aprHundredthsOfPercent: apr)
    }

    /// APR (年化利率, IRR method) of any stream of monthly payments against what the borrower actually received,
    /// in hundredths of a percent (1391 means 13.91%). Payments are in fen, the first one month after disbursement.
    /// Exact to the rounding: see `AnnualPercentageRate`. Payments that repay no more than was received (a negative
    /// IRR, which this engine's schedules never have) give 0.
    public static func aprHundredthsOfPercent(netDisbursedFen: Int64, monthlyPaymentsFen: [Int64]) -> Int64 {
        precondition(netDisbursedFen > 0 && monthlyPaymentsFen.allSatisfy { $0 >= 0 })
        return AnnualPercentageRate.hundredthsOfPercent(
            netDisbursedFen: netDisbursedFen, paymentsFen: monthlyPaymentsFen, guess: 0.01)
    }
}

/// How to lay out installments from a principal: shared by new loans and by re-amortization after a prepayment.
struct AmortizationPlan {
    var method: RepaymentMethod
    var rate: ExactMonthlyRate
    var principalFen: Int64
    /// Installments to lay out (at most, when `stopWhenRepaid`).
    var periods: Int
    /// Number of the first installment laid out; installment k falls due `startDate + k months`.
    var firstNumber: Int
    var startDate: CivilDate
    /// Equal-installment: the (already rounded) level payment.
    var levelPaymentFen: Int64 = 0
    /// Equal-principal: principal repaid per installment.
    var principalPerPeriodFen: Int64 = 0
    /// Interest of the first installment when it is not a full 360/30 period (after a prepayment).
    var firstInterestFen: Int64? = nil
    /// Shorten-term: stop as soon as the principal is repaid instead of laying out zero installments.
    var stopWhenRepaid = false

    /// Principal parts never exceed what is owed (a payment rounded up on a tiny loan repays it early; the
    /// installments after that are 0.00), and the last one repays all that is left.
    func layOut() -> [ScheduledInstallment] {
        var rows: [ScheduledInstallment] = []
        rows.reserveCapacity(periods)
        var remaining = principalFen
        for index in 0..<periods {
            let number = firstNumber + index
            let interest =
                index == 0
                ? (firstInterestFen ?? rate.periodInterest(onFen: remaining))
                : rate.periodInterest(onFen: remaining)
            var principal: Int64
            if index == periods - 1 {
                principal = remaining
            } else {
                switch method {
                case .equalInstallment: principal = max(0, levelPaymentFen - interest)
                case .equalPrincipal: principal = principalPerPeriodFen
                case .interestFirst: principal = 0
                }
                principal = min(principal, remaining)
            }
            remaining -= principal
            rows.append(
                ScheduledInstallment(
                    number: number, dueDate: startDate.adding(months: number), principalFen: principal,
                    interestFen: interest, remainingPrincipalFen: remaining))
            if stopWhenRepaid, remaining == 0 { break }
        }
        return rows
    }
}
