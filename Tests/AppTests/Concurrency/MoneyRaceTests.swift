import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

private typealias H = ServicingHarness

/// The money paths when requests arrive at the same moment (rows 1–3 of the concurrency issue's table).
@Suite("Money under concurrency: payouts, cancels and signatures racing")
struct MoneyRaceTests {
    @Test("twenty payout requests at the same moment pay the card once, book one loan, and reconcile to zero")
    func twentyPayoutsAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "20000", termMonths: 12)
            let borrower = p

            // MUT
            let statuses = try await together(20) { _ in try await borrower.disburse().0 }

            // validation
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == .created || $0 == .ok }, "\(statuses)")
            #expect(try await H.cardBalance(app, p.card) == 2_000_000)
            #expect(try await Loan.query(on: app.db).count() == 1)
            #expect(try await SandboxPaymentInstruction.query(on: app.db).filter(\.$direction == "payout").count() == 1)
            #expect(try await Payment.query(on: app.db).filter(\.$kind == "disbursement").count() == 1)
            try await Invariants.cardHoldsLoans(app, p.card)
            try await Invariants.moneyAndAuditAgree(app)
        }
    }

    @Test("a payout whose answer was lost cannot be cancelled, and is booked once the provider's answer is known")
    func lostAnswerThenCancel() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup: the provider executes the payout but its answer is lost
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "20000", termMonths: 12)
            try await H.setCard(app, p.card, mode: .timeout)
            let (pending, pendingBody) = try await p.disburse()
            #expect(pending == .serviceUnavailable)
            #expect(pendingBody.errorCode == "payout_pending")

            // MUT: the borrower tries to cancel while the money is on its way
            let (cancel, cancelBody, _) = try await p.call(.POST, p.path("/cancel"))

            // validation: refused in plain words; the worker then books what the provider paid
            #expect(cancel == .conflict)
            #expect(cancelBody.errorCode == "cannot_cancel")
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "disbursing")
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            #expect(try await Loan.query(on: app.db).count() == 1)
            #expect(try await H.cardBalance(app, p.card) == 2_000_000)
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "disbursed")
            try await Invariants.moneyAndAuditAgree(app)
        }
    }

    @Test("ten payouts and ten cancels at the same moment: money leaves only for a loan that exists")
    func payoutsAndCancelsAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "20000", termMonths: 12)
            try await H.setCard(app, p.card, mode: .timeout)
            let borrower = p

            // MUT
            let statuses = try await together(20) { i in
                i % 2 == 0 ? try await borrower.disburse().0 : try await borrower.call(.POST, borrower.path("/cancel")).0
            }

            // validation: settle everything that is in flight, then the card holds exactly the loans
            #expect(!statuses.contains(.internalServerError), "\(statuses)")
            try await H.setCard(app, p.card, mode: .normal)
            _ = try await PayoutJobs.runDue(app.servicing)
            _ = try await Reconciliation(context: app.servicing).run()
            let state = try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state
            #expect(state == "disbursed" || state == "cancelled")
            if state == "cancelled" {
                #expect(try await H.cardBalance(app, p.card) == 0)
                #expect(try await SandboxPaymentInstruction.query(on: app.db).count() == 0)
            }
            try await Invariants.cardHoldsLoans(app, p.card)
            try await Invariants.moneyAndAuditAgree(app)
        }
    }

    @Test("signing and cancelling at the same moment: never both, and a cancelled borrower is never paid")
    func signAndCancelAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup: a requested loan and its contract, code at hand
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let decision = try await p.walkToDecision()
            #expect(decision["state"] as? String == "approved")
            let (requested, _, _) = try await p.call(.POST, p.path("/loan-request"), json: [
                "amount": "20000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption",
            ])
            #expect(requested == .ok)
            try await app.servicing.businessDates.set(H.day("2026-07-25"))
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            clock.advance(61)
            #expect(try await p.call(.POST, p.path("/contract/sms-code")).0 == .accepted)
            let code = await p.latestCode()
            let sha = contract["sha256"] as? String ?? ""
            let borrower = p

            // MUT
            let answers = try await together(2) { i in
                i == 0
                    ? ("sign", try await borrower.call(.POST, borrower.path("/contract/sign"), json: ["code": code, "sha256": sha, "agree": true]).0)
                    : ("cancel", try await borrower.call(.POST, borrower.path("/cancel")).0)
            }

            // validation
            let sign = answers.first { $0.0 == "sign" }!.1
            let cancel = answers.first { $0.0 == "cancel" }!.1
            #expect(sign != .internalServerError && cancel != .internalServerError)
            _ = try await PayoutJobs.runDue(app.servicing)
            let id = UUID(uuidString: p.applicationID)!
            let state = try await LoanApplication.find(id, on: app.db)?.state
            if state == "cancelled" {
                #expect(cancel == .ok)
                #expect(try await H.cardBalance(app, p.card) == 0)
                #expect(try await Loan.query(on: app.db).count() == 0)
                let queued = try await BackgroundJob.query(on: app.db).filter(\.$kind == PayoutJobs.kind).filter(\.$state == BackgroundJobState.queued).count()
                #expect(queued == 0)
            } else {
                #expect(state == "disbursed")
                #expect(sign == .ok && cancel == .conflict)
                #expect(try await H.cardBalance(app, p.card) == 2_000_000)
            }
            try await Invariants.cardHoldsLoans(app, p.card)
            try await Invariants.moneyAndAuditAgree(app)
        }
    }

    @Test("a cancel after signing but before the payout was sent withdraws the queued payout")
    func cancelBeforePayoutWithdrawsIt() async throws {
        try await withRacingYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "20000", termMonths: 12)
            let (cancel, _, _) = try await p.call(.POST, p.path("/cancel"))
            #expect(cancel == .ok)
            #expect(try await PayoutJobs.runDue(app.servicing) == 0)
            #expect(try await p.disburse().0 == .conflict)
            #expect(try await H.cardBalance(app, p.card) == 0)
            try await Invariants.moneyAndAuditAgree(app)
        }
    }
}
