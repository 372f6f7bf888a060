import Foundation

/// What a partial prepayment keeps.
public enum PrepaymentOption: String, Sendable, CaseIterable, Codable {
    /// 缩短期限: keep the installment amount, finish earlier (fewer installments).
    case shortenTerm = "shorten-term"
    /// 减少月供: keep the remaining number of installments, re-amortize to a lower installment.
    case lowerInstallment = "lower-installment"
}

/// The effect of paying early on a given date: what is due that day, the installments left, the interest saved.
///
/// Conventions (see `RepaymentSchedule.payoff` and `RepaymentSchedule.prepayment`):
/// - Installments 1…installmentsPaid were paid as scheduled; the date lies between the last paid due date (or the
///   start date) and the next due date, both included.
/// - The principal paid early carries interest from the last due date (or start) to the date, actual days / 360,
///   half-even to the fen; it is due with that principal. Full payoff = outstanding principal + that interest.
/// - What remains keeps the original due dates and the 360/30 convention from the next installment on.
/// - interestSaved = interest of the original installments not yet paid − (accrued interest + interest of the
///   remaining installments). It can be slightly negative only for a payoff on the due date itself after a month
///   longer than 30 days (actual/360 then charges 31 days where 360/30 charged 30).
public struct PrepaymentQuote: Sendable, Equatable {
    public var date: CivilDate
    public var installmentsPaid: Int
    /// nil for a full payoff.
    public var option: PrepaymentOption?
    /// Principal owed before paying early.
    public var outstandingPrincipalFen: Int64
    public var principalPrepaidFen: Int64
    /// Days from the last due date (or the start date) to `date`.
    public var accruedDays: Int
    public var accruedInterestFen: Int64
    /// Installments left after the prepayment, numbered and dated as in the original schedule (empty after payoff).
    public var remainingInstallments: [ScheduledInstallment]
    public var interestSavedFen: Int64

    /// Due on `date`: the principal paid early plus its accrued interest.
    public var amountDueFen: Int64 { principalPrepaidFen + accruedInterestFen }
    public var isPayoff: Bool { principalPrepaidFen == outstandingPrincipalFen }

    public var outstandingPrincipal: Decimal { Money.decimal(fen: outstandingPrincipalFen) }
    public var principalPrepaid: Decimal { Money.decimal(fen: principalPrepaidFen) }
    public var accruedInterest: Decimal { Money.decimal(fen: accruedInterestFen) }
    public var amountDue: Decimal { Money.decimal(fen: amountDueFen) }
    public var interestSaved: Decimal { Money.decimal(fen: interestSavedFen) }
    /// Interest still to pay after `date` under the new plan.
    public var remainingInterest: Decimal {
        Money.decimal(fen: remainingInstallments.reduce(0) { $0 + $1.interestFen })
    }
}

extension RepaymentSchedule {
    /// Full payoff (提前结清) on `date`: outstanding principal + interest accrued since the last due date (or the
    /// start date) at actual days / 360. On the due date of the last paid installment this is the outstanding
    /// principal alone. Field errors name `installmentsPaid` or `date`.
    public func payoff(on date: CivilDate, installmentsPaid: Int) throws(FieldError) -> PrepaymentQuote {
        let context = try prepaymentContext(on: date, installmentsPaid: installmentsPaid)
        return try prepay(fen: context.outstandingFen, context: context, option: nil)
    }

    /// Partial prepayment (部分提前还款) of `principal` on `date`. Paying the whole outstanding principal is a payoff.
    /// Field errors name `amount`, `installmentsPaid` or `date`.
    ///
    /// For interest-first loans both options keep the term (there is no installment to keep): the interest falls.
    public func prepayment(
        of principal: Decimal, on date: CivilDate, installmentsPaid: Int, option: PrepaymentOption
    ) throws(FieldError) -> PrepaymentQuote {
        let context = try prepaymentContext(on: date, installmentsPaid: installmentsPaid)
        guard let amountFen = Money.fen(exactly: principal), amountFen >= 1, amountFen <= context.outstandingFen else {
            throw FieldError(
                field: "amount", code: "out_of_range",
                message:
                    "amount must be between 0.01 and the outstanding principal \(Money.string(fen: context.outstandingFen)) with at most 2 decimals",
                messageZh: "提前还款本金须在 0.01 至剩余本金 \(Money.string(fen: context.outstandingFen)) 元之间，最多两位小数")
        }
        return try prepay(fen: amountFen, context: context, option: amountFen == context.outstandingFen ? nil : option)
    }

