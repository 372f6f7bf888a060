import Fluent
import Foundation
import LendingCore
import Vapor

/// End of day (日终): moves the business date forward one day at a time. For each day D opened:
/// pending payments are finished first; then per open loan, under its lock: installments due on or before D fall
/// due (interest receivable), those unpaid past their due date turn overdue, penalty interest accrues for D on
/// overdue principal, and the loan moves between active and overdue; then the sandbox auto-debit collects what
/// each card can pay of what is owed (key `autodebit:<loan>:<D>`); finally the business date becomes D.
/// Every step is keyed (installment flags, penalty date, journal reference, payment key), so re-running a day
/// that crashed half-way finishes it, and asking for a date already reached changes nothing.
struct EndOfDay {
    let context: ServicingContext
    var db: Database { context.db }

    struct DayReport: Sendable, Equatable {
        var date: CivilDate
        var loans = 0
        var fellDue = 0
        var turnedOverdue = 0
        var penaltyFen: Int64 = 0
        var autoDebits = 0
        var collectedFen: Int64 = 0
        var failedDebits = 0

        var summary: String {
            "\(date.iso): \(loans) open loans, \(fellDue) installments fell due, \(turnedOverdue) turned overdue, penalty \(Money.string(fen: penaltyFen)), "
                + "auto-debit \(autoDebits) collected \(Money.string(fen: collectedFen)), \(failedDebits) failed"
        }
    }

    /// Runs day after day until the business date is `target` (nil: one day). A past or current target does nothing.
    func run(through target: CivilDate?) async throws -> [DayReport] {
        let current = try await context.businessDates.current()
        let last = target ?? current.adding(days: 1)
        var reports: [DayReport] = []
        var day = current.adding(days: 1)
        while day <= last {
            reports.append(try await runDay(day))
            day = day.adding(days: 1)
        }
        if !reports.isEmpty {
            // The day closes with reconciliation against the provider and a signed anchor of the audit trail.
            let reconciliation = try await Reconciliation(context: context).runAndRecord(actor: "system")
            if !reconciliation.differences.isEmpty {
                context.logger.critical("Reconciliation found \(reconciliation.differences.count) difference(s): \(reconciliation.differences.first!)")
            }
            try await AuditAnchoring(db: context.db, services: context.services).checkpoint(reason: "end-of-day", force: true)
        }
        return reports
    }

    func runDay(_ date: CivilDate) async throws -> DayReport {
        var report = DayReport(date: date)
        let repayments = context.repayments
        try await repayments.resumePending(loanID: nil, except: nil)
        let open = try await Loan.query(on: db).filter(\.$status ~~ [LoanStatus.active.rawValue, LoanStatus.overdue.rawValue]).all()
        report.loans = open.count
        let context = self.context
        for loan in open {
            let loanID = try loan.requireID()
            let events = try await LoanBook.locked(loanID, on: db) { book -> [ServicingEvent] in
                let (positions, events) = ServicingDay.open(
                    date, installments: try book.positions, annualRatePercent: try book.loan.annualRatePercent)
                let ctx = context.on(book.tx)
                for event in events {
                    switch event {
                    case .interestFellDue(let number, let fen):
                        try await ctx.ledger.post(PostingRules.interestFallsDue(interestFen: fen), reference: "interest-due:\(loanID):\(number)",
                                                  loanID: loanID, businessDate: date, memo: "installment \(number) fell due")
                    case .penaltyAccrued(let number, let day, let fen):
                        try await ctx.ledger.post(PostingRules.penaltyAccrues(penaltyFen: fen), reference: "penalty:\(loanID):\(number):\(day.iso)",
                                                  loanID: loanID, businessDate: date, memo: "penalty interest on installment \(number) for \(day.iso)")
                    case .turnedOverdue:
                        break
                    }
                }
                try await book.save(positions)
                if let old = try await book.updateStatus(on: date) {
                    try await ctx.audit(book.tx).record(application: book.loan.applicationID, actor: "system", action: "loan.status_changed",
                                                        details: ["loan": loanID.uuidString, "from": old.rawValue, "to": book.loan.status, "businessDate": date.iso])
                }
                let penalty = events.reduce(Int64(0)) { if case .penaltyAccrued(_, _, let fen) = $1 { return $0 + fen } else { return $0 } }
                if penalty > 0 {
                    try await ctx.audit(book.tx).record(application: book.loan.applicationID, actor: "system", action: "penalty.accrued",
                                                        details: ["loan": loanID.uuidString, "amount": Money.string(fen: penalty), "businessDate": date.iso])
                }
                return events
            }
            for event in events {
                switch event {
                case .interestFellDue: report.fellDue += 1
                case .turnedOverdue: report.turnedOverdue += 1
                case .penaltyAccrued(_, _, let fen): report.penaltyFen += fen
                }
            }
            // Auto-debit what is owed today, once per loan and day.
            let key = "autodebit:\(loanID.uuidString.lowercased()):\(date.iso)"
            if let earlier = try await Payment.query(on: db).filter(\.$idempotencyKey == key).first() {
                if earlier.state == .pending { _ = try await repayments.resume(earlier) }
                continue
            }
            let rows = try await LoanInstallment.query(on: db).filter(\.$loanID == loanID).all()
            let positions = try rows.map { try $0.position }
            guard positions.owedFen(on: date) > 0 else { continue }
            let payment: Payment
            do {
                payment = try await repayments.intent(
                    loanID: loanID, key: key, kind: "autodebit", instruction: .init(type: .due, amountFen: nil, mode: nil), date: date)
            } catch let error as APIError where error.code == "payment_in_progress" || error.code == "nothing_due" || error.code == "loan_closed" {
                continue
            }
            let answer = try await repayments.resume(payment)
            report.autoDebits += 1
            if answer.view.state == .succeeded {
                report.collectedFen += answer.view.collected.flatMap(Money.parse).flatMap(Money.fen(exactly:)) ?? 0
            } else if answer.view.state == .failed {
                report.failedDebits += 1
            }
        }
        try await context.businessDates.set(date)
        return report
    }
}

