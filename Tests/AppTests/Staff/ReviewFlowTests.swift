import Fluent
import Foundation
import LendingCore
import Testing
import Vapor
import ZenEngine

@testable import App

@Suite("The review of referred applications")
struct ReviewFlowTests {
    @Test("P11: a reviewer approves 60,000, cannot confirm it herself, a second reviewer confirms, and P11 sees the approval and borrows")
    func makerChecker() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var risk1 = StaffUser("risk1", app: app, clock: clock)
            try await risk1.signIn()
            var risk2 = StaffUser("risk2", app: app, clock: clock)
            try await risk2.signIn()

            // The queue shows P11 masked, oldest first, with its branch and manager.
            let (listed, queue, _) = try await risk1.call(.GET, "/api/v1/staff/applications?state=referred&branch=SZ&page=1")
            #expect(listed == .ok)
            #expect(queue["total"] as? Int == 1)
            let item = try #require((queue["items"] as? [[String: Any]])?.first)
            #expect(item["id"] as? String == p.applicationID.uppercased() || (item["id"] as? String)?.lowercased() == p.applicationID.lowercased())
            #expect(item["branch"] as? String == "SZ-NS")
            #expect(item["manager"] as? String == "SZ-0001")
            #expect(item[path: "applicant.name"] as? String == "孙*")
            #expect(item[path: "applicant.phone"] as? String == "138****0011")
            #expect(item["pendingConfirmation"] as? Bool == false)

            // The detail: the machine's decision and what drove it.
            let (shown, detail, _) = try await risk1.call(.GET, StaffUser.application(p.applicationID))
            #expect(shown == .ok)
            #expect(detail[path: "decision.outcome"] as? String == "referred")
            #expect(detail[path: "decision.inquiriesLast3Months"] as? Int == 9)
            #expect((detail[path: "decision.reasons"] as? [[String: Any]])?.isEmpty == false)
            #expect(detail[path: "applicant.idNumber"] as? String == "6101**********3016")

            // MUT: approve 60,000 at 12%: above 50,000, so a second reviewer must confirm.
            let (reviewed, answer, _) = try await risk1.call(
                .POST, StaffUser.application(p.applicationID) + "/review",
                json: ["decision": "approve", "creditLimit": "60000.00", "annualRate": "12.00", "note": "收入稳定，查询多为比价"])
            #expect(reviewed == .ok, "\(answer)")
            #expect(answer["state"] as? String == "referred")
            #expect(answer["pendingConfirmation"] as? Bool == true)
            #expect(try await p.call(.GET, p.path()).1["state"] as? String == "referred")

            let (own, ownBody, _) = try await risk1.call(.POST, StaffUser.application(p.applicationID) + "/review/confirmation", json: ["confirm": true])
            #expect(own == .conflict)
            #expect(ownBody.errorCode == "own_decision")

            let (confirmed, confirmBody, _) = try await risk2.call(
                .POST, StaffUser.application(p.applicationID) + "/review/confirmation", json: ["confirm": true, "note": "同意"])
            #expect(confirmed == .ok, "\(confirmBody)")
            #expect(confirmBody["state"] as? String == "approved")

            // The applicant sees the approval: limit, rate, APR and a 30-day validity, and borrows as after an automatic one.
            let (_, application, _) = try await p.call(.GET, p.path())
            #expect(application["state"] as? String == "approved")
            #expect(application[path: "decision.creditLimit"] as? String == "60000.00")
            #expect(application[path: "decision.annualRate"] as? String == "12.00")
            #expect(application[path: "decision.apr"] as? String == "12.00")
            #expect(application[path: "decision.validUntil"] != nil)
            let (requested, loan, _) = try await p.call(.POST, p.path("/loan-request"), json: [
                "amount": "50000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption",
            ])
            #expect(requested == .ok, "\(loan)")