    private struct PrepaymentContext {
        var resolved: ResolvedLoanTerms
        var date: CivilDate
        var paid: Int
        var outstandingFen: Int64
        var accruedDays: Int
    }

    private func prepaymentContext(on date: CivilDate, installmentsPaid paid: Int) throws(FieldError)
        -> PrepaymentContext
    {
        let resolved = try terms.resolved()
        let n = installments.count
        guard (0..<n).contains(paid) else {
            throw FieldError(
                field: "installmentsPaid", code: "out_of_range",
                message: "installmentsPaid must be between 0 and \(n - 1) for a loan of \(n) installments",
                messageZh: "已还期数须在 0 至 \(n - 1) 之间（共 \(n) 期）")
        }
        let lastDue = paid == 0 ? resolved.startDate : installments[paid - 1].dueDate
        let nextDue = installments[paid].dueDate
        guard lastDue <= date, date <= nextDue else {
            throw FieldError(
                field: "date", code: "out_of_range",
                message:
                    "date must be between \(lastDue.iso) and \(nextDue.iso): installments due before it must be paid first",
                messageZh: "还款日期须在 \(lastDue.iso) 至 \(nextDue.iso) 之间：之前到期的各期须先还清")
        }
        let outstanding = paid == 0 ? resolved.principalFen : installments[paid - 1].remainingPrincipalFen
        return PrepaymentContext(
            resolved: resolved, date: date, paid: paid, outstandingFen: outstanding,
            accruedDays: lastDue.days(until: date))
    }

    private func prepay(fen amountFen: Int64, context c: PrepaymentContext, option: PrepaymentOption?)
        throws(FieldError)
        -> PrepaymentQuote
    {
        let r = c.resolved
        let accrued = r.rate.interest(onFen: amountFen, days: c.accruedDays)
        let remainingFen = c.outstandingFen - amountFen
        let periodsLeft = installments.count - c.paid
        var rows: [ScheduledInstallment] = []
        if remainingFen > 0 {
            var plan = AmortizationPlan(
                method: r.method, rate: r.rate, principalFen: remainingFen, periods: periodsLeft,
                firstNumber: c.paid + 1, startDate: r.startDate)
            let keepInstallment = option == .shortenTerm
            switch r.method {
            case .equalInstallment:
                plan.levelPaymentFen = LevelPayment.fen(
                    principalFen: keepInstallment ? r.principalFen : remainingFen, rate: r.rate,
                    periods: keepInstallment ? r.termMonths : periodsLeft, roundingFen: r.roundingFen)
                plan.stopWhenRepaid = keepInstallment
            case .equalPrincipal:
                plan.principalPerPeriodFen = Int64(
                    FenArithmetic.multiplyDivideRoundingHalfEven(
                        UInt64(keepInstallment ? r.principalFen : remainingFen), 1,
                        UInt64(keepInstallment ? r.termMonths : periodsLeft)))
                plan.stopWhenRepaid = keepInstallment
            case .interestFirst:
                break
            }
            rows = plan.layOut()
        }
        let originalInterest = installments[c.paid...].reduce(Int64(0)) { $0 + $1.interestFen }
        let newInterest = rows.reduce(Int64(0)) { $0 + $1.interestFen }
        return PrepaymentQuote(
            date: c.date, installmentsPaid: c.paid, option: option, outstandingPrincipalFen: c.outstandingFen,
            principalPrepaidFen: amountFen, accruedDays: c.accruedDays, accruedInterestFen: accrued,
            remainingInstallments: rows, interestSavedFen: originalInterest - accrued - newInterest)
    }
}
