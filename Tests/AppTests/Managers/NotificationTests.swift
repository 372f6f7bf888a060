import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("Milestone text messages, sent once through the job queue")
struct NotificationTests {
    static func run(_ app: Application) async throws -> Int {
        try await Notifications(db: app.db, services: app.yidai).runDue(limit: 1000)
    }

    static func texts(_ providers: ProviderSet, _ phone: String, containing: String) async -> [String] {
        await outboxTexts(providers, phone: phone).filter { $0.contains(containing) }
    }

    @Test("a decision's message wakes this instance's worker as soon as it is committed; a step that queues no message does not")
    func decisionWakesTheWorker() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await p.walkToAuthorized()
            await app.yidai.jobs.wait(upTo: .milliseconds(1))  // whatever an earlier step signalled
            #expect(try await p.aboutYou().0 == .ok)
            let timer = ContinuousClock()
            var started = timer.now
            await app.yidai.jobs.wait(upTo: .milliseconds(300))
            #expect(timer.now - started >= .milliseconds(250), "about-you queues no message, so nothing wakes the worker")
            #expect(try await p.decide().0 == .ok)
            started = timer.now
            await app.yidai.jobs.wait(upTo: .seconds(30))
            #expect(timer.now - started < .seconds(5))
            // The message is there for the worker to send when it wakes.
            #expect(try await Self.run(app) == 1)
            #expect(await Self.texts(providers, p.phone, containing: "审批通过").count == 1)
        }
    }

    @Test("a whole loan sends one message per milestone: decision, contract, payout, due soon, overdue day 1 and 7, paid off")
    func wholeLoan() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "3000", termMonths: 3)
            let (paid, payout) = try await p.disburse()
            #expect(paid == .created)
            _ = try await Self.run(app)
            _ = try await Self.run(app)  // nothing twice
            #expect(await Self.texts(providers, p.phone, containing: "审批通过").count == 1)
            #expect(await Self.texts(providers, p.phone, containing: "合同已生成").count == 1)
            let paidOut = await Self.texts(providers, p.phone, containing: "已发放至尾号")
            #expect(paidOut.count == 1)
            #expect(paidOut.first?.contains("3000.00元") == true || paidOut.first?.contains("3,000.00") == true, "\(paidOut)")
            #expect(paidOut.first?.contains("2026-08-25") == true, "the first due date: \(paidOut)")
            // The first installment is due 2026-08-25: reminders 3 days before, then 1 and 7 days after (the card is empty).
            let loanID = payout[path: "loan.id"] as? String ?? ""
            try await ServicingHarness.setCard(app, p.card, balance: 0)
            _ = try await EndOfDay(context: app.servicing).run(through: ServicingHarness.day("2026-08-22"))
            #expect(await Self.texts(providers, p.phone, containing: "将于2026-08-25到期").count == 1)
            _ = try await EndOfDay(context: app.servicing).run(through: ServicingHarness.day("2026-09-01"))
            #expect(await Self.texts(providers, p.phone, containing: "已逾期1天").count == 1)
            #expect(await Self.texts(providers, p.phone, containing: "已逾期7天").count == 1)
            // Paid off early: one message.
            try await ServicingHarness.setCard(app, p.card, balance: 1_000_000)
            let (_, quote, _) = try await p.call(.GET, "/api/v1/loans/\(loanID)/payoff-quote")
            let (repaid, body) = try await p.repay(loanID, key: "payoff-1", ["type": "payoff", "amount": quote["amount"] as? String ?? ""])
            #expect(repaid == .created || repaid == .ok, "\(body)")
            _ = try await Self.run(app)
            #expect(await Self.texts(providers, p.phone, containing: "已全部结清").count == 1)
            let sent = try await Notification.query(on: app.db).filter(\.$state == "sent").all().map(\.template)
            #expect(Set(sent).isSuperset(of: ["decision_approved", "contract_ready", "paid_out", "installment_due_soon", "installment_overdue_1",
                                            "installment_overdue_7", "paid_off"]))
            #expect(sent.count == Set(sent).count)
        }
    }

    @Test("a decision after manual review sends the decision message; a decline sends its own")
    func afterReview() async throws {
        try await withYidai { app, clock, providers in
            var declined = Applicant("P10", app: app, clock: clock, providers: providers)
            _ = try await declined.walkToDecision()
            let referred = try await Applicant.referred(app: app, clock: clock, providers: providers)
            _ = try await Self.run(app)
            #expect(await Self.texts(providers, declined.phone, containing: "未能通过审批").count == 1)
            #expect(await Self.texts(providers, referred.phone, containing: "审批").isEmpty)
            let reviewer = try await staff("risk1", app: app, clock: clock)
            let (status, body, _) = try await reviewer.call(.POST, StaffUser.application(referred.applicationID) + "/review", json: [
                "decision": "approve", "creditLimit": "20000", "annualRate": "12.0", "note": "收入稳定，查询为比价所致",
            ])
            #expect(status == .ok, "\(body)")
            _ = try await Self.run(app)
            #expect(await Self.texts(providers, referred.phone, containing: "审批通过").count == 1)
        }
    }

    @Test("a gateway outage leaves the message queued and retried with backoff; it goes out once when the gateway is back, audited once")
    func outage() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let gateway = sandboxSMS(providers)
            await gateway.setOutage(ProviderError(code: "down", message: "down", messageZh: "down"))
            #expect(try await Self.run(app) == 1)
            let note = try #require(try await Notification.query(on: app.db).filter(\.$template == "decision_approved").first())
            #expect(note.state == "queued" && note.attempts == 1)
            #expect(try await Self.run(app) == 0)  // backing off
            clock.advance(11)
            #expect(try await Self.run(app) == 1)
            clock.advance(21)
            await gateway.setOutage(nil)
            #expect(try await Self.run(app) == 1)
            #expect(await Self.texts(providers, p.phone, containing: "审批通过").count == 1)
            let done = try #require(try await Notification.find(note.id, on: app.db))
            #expect(done.state == "sent" && done.attempts == 3)
            // Its job ended with it, and only the send is in the audit trail, once, in a chain that verifies.
            let job = try #require(try await BackgroundJob.query(on: app.db).filter(\.$reference == note.requireID()).first())
            #expect(job.state == BackgroundJobState.done && job.lockedUntil == nil && job.attempts == 3)
            let noteID = try note.requireID().uuidString
            let sent = try await AuditEntry.query(on: app.db).filter(\.$action == "notification.sent").all().filter { $0.details.contains(noteID) }
            #expect(sent.count == 1)
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }

    @Test("a worker that died after sending is retried without a second message; two workers at once send once")
    func crashAndRace() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            // The crash: the message went out, but the job's end was never written (its lease simply runs out).
            let job = try #require(try await BackgroundJob.query(on: app.db).filter(\.$kind == Notifications.jobKind).first())
            #expect(try await PayoutJobs.claim(job, db: app.db, now: clock.now))
            let note = try #require(try await Notification.find(job.reference, on: app.db))
            try await providers.sms.send(to: try MobileNumber(p.phone), text: try await PersonVault(db: app.db, services: app.yidai).open(note.textSealed), reference: "notification:\(job.reference)")
            #expect(try await Self.run(app) == 0)  // leased by the dead worker
            clock.advance(PayoutJobs.lease + 1)
            async let a = Self.run(app)
            async let b = Self.run(app)
            #expect(try await a + b == 1)
            #expect(await Self.texts(providers, p.phone, containing: "审批通过").count == 1)
            #expect(try await Notification.find(job.reference, on: app.db)?.state == "sent")
        }
    }
}
