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
        var reminders = 0

        var summary: String {
            "\(date.iso): \(loans) open loans, \(fellDue) installments fell due, \(turnedOverdue) turned overdue, penalty \(Money.string(fen: penaltyFen)), "
                + "auto-debit \(autoDebits) collected \(Money.string(fen: collectedFen)), \(failedDebits) failed, \(reminders) reminders queued"
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
            // Applications idle for 30 days expire (recorded here, since viewing a page writes nothing).
            let journey = JourneyService(
                db: context.db, services: context.services, logger: context.logger, client: .init(address: "system", device: "end-of-day"))
            _ = try await journey.expireIdleApplications()
            // The day closes with reconciliation against the provider and a signed anchor of the audit trail.
            let reconciliation = try await Reconciliation(context: context).runAndRecord(actor: "system")
            if !reconciliation.differences.isEmpty {
                context.logger.critical("Reconciliation found \(reconciliation.differences.count) difference(s): \(reconciliation.differences.first!)")
            }
            try await AuditAnchoring(db: context.db, services: context.services).checkpoint(reason: "end-of-day", force: true)
            // The day's reminders go out now (a server's worker would send them too; each is sent once either way).
            try await Notifications(db: context.db, services: context.services, logger: context.logger).runDue(limit: 1000)
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
                if let old = try await book.updateStatus(on: date, services: context.services) {
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
        // Reminders of installments due in 3 days and overdue 1 and 7 days, each queued once.
        report.reminders = try await Milestones.dailyReminders(on: date, db: db, services: context.services)
        try await context.businessDates.set(date)
        return report
    }
}
