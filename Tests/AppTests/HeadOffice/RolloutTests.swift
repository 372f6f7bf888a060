import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("Rollout branch by branch")
struct RolloutTests {
    static func signIn(_ p: inout Applicant, cm: String) async throws -> (HTTPStatus, [String: Any]) {
        let (sent, _, _) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
        #expect(sent == .accepted)
        let (status, body, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": await p.latestCode(), "cm": cm, "ch": "qr"], headers: [:])
        if status == .created {
            p.token = body["token"] as? String ?? ""
            p.applicationID = (body["application"] as? [String: Any])?["id"] as? String ?? ""
        }
        p.clock.advance(61)
        return (status, body)
    }

    @Test("a new applicant through a manager of a branch not online gets 403 branch_not_online and the kind page; the code stays unused")
    func notOnline() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let (status, body) = try await Self.signIn(&p, cm: "SH-0001")
            #expect(status == .forbidden)
            #expect((body["error"] as? [String: Any])?["code"] as? String == "branch_not_online")
            #expect(try await LoanApplication.query(on: app.db).count() == 0)
            #expect(try await OneTimeCode.query(on: app.db).filter(\.$consumedAt != nil).count() == 0)
            let page = try await app.testing().sendRequest(.GET, "/?cm=SH-0001&ch=qr")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("该地区即将开通"))
            #expect(page.body.string.contains("/lead?cm=SH-0001"))
        }
    }

    @Test("an admin switches a branch and its sub-branches online at once, audited with who and why; started applications are never cut off")
    func switchOnAndOff() async throws {
        try await withYidai { app, clock, providers in
            let admin = try await staff("admin", app: app, clock: clock)
            let (noReason, noReasonBody, _) = try await admin.call(.PUT, "/api/v1/staff/branches/SH", json: ["online": true])
            #expect(noReason == .unprocessableEntity)
            #expect((noReasonBody["error"] as? [String: Any])?["field"] as? String == "reason")
            let (ok, view, _) = try await admin.call(.PUT, "/api/v1/staff/branches/SH", json: ["online": true, "pilot": true, "reason": "上海分行试点上线"])
            #expect(ok == .ok, "\(view)")
            #expect(view["effectiveOnline"] as? Bool == true)
            let (_, list, _) = try await admin.call(.GET, "/api/v1/staff/branches")
            let sh = (list["items"] as? [[String: Any]] ?? []).filter { ($0["code"] as? String ?? "").hasPrefix("SH") }
            #expect(sh.count == 3 && sh.allSatisfy { $0["online"] as? Bool == true && $0["effectiveOnline"] as? Bool == true })
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            #expect(try await Self.signIn(&p, cm: "SH-0002").0 == .created)
            // Off again: the application already started goes on; a new applicant is refused.
            #expect(try await admin.call(.PUT, "/api/v1/staff/branches/SH", json: ["online": false, "reason": "暂停，系统调整"]).0 == .ok)
            var again = Applicant("P01", app: app, clock: clock, providers: providers)
            #expect(try await Self.signIn(&again, cm: "SH-0002").0 == .created)
            #expect(again.applicationID == p.applicationID)
            #expect(try await p.uploadIDCard().0 == .ok)
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            #expect(try await Self.signIn(&other, cm: "SH-0001").0 == .forbidden)
            let audit = try await AuditEntry.query(on: app.db).filter(\.$action == "branch.switched").all()
            #expect(audit.count == 2 && audit.allSatisfy { $0.actor == "staff:admin" && $0.details.contains("reason") })
            // Nobody but an admin switches branches.
            let head = try await staff("sh-head", app: app, clock: clock)
            #expect(try await head.call(.PUT, "/api/v1/staff/branches/SH", json: ["online": true, "reason": "我来上线"]).0 == .notFound)
            #expect(try await admin.call(.PUT, "/api/v1/staff/branches/XX", json: ["online": true, "reason": "不存在"]).0 == .notFound)
        }
    }
}