            // The machine's decision is kept beside the reviewers', and replays to its own answer.
            let record = try #require(try await DecisionRecord.query(on: app.db).filter(\.$applicationID == UUID(uuidString: p.applicationID)!).first())
            #expect(record.outputJSON.contains("\"referred\""))
            let version = try #require(try await PolicyVersion.query(on: app.db).filter(\.$active == true).first())
            let replayed = try await app.yidai.policies.evaluate(CreditDecisionInput(value: try ZenJSON.parse(Data(record.inputJSON.utf8))), version: version)
            #expect(replayed.decision == "referred")
            let actions = try await AuditEntry.query(on: app.db).filter(\.$applicationID == UUID(uuidString: p.applicationID)!).all().map(\.action)
            #expect(actions.contains("review.proposed") && actions.contains("review.confirmed"))
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }

    @Test("an approval within 50,000 decides at once; above 200,000 or outside the rate bounds it is refused naming the field")
    func singleApprovalAndBounds() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var risk1 = StaffUser("risk1", app: app, clock: clock)
            try await risk1.signIn()
            let path = StaffUser.application(p.applicationID) + "/review"
            let (cap, capBody, _) = try await risk1.call(.POST, path, json: ["decision": "approve", "creditLimit": "200100", "annualRate": "12"])
            #expect(cap == .unprocessableEntity)
            #expect(capBody.errorField == "creditLimit")
            let (rate, rateBody, _) = try await risk1.call(.POST, path, json: ["decision": "approve", "creditLimit": "30000", "annualRate": "24"])
            #expect(rate == .unprocessableEntity)
            #expect(rateBody.errorField == "annualRate")
            let (missing, missingBody, _) = try await risk1.call(.POST, path, json: [:])
            #expect(missing == .badRequest)
            #expect(missingBody.errorField == "decision")
            let (ok, body, _) = try await risk1.call(.POST, path, json: ["decision": "approve", "creditLimit": "30000", "annualRate": "10.80"])
            #expect(ok == .ok, "\(body)")
            #expect(body["state"] as? String == "approved")
            #expect(body["pendingConfirmation"] as? Bool == false)
            // Decided: a second decision is refused.
            let (again, againBody, _) = try await risk1.call(.POST, path, json: ["decision": "decline", "reason": "high_debt"])
            #expect(again == .conflict)
            #expect(againBody.errorCode == "not_referred")
        }
    }

    @Test("a decline with a reason from the list: the applicant sees declined with the reason in plain Chinese")
    func decline() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var risk1 = StaffUser("risk1", app: app, clock: clock)
            try await risk1.signIn()
            let path = StaffUser.application(p.applicationID) + "/review"
            let (bad, badBody, _) = try await risk1.call(.POST, path, json: ["decision": "decline", "reason": "because"])
            #expect(bad == .unprocessableEntity)
            #expect(badBody.errorField == "reason")
            let (ok, body, _) = try await risk1.call(.POST, path, json: ["decision": "decline", "reason": "too_many_inquiries", "note": "近三月查询9次"])
            #expect(ok == .ok, "\(body)")
            #expect(body["state"] as? String == "declined")
            let (_, application, _) = try await p.call(.GET, p.path())
            #expect(application["state"] as? String == "declined")
            let reasons = application[path: "decision.reasons"] as? [[String: Any]] ?? []
            #expect(reasons.first?["message"] as? String == "近期征信查询过多")
        }
    }

    @Test("a rejected confirmation sends the application back to the queue with the note")
    func rejectedConfirmation() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var risk1 = StaffUser("risk1", app: app, clock: clock)
            try await risk1.signIn()
            var risk2 = StaffUser("risk2", app: app, clock: clock)
            try await risk2.signIn()
            let base = StaffUser.application(p.applicationID)
            #expect(try await risk1.call(.POST, base + "/review", json: ["decision": "approve", "creditLimit": "80000", "annualRate": "12"]).0 == .ok)
            let (noNote, noNoteBody, _) = try await risk2.call(.POST, base + "/review/confirmation", json: ["confirm": false])
            #expect(noNote == .unprocessableEntity)
            #expect(noNoteBody.errorField == "note")
            let (back, backBody, _) = try await risk2.call(.POST, base + "/review/confirmation", json: ["confirm": false, "note": "额度偏高，请按收入重新核定"])
            #expect(back == .ok)
            #expect(backBody["state"] as? String == "referred")
            let (_, detail, _) = try await risk1.call(.GET, base)
            #expect(detail["pendingConfirmation"] as? Bool == false)
            let reviews = detail["reviews"] as? [[String: Any]] ?? []
            #expect(reviews.last?["state"] as? String == "rejected")
            #expect(reviews.last?["confirmationNote"] as? String == "额度偏高，请按收入重新核定")
            // Back in the queue: it can be decided again.
            #expect(try await risk1.call(.POST, base + "/review", json: ["decision": "approve", "creditLimit": "40000", "annualRate": "12"]).0 == .ok)
        }
    }

    @Test("two reviewers deciding at the same moment: one wins, the other gets 409 naming the winner's decision")
    func twoReviewersRace() async throws {
        try await withRacingYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var risk1 = StaffUser("risk1", app: app, clock: clock)
            try await risk1.signIn()
            var risk2 = StaffUser("risk2", app: app, clock: clock)
            try await risk2.signIn()
            let (a, b) = (risk1, risk2)
            let path = StaffUser.application(p.applicationID) + "/review"
            let answers = try await together(2) { i in
                let (status, body, _) = try await (i == 0 ? a : b).call(
                    .POST, path, json: i == 0 ? ["decision": "approve", "creditLimit": "30000", "annualRate": "12"] : ["decision": "decline", "reason": "high_debt"])
                return (status, body.errorCode, body[path: "error.message"] as? String)
            }
            #expect(answers.filter { $0.0 == .ok }.count == 1, "\(answers)")
            let loser = try #require(answers.first { $0.0 != .ok })
            #expect(loser.0 == .conflict)
            #expect(["already_decided", "not_referred"].contains(loser.1 ?? ""), "\(loser)")
            #expect(try await ReviewDecision.query(on: app.db).count() == 1)
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }

    @Test("a manager reveals one field of their own customer for a stated reason, and the reveal is in the audit trail")
    func reveal() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var manager = StaffUser("sz-cm1", app: app, clock: clock)
            try await manager.signIn()
            let path = StaffUser.application(p.applicationID) + "/reveal"
            let (noReason, noReasonBody, _) = try await manager.call(.POST, path, json: ["field": "phone"])
            #expect(noReason == .unprocessableEntity)
            #expect(noReasonBody.errorField == "reason")
            let (ok, body, _) = try await manager.call(.POST, path, json: ["field": "phone", "reason": "电话回访核实收入"])
            #expect(ok == .ok)
            #expect(body["value"] as? String == "13800000011")
            let entry = try #require(try await AuditEntry.query(on: app.db).filter(\.$action == "personal_data.revealed").first())
            #expect(entry.actor == "staff:sz-cm1")
            #expect(entry.details.contains("电话回访核实收入") && entry.details.contains("\"field\":\"phone\""))
            #expect(!entry.details.contains("13800000011"))
            // Another manager's customer, and a reviewer (no reveal in the table): 404.
            var other = StaffUser("sz-cm2", app: app, clock: clock)
            try await other.signIn()
            #expect(try await other.call(.POST, path, json: ["field": "phone", "reason": "好奇看看"]).0 == .notFound)
            var risk = StaffUser("risk1", app: app, clock: clock)
            try await risk.signIn()
            #expect(try await risk.call(.POST, path, json: ["field": "phone", "reason": "审核需要"]).0 == .notFound)
        }
    }
}
