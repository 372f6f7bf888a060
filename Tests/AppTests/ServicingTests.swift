import Fluent
import Foundation
import LendingCore
import Testing
import Vapor

@testable import App

private typealias H = ServicingHarness

@Suite("Loan servicing: disbursement, end of day, repayments, ledger")
struct ServicingTests {
    @Test("a loan's whole life follows the business date: disbursed, paid on time, paid late with penalty, prepaid both ways, paid off")
    func wholeLife() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)

            // Disbursed: the schedule is the engine's, fixed from the business date.
            let (status, body) = try await p.disburse()
            #expect(status == .created)
            let loanID = body[path: "loan.id"] as? String ?? ""
            var loan = try await p.loan(loanID)
            let terms = H.terms(of: loan)
            #expect(terms.startDate == H.day("2026-07-25"))
            #expect(terms.principal == 12000)
            let s0 = try LoanCalculator.schedule(for: terms)
            #expect(H.samePlan(H.plan(loan), H.plan(s0.installments)))
            #expect(try await H.cardBalance(app, p.card) == 1_200_000)
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "disbursed")
            var expectedCard: Int64 = 1_200_000
            try await H.expectTrialBalanceZero(app)

            // Paid on time: the auto-debit collects installment 1 on its due date.
            try await H.endOfDay(app, through: "2026-08-25")
            loan = try await p.loan(loanID)
            #expect(H.rows(loan)[0]["status"] as? String == "paid")
            #expect(H.rows(loan)[0]["paidOn"] as? String == "2026-08-25")
            expectedCard -= s0.installments[0].paymentFen
            #expect(try await H.cardBalance(app, p.card) == expectedCard)
            #expect(loan[path: "loan.status"] as? String == "active")
            #expect(loan[path: "loan.nextPayment.dueDate"] as? String == "2026-09-25")
            try await H.expectTrialBalanceZero(app)

            // Paid late: the card is empty on the next due date; three days later 3 days of penalty have accrued.
            try await H.setCard(app, p.card, balance: 0)
            try await H.endOfDay(app, through: "2026-09-25")
            loan = try await p.loan(loanID)
            #expect(H.rows(loan)[1]["status"] as? String == "due")
            #expect(loan[path: "loan.status"] as? String == "active")
            try await H.endOfDay(app, through: "2026-09-28")
            loan = try await p.loan(loanID)
            #expect(loan[path: "loan.status"] as? String == "overdue")
            #expect(H.rows(loan)[1]["status"] as? String == "overdue")
            let second = s0.installments[1]
            let daily = PenaltyInterest.dailyFen(overduePrincipalFen: second.principalFen, annualRatePercent: terms.annualRatePercent)
            #expect(daily > 0)
            #expect(H.fen(H.rows(loan)[1]["penaltyInterest"]) == 3 * daily)
            #expect(H.fen(loan[path: "balances.dueNow"]) == second.paymentFen + 3 * daily)
            #expect(H.fen(loan[path: "balances.overduePrincipal"]) == second.principalFen)
            try await H.setCard(app, p.card, balance: 5_000_000)
            expectedCard = 5_000_000
            let (paid, receipt) = try await p.repay(loanID, key: "late-1", ["type": "due"])
            #expect(paid == .created)
            #expect(H.fen(receipt["collected"]) == second.paymentFen + 3 * daily)
            #expect(H.fen(receipt[path: "allocation.penalty"]) == 3 * daily)
            #expect(H.fen(receipt[path: "allocation.interest"]) == second.interestFen)
            #expect(H.fen(receipt[path: "allocation.principal"]) == second.principalFen)
            #expect(receipt["loanStatus"] as? String == "active")
            expectedCard -= second.paymentFen + 3 * daily
            try await H.expectTrialBalanceZero(app)

            // Prepaid, shortening the term: the new plan is the engine's, shown before confirming.
            let prepay1: [String: Any] = ["amount": "2000.00", "prepaymentMode": "shorten-term"]
            let (quoted, quote1, _) = try await p.call(.POST, "/api/v1/loans/\(loanID)/prepayment-quote", json: prepay1)
            #expect(quoted == .ok)
            let e1 = try s0.prepayment(of: 2000, on: H.day("2026-09-28"), installmentsPaid: 2, option: .shortenTerm)
            #expect(H.fen(quote1["amount"]) == e1.amountDueFen)
            #expect(H.fen(quote1["accruedInterest"]) == e1.accruedInterestFen)
            #expect((quote1["newPlan"] as? [Any])?.count == e1.remainingInstallments.count)
            #expect(e1.remainingInstallments.count < 10)
            let (prepaidStatus, prepaid) = try await p.repay(loanID, key: "prepay-1", prepay1.merging(["type": "prepayment"]) { a, _ in a })
            #expect(prepaidStatus == .created)
            #expect(H.fen(prepaid["collected"]) == e1.amountDueFen)
            expectedCard -= e1.amountDueFen
            loan = try await p.loan(loanID)
            #expect(H.samePlan(Array(H.plan(loan).dropFirst(2)), H.plan(e1.remainingInstallments)))
            let s1 = H.schedule(s0, after: e1)
            try await H.expectTrialBalanceZero(app)

            // Installment 3 on time, then a prepayment that lowers the installment.
            try await H.endOfDay(app, through: "2026-11-02")
            expectedCard -= s1.installments[2].paymentFen
            let e2 = try s1.prepayment(of: 1000, on: H.day("2026-11-02"), installmentsPaid: 3, option: .lowerInstallment)
            let prepay2: [String: Any] = ["amount": "1000", "prepaymentMode": "lower-installment"]
            let (_, quote2, _) = try await p.call(.POST, "/api/v1/loans/\(loanID)/prepayment-quote", json: prepay2)
            #expect(H.fen(quote2["amount"]) == e2.amountDueFen)
            #expect(H.fen(quote2["nextPaymentAfter"]) == e2.remainingInstallments[0].paymentFen)
            #expect(H.fen(quote2["nextPaymentAfter"]) < H.fen(quote2["nextPaymentBefore"]))
            let (_, prepaid2) = try await p.repay(loanID, key: "prepay-2", prepay2.merging(["type": "prepayment"]) { a, _ in a })
            #expect(H.fen(prepaid2["collected"]) == e2.amountDueFen)
            expectedCard -= e2.amountDueFen
            loan = try await p.loan(loanID)
            #expect(H.samePlan(Array(H.plan(loan).dropFirst(3)), H.plan(e2.remainingInstallments)))
            #expect(e2.remainingInstallments.count == e1.remainingInstallments.count - 1)
            let s2 = H.schedule(s1, after: e2)

            // Paid off between due dates at the engine's payoff quote for that business date.
            try await H.endOfDay(app, through: "2026-12-10")
            expectedCard -= s2.installments[3].paymentFen
            let e3 = try s2.payoff(on: H.day("2026-12-10"), installmentsPaid: 4)
            let (_, payoff, _) = try await p.call(.GET, "/api/v1/loans/\(loanID)/payoff-quote")
            #expect(payoff["validOn"] as? String == "2026-12-10")
            #expect(H.fen(payoff["amount"]) == e3.amountDueFen)
            let (closed, final) = try await p.repay(loanID, key: "payoff", ["type": "payoff", "amount": payoff["amount"] as? String ?? ""])
            #expect(closed == .created)
            #expect(final["loanStatus"] as? String == "paid_off")
            expectedCard -= e3.amountDueFen
            #expect(try await H.cardBalance(app, p.card) == expectedCard)
            loan = try await p.loan(loanID)
            #expect(loan[path: "loan.status"] as? String == "paid_off")
            #expect(loan[path: "loan.closedOn"] as? String == "2026-12-10")
            #expect(loan[path: "balances.outstandingPrincipal"] as? String == "0.00")
            #expect(H.rows(loan).allSatisfy { $0["status"] as? String == "paid" })

            // The ledger: receivables cleared; income is exactly the interest and penalty collected.
            let balances = try await H.expectTrialBalanceZero(app)
            #expect(balances["loans_receivable"] == 0)
            #expect(balances["interest_receivable"] == 0)
            #expect(balances["penalty_interest_receivable"] == 0)
            #expect(balances["penalty_interest_income"] == -3 * daily)
            let interest = s0.installments[0].interestFen + second.interestFen + e1.accruedInterestFen + s1.installments[2].interestFen
                + e2.accruedInterestFen + s2.installments[3].interestFen + e3.accruedInterestFen
            #expect(balances["interest_income"] == -interest)
            #expect(balances["settlement"] == interest + 3 * daily)

            // The audit trail has every money movement, and its chain verifies.
            let entries = try await AuditEntry.query(on: app.db).filter(\.$applicationID == UUID(uuidString: p.applicationID)!).all()
            let actions = entries.map(\.action)
            for expected in ["loan.disbursed", "autodebit.succeeded", "autodebit.failed", "penalty.accrued", "repayment.succeeded", "loan.status_changed"] {
                #expect(actions.contains(expected), "missing \(expected)")
            }
            #expect(actions.filter { $0 == "repayment.succeeded" }.count == 4)
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().firstBrokenSequence == nil)
            // Paying a closed loan is refused.
            let (again, refused) = try await p.repay(loanID, key: "after", ["type": "due"])
            #expect(again == .conflict)
            #expect(refused.errorCode == "loan_closed")
        }
    }

    @Test("a loan's plan written in one statement carries every field of an installment, each once")
    func installmentInsertCoversTheModel() {
        // A field added to LoanInstallment and not to the multi-row INSERT fails here, before a plan is booked without it.
        #expect(LoanInstallment.keys.map(\.description).sorted() == LoanInstallment.insertedColumns.sorted())
        #expect(Set(LoanInstallment.insertedColumns).count == LoanInstallment.insertedColumns.count)
    }

    @Test("a disbursement retried after a timeout pays the card once")
    func disbursementRetriedPaysOnce() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "10000", termMonths: 6)
            // The provider executes the payout but its answer is lost.
            try await H.setCard(app, p.card, mode: .timeout)
            let (first, firstBody) = try await p.disburse()
            #expect(first == .serviceUnavailable)
            #expect(firstBody.errorCode == "payout_pending")
            #expect(try await H.cardBalance(app, p.card) == 1_000_000)
            #expect(try await Loan.query(on: app.db).count() == 0)
            // MUT: the retry asks again with the same key and finishes.
            try await H.setCard(app, p.card, mode: .normal)
            let (second, secondBody) = try await p.disburse()
            #expect(second == .created)
            let (third, thirdBody) = try await p.disburse()
            #expect(third == .ok)
            #expect(thirdBody[path: "loan.id"] as? String == secondBody[path: "loan.id"] as? String)
            // validation
            #expect(try await H.cardBalance(app, p.card) == 1_000_000)
            #expect(try await SandboxPaymentInstruction.query(on: app.db).filter(\.$direction == "payout").count() == 1)
            #expect(try await Loan.query(on: app.db).count() == 1)
            #expect(try await JournalEntry.query(on: app.db).filter(\.$kind == "disbursement").count() == 1)
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("a refused payout moves no money, leaves the contract signed under its one key, and the applicant may then cancel")
    func refusedPayoutIsFinal() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "10000", termMonths: 6)
            try await H.setCard(app, p.card, mode: .fail)
            let (failed, body) = try await p.disburse()
            #expect(failed == .badGateway)
            #expect(body.errorCode == "payout_failed")
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "contract_signed")
            // The application's one key is never sent again under another name: asking again gets the same refusal.
            try await H.setCard(app, p.card, mode: .normal)
            let (again, againBody) = try await p.disburse()
            #expect(again == .badGateway)
            #expect(againBody.errorCode == "payout_failed")
            #expect(try await H.cardBalance(app, p.card) == 0)
            #expect(try await Payment.query(on: app.db).filter(\.$kind == "disbursement").count() == 1)
            // Nothing was sent, so cancelling is allowed.
            let (cancelled, cancelBody, _) = try await p.call(.POST, p.path("/cancel"))
            #expect(cancelled == .ok, "\(cancelBody)")
            #expect(try await Loan.query(on: app.db).count() == 0)
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("the same repayment Idempotency-Key twice makes one payment and answers the same")
    func repaymentIdempotency() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract()
            let loanID = try await p.disburse().1[path: "loan.id"] as? String ?? ""
            try await H.setCard(app, p.card, balance: 0)
            try await H.endOfDay(app, through: "2026-08-27")
            try await H.setCard(app, p.card, balance: 1_000_000)
            // Without a key the request is refused.
            let (missing, missingBody) = try await p.repay(loanID, key: nil, ["type": "due"])
            #expect(missing == .badRequest)
            #expect(missingBody.errorCode == "missing_idempotency_key")
            // MUT
            let (s1, b1, h1) = try await p.call(.POST, "/api/v1/loans/\(loanID)/repayments", json: ["type": "due"],
                                                headers: p.bearer.adding("Idempotency-Key", "pay-once"))
            let (s2, b2, h2) = try await p.call(.POST, "/api/v1/loans/\(loanID)/repayments", json: ["type": "due"],
                                                headers: p.bearer.adding("Idempotency-Key", "pay-once"))
            // validation
            #expect(s1 == .created)
            #expect(s2 == .created)
            #expect(NSDictionary(dictionary: b1).isEqual(to: b2))
            _ = (h1, h2)
            #expect(try await Payment.query(on: app.db).filter(\.$kind == "repayment").count() == 1)
            #expect(try await SandboxPaymentInstruction.query(on: app.db).filter(\.$direction == "collect").filter(\.$outcome == "succeeded").count() == 1)
            #expect(try await H.cardBalance(app, p.card) == 1_000_000 - H.fen(b1["collected"]))
            // The same key for another request is refused.
            let (reused, reusedBody) = try await p.repay(loanID, key: "pay-once", ["type": "amount", "amount": "1.00"])
            #expect(reused == .unprocessableEntity)
            #expect(reusedBody.errorCode == "idempotency_key_reused")
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("two repayments sent at the same time never allocate more than is owed")
    func concurrentRepayments() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract()
            let loanID = try await p.disburse().1[path: "loan.id"] as? String ?? ""
            try await H.setCard(app, p.card, balance: 0)
            try await H.endOfDay(app, through: "2026-08-27")
            try await H.setCard(app, p.card, balance: 5_000_000)
            let owed = H.fen(try await p.loan(loanID)[path: "balances.dueNow"])
            #expect(owed > 0)
            let part = Money.string(fen: owed * 6 / 10)
            // MUT: two payments of 60% of what is owed, and two of everything due, at once.
            let borrower = p
            async let a = borrower.repay(loanID, key: "a", ["type": "amount", "amount": part])
            async let b = borrower.repay(loanID, key: "b", ["type": "amount", "amount": part])
            async let c = borrower.repay(loanID, key: "c", ["type": "due"])
            async let d = borrower.repay(loanID, key: "d", ["type": "due"])
            let answers = try await [a, b, c, d]
            // validation
            let collected = answers.filter { $0.0 == .created }.map { H.fen($0.1["collected"]) }.reduce(0, +)
            #expect(collected <= owed)
            #expect(answers.contains { $0.0 == .created })
            let expected: [HTTPStatus] = [.created, .conflict, .unprocessableEntity]
            #expect(answers.allSatisfy { expected.contains($0.0) })
            #expect(try await H.cardBalance(app, p.card) == 5_000_000 - collected)
            let loan = try await p.loan(loanID)
            #expect(H.fen(loan[path: "balances.dueNow"]) == owed - collected)
            let rows = try await LoanInstallment.query(on: app.db).all()
            #expect(rows.allSatisfy { $0.paidPrincipalFen <= $0.principalFen && $0.paidInterestFen <= $0.interestFen && $0.paidPenaltyFen <= $0.penaltyFen })
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("running end of day twice for the same date changes nothing")
    func endOfDayTwice() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract()
            let loanID = try await p.disburse().1[path: "loan.id"] as? String ?? ""
            try await H.setCard(app, p.card, balance: 100)
            try await H.endOfDay(app, through: "2026-08-30")
            let before = try await p.loan(loanID)
            let entries = try await JournalEntry.query(on: app.db).count()
            let payments = try await Payment.query(on: app.db).count()
            let audit = try await AuditEntry.query(on: app.db).count()
            // MUT
            let reports = try await app.servicing.endOfDay.run(through: H.day("2026-08-30"))
            let sameDay = try await app.servicing.endOfDay.runDay(H.day("2026-08-30"))
            // validation
            #expect(reports.isEmpty)
            #expect(sameDay.fellDue == 0 && sameDay.turnedOverdue == 0 && sameDay.penaltyFen == 0 && sameDay.autoDebits == 0)
            #expect(NSDictionary(dictionary: try await p.loan(loanID)).isEqual(to: before))
            #expect(try await JournalEntry.query(on: app.db).count() == entries)
            #expect(try await Payment.query(on: app.db).count() == payments)
            #expect(try await AuditEntry.query(on: app.db).count() == audit)
            // The partial auto-debit took what the card had (1.00), once.
            #expect(try await H.cardBalance(app, p.card) == 0)
            #expect(before[path: "loan.status"] as? String == "overdue")
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("a repayment whose answer was lost is finished by a retry with the same key and collected once")
    func lostAnswerIsFinishedByRetry() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract()
            let loanID = try await p.disburse().1[path: "loan.id"] as? String ?? ""
            try await H.setCard(app, p.card, balance: 0)
            try await H.endOfDay(app, through: "2026-08-26")
            // The sandbox control route: top the card up and make the provider lose its answers.
            let card = p.card.value
            let (configured, account, _) = try await p.call(.PUT, "/sandbox/payments/accounts/\(card)", json: ["balance": "5000.00", "mode": "timeout"])
            #expect(configured == .ok)
            #expect(account["balance"] as? String == "5000.00")
            // MUT: the first answer is lost (202, pending). The next payment request first asks the provider again
            // about it (it was collected), so nothing is left due; the retry with the first key answers it.
            let (lost, pending) = try await p.repay(loanID, key: "lost", ["type": "due"])
            #expect(lost == .accepted)
            #expect(pending["state"] as? String == "pending")
            let (other, otherBody) = try await p.repay(loanID, key: "other", ["type": "due"])
            #expect(other == .conflict)
            #expect(otherBody.errorCode == "nothing_due")
            _ = try await p.call(.PUT, "/sandbox/payments/accounts/\(card)", json: ["mode": "normal"])
            let (retried, receipt) = try await p.repay(loanID, key: "lost", ["type": "due"])
            // validation
            #expect(retried == .created)
            #expect(receipt["id"] as? String == pending["id"] as? String)
            #expect(receipt["loanStatus"] as? String == "active")
            let collected = H.fen(receipt["collected"])
            #expect(collected == H.fen(pending["amount"]))
            #expect(try await H.cardBalance(app, p.card) == 500_000 - collected)
            #expect(try await SandboxPaymentInstruction.query(on: app.db).filter(\.$outcome == "succeeded").filter(\.$direction == "collect").count() == 1)
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test("an equal-principal loan prepaid before its first due date and then paid off matches the engine to the fen")
    func equalPrincipalBeforeFirstDueDate() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "24000", termMonths: 6, method: "equal-principal")
            let loanID = try await p.disburse().1[path: "loan.id"] as? String ?? ""
            let loan = try await p.loan(loanID)
            let s0 = try LoanCalculator.schedule(for: H.terms(of: loan))
            #expect(H.samePlan(H.plan(loan), H.plan(s0.installments)))
            try await H.endOfDay(app, through: "2026-08-05")
            // MUT: lower the installment 11 days after disbursement, then pay off 10 days later.
            let e1 = try s0.prepayment(of: 6000, on: H.day("2026-08-05"), installmentsPaid: 0, option: .lowerInstallment)
            let (paid, receipt) = try await p.repay(loanID, key: "p1", ["type": "prepayment", "amount": "6000", "prepaymentMode": "lower-installment"])
            #expect(paid == .created)
            #expect(H.fen(receipt["collected"]) == e1.amountDueFen)
            #expect(H.samePlan(H.plan(try await p.loan(loanID)), H.plan(e1.remainingInstallments)))
            // A second shorten-term prepayment before the first due date is refused with a clear reason.
            let (refused, reason) = try await p.repay(loanID, key: "p2", ["type": "prepayment", "amount": "1000", "prepaymentMode": "shorten-term"])
            #expect(refused == .conflict)
            #expect(reason.errorCode == "not_available")
            try await H.endOfDay(app, through: "2026-08-15")
            try await H.setCard(app, p.card, balance: 10_000_000)
            let e2 = try H.schedule(s0, after: e1).payoff(on: H.day("2026-08-15"), installmentsPaid: 0)
            let (_, quote, _) = try await p.call(.GET, "/api/v1/loans/\(loanID)/payoff-quote")
            #expect(H.fen(quote["amount"]) == e2.amountDueFen)
            #expect(quote["accruedDays"] as? Int == 21)
            let (closed, final) = try await p.repay(loanID, key: "off", ["type": "payoff"])
            #expect(closed == .created)
            #expect(final["loanStatus"] as? String == "paid_off")
            let balances = try await H.expectTrialBalanceZero(app)
            #expect(balances["loans_receivable"] == 0)
            #expect(balances["interest_income"] == -(e1.accruedInterestFen + e2.accruedInterestFen))
        }
    }

    @Test("another applicant gets 404 on every loan route")
    func anotherApplicantIsNotFound() async throws {
        try await withYidai { app, clock, providers in
            var owner = Applicant("P01", app: app, clock: clock, providers: providers)
            try await owner.walkToSignedContract()
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            try await other.signIn()
            // Another applicant cannot disburse someone else's application.
            let (stolen, _, _) = try await other.call(.POST, owner.path("/disbursement"))
            #expect(stolen == .notFound)
            let loanID = try await owner.disburse().1[path: "loan.id"] as? String ?? ""
            #expect(!loanID.isEmpty)
            let key = other.bearer.adding("Idempotency-Key", "x")
            let routes: [(HTTPMethod, String, [String: Any]?)] = [
                (HTTPMethod.GET, "/api/v1/loans/\(loanID)", nil), (.GET, "/api/v1/loans/\(loanID)/payoff-quote", nil),
                (.POST, "/api/v1/loans/\(loanID)/prepayment-quote", ["amount": "100", "prepaymentMode": "shorten-term"]),
                (.POST, "/api/v1/loans/\(loanID)/repayments", ["type": "payoff"]),
            ]
            for (method, path, json) in routes {
                let (status, body, _) = try await other.call(method, path, json: json, headers: key)
                #expect(status == .notFound, "\(method) \(path)")
                #expect(body.errorCode == "not_found")
            }
            let (_, list, _) = try await other.call(.GET, "/api/v1/loans")
            #expect((list["loans"] as? [Any])?.isEmpty == true)
            #expect((list["applications"] as? [[String: Any]])?.allSatisfy { $0["id"] as? String != owner.applicationID } == true)
            // The owner sees it; no session sees nothing.
            let (_, mine, _) = try await owner.call(.GET, "/api/v1/loans")
            #expect((mine["loans"] as? [[String: Any]])?.first?["id"] as? String == loanID)
            let (anonymous, _, _) = try await owner.call(.GET, "/api/v1/loans/\(loanID)", headers: [:])
            #expect(anonymous == .unauthorized)
        }
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var copy = self
        copy.add(name: name, value: value)
        return copy
    }
}
