import Foundation

/// What it costs to close a loan on a business date: everything fallen due (penalty included), plus the engine's
/// payoff quote for the installments not yet due (their principal + interest accrued since the last due date,
/// actual days / 360).
public struct PayoffAmount: Sendable, Equatable {
    public var date: CivilDate
    /// Owed now: unpaid parts of the installments that have fallen due.
    public var duePenaltyFen: Int64
    public var dueInterestFen: Int64
    public var duePrincipalFen: Int64
    /// The engine's quote for the rest; nil when every installment has fallen due.
    public var engineQuote: PrepaymentQuote?

    public var futurePrincipalFen: Int64 { engineQuote?.principalPrepaidFen ?? 0 }
    public var accruedInterestFen: Int64 { engineQuote?.accruedInterestFen ?? 0 }
    public var principalFen: Int64 { duePrincipalFen + futurePrincipalFen }
    public var interestFen: Int64 { dueInterestFen + accruedInterestFen }
    public var totalFen: Int64 { duePenaltyFen + dueInterestFen + duePrincipalFen + futurePrincipalFen + accruedInterestFen }
}

/// Bridges a loan's current installments to the loan-mathematics engine's payoff and prepayment API.
///
/// The engine quotes against a `RepaymentSchedule` whose first `installmentsPaid` rows are settled. The current plan
/// (after earlier prepayments) is handed to it as such a schedule: the rows as they stand, each row's remaining
/// principal being the principal of the rows after it, and the contract terms (the engine keeps the contract's
/// installment when shortening the term).
public enum ServicingQuotes {
    /// The current plan as the engine sees it on `date`, and how many rows have fallen due.
    public static func engineSchedule(
        contract: LoanTerms, installments: [InstallmentPosition], on date: CivilDate
    ) -> (schedule: RepaymentSchedule, fallenDue: Int) {
        let rows = installments.sorted { $0.number < $1.number }
        var after = rows.reduce(Int64(0)) { $0 + $1.principalFen }
        var scheduled: [ScheduledInstallment] = []
        for row in rows {
            after -= row.principalFen
            scheduled.append(
                ScheduledInstallment(
                    number: row.number, dueDate: row.dueDate, principalFen: row.principalFen,
                    interestFen: row.interestFen, remainingPrincipalFen: after))
        }
        let fallenDue = rows.filter { $0.hasFallenDue(on: date) }.count
        var terms = contract
        // Before the first due date the engine reads the outstanding principal from the terms.
        let planPrincipal = rows.reduce(Int64(0)) { $0 + $1.principalFen }
        if fallenDue == 0 { terms.principal = Money.decimal(fen: planPrincipal) }
        return (RepaymentSchedule(terms: terms, installments: scheduled, aprHundredthsOfPercent: 0), fallenDue)
    }

    /// The amount that closes the loan on `date`.
    public static func payoff(
        contract: LoanTerms, installments: [InstallmentPosition], on date: CivilDate
    ) throws -> PayoffAmount {
        let due = installments.filter { $0.hasFallenDue(on: date) }
        var amount = PayoffAmount(
            date: date, duePenaltyFen: due.reduce(0) { $0 + $1.outstandingPenaltyFen },
            dueInterestFen: due.reduce(0) { $0 + $1.outstandingInterestFen },
            duePrincipalFen: due.reduce(0) { $0 + $1.outstandingPrincipalFen }, engineQuote: nil)
        let (schedule, fallenDue) = engineSchedule(contract: contract, installments: installments, on: date)
        if fallenDue < schedule.installments.count {
            amount.engineQuote = try schedule.payoff(on: date, installmentsPaid: fallenDue)
        }
        return amount
    }

    /// A partial prepayment of `principalFen` on `date` with the borrower's choice of what to keep.
    /// Everything fallen due must be paid first; the engine re-plans the installments not yet due.
    public static func prepayment(
        principalFen: Int64, option: PrepaymentOption, contract: LoanTerms, installments: [InstallmentPosition],
        on date: CivilDate
    ) throws -> PrepaymentQuote {
        guard installments.owedFen(on: date) == 0 else {
            throw FieldError(
                field: "type", code: "pay_due_first",
                message: "Pay what is due (\(Money.string(fen: installments.owedFen(on: date)))) before paying early.",
                messageZh: "请先还清已到期的 \(Money.string(fen: installments.owedFen(on: date))) 元，再提前还款。")
        }
        let (schedule, fallenDue) = engineSchedule(contract: contract, installments: installments, on: date)
        guard fallenDue < schedule.installments.count else {
            throw FieldError(
                field: "type", code: "nothing_to_prepay", message: "Every installment has fallen due; nothing can be paid early.",
                messageZh: "所有分期均已到期，无需提前还款。")
        }
        let contractPrincipal = Money.fen(exactly: contract.principal) ?? 0
        if fallenDue == 0, option == .shortenTerm, installments.outstandingPrincipalFen != contractPrincipal,
            contract.method != .interestFirst
        {
            // The engine would compute the kept installment from the already reduced principal.
            throw FieldError(
                field: "prepaymentMode", code: "not_available",
                message: "A second shorten-term prepayment is possible after the first due date; choose lower-installment now.",
                messageZh: "首期还款日前仅可缩短期限提前还款一次，现在请选择“减少月供”。")
        }
        return try schedule.prepayment(
            of: Money.decimal(fen: principalFen), on: date, installmentsPaid: fallenDue, option: option)
    }

    /// The installments after a prepayment: the fallen-due rows unchanged, the rest replaced by the engine's new plan.
    public static func replanned(_ installments: [InstallmentPosition], by quote: PrepaymentQuote)
        -> [InstallmentPosition]
    {
        let kept = installments.filter { $0.number <= quote.installmentsPaid }
        return kept + quote.remainingInstallments.map(InstallmentPosition.init)
    }
}