/// Read side of "我的贷款": an applicant's applications and loans (by phone blind index), one loan in full, quotes.
struct LoanQueries {
    let context: ServicingContext
    var db: Database { context.db }

    /// The loan if it belongs to the phone, else 404 (exactly like a loan that does not exist).
    func ownedLoan(_ loanID: UUID, phoneIndex: String) async throws -> Loan {
        guard let loan = try await Loan.find(loanID, on: db), loan.phoneIndex == phoneIndex else { throw APIError.notFound("loan") }
        return loan
    }

    func positions(_ loan: Loan) async throws -> [InstallmentPosition] {
        let rows = try await LoanInstallment.query(on: db).filter(\.$loanID == loan.requireID()).sort(\.$number).all()
        return try rows.map { try $0.position }
    }

    func list(phoneIndex: String) async throws -> LoansListView {
        let date = try await context.businessDates.current()
        let applications = try await LoanApplication.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$createdAt, .descending).all()
        let loans = try await Loan.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$disbursedAt, .descending).all()
        var loanViews: [LoanSummaryView] = []
        for loan in loans {
            let rows = try await positions(loan)
            loanViews.append(try LoanPresenter.summary(loan, positions: rows, on: date))
        }
        let appViews = try applications.map { application in
            ApplicationSummaryView(
                id: application.id!, state: application.state, stateZh: try application.applicationState.titleZh,
                loanAmount: application.loanAmount,
                termMonths: application.loanTermMonths, loanId: loans.first { $0.applicationID == application.id }?.id)
        }
        return LoansListView(businessDate: date.iso, applications: appViews, loans: loanViews)
    }

    func detail(_ loan: Loan) async throws -> LoanDetailView {
        let rows = try await positions(loan)
        return try LoanPresenter.detail(loan, positions: rows, on: try await context.businessDates.current())
    }

    func payoffQuote(_ loan: Loan) async throws -> PayoffQuoteView {
        guard try !loan.loanStatus.isClosed else {
            throw APIError(.conflict, code: "loan_closed", message: "This loan is \(loan.status); nothing is owed.", messageZh: "该贷款已结清。")
        }
        let date = try await context.businessDates.current()
        let positions = try await self.positions(loan)
        let payoff = try withFieldErrors(status: .conflict) {
            try ServicingQuotes.payoff(contract: loan.contractTerms, installments: positions, on: date)
        }
        return PayoffQuoteView(
            loanId: loan.id!, validOn: date.iso, amount: Money.string(fen: payoff.totalFen), principal: Money.string(fen: payoff.principalFen),
            interest: Money.string(fen: payoff.interestFen), penaltyInterest: Money.string(fen: payoff.duePenaltyFen),
            accruedInterest: Money.string(fen: payoff.accruedInterestFen), accruedDays: payoff.engineQuote?.accruedDays ?? 0,
            interestSaved: Money.string(fen: payoff.engineQuote?.interestSavedFen ?? 0))
    }

    func prepaymentQuote(_ loan: Loan, _ body: PrepaymentQuoteRequest) async throws -> PrepaymentQuoteView {
        guard try !loan.loanStatus.isClosed else {
            throw APIError(.conflict, code: "loan_closed", message: "This loan is \(loan.status); nothing is owed.", messageZh: "该贷款已结清。")
        }
        let instruction = RepaymentService.Instruction(
            type: .prepayment, amountFen: try RepaymentService.amount(body.amount, required: true), mode: try RepaymentService.mode(body.prepaymentMode))
        let date = try await context.businessDates.current()
        let positions = try await self.positions(loan)
        let quote = try RepaymentService.prepaymentQuote(instruction, loan: loan, positions: positions, on: date)
        let before = positions.filter { !$0.hasFallenDue(on: date) }
        return PrepaymentQuoteView(
            loanId: loan.id!, validOn: date.iso, prepaymentMode: quote.option?.rawValue ?? "payoff", amount: Money.string(fen: quote.amountDueFen),
            principalPrepaid: Money.string(fen: quote.principalPrepaidFen), accruedInterest: Money.string(fen: quote.accruedInterestFen),
            accruedDays: quote.accruedDays, interestSaved: Money.string(fen: quote.interestSavedFen), installmentsLeftBefore: before.count,
            installmentsLeftAfter: quote.remainingInstallments.count, nextPaymentBefore: before.first.map { Money.string(fen: $0.principalFen + $0.interestFen) },
            nextPaymentAfter: quote.remainingInstallments.first.map { Money.string(fen: $0.paymentFen) },
            newPlan: LoanPresenter.planned(quote.remainingInstallments))
    }
}
