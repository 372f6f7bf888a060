import Fluent
import Foundation
import Testing
import Vapor
import LendingCore
import ZenEngine

@testable import App

@Suite("Customer-manager codes on the QR link")
struct ReferralTests {
    @Test("an application remembers the first manager code it met and the last one")
    func firstAndLastTouch() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "poster")
            var again = Applicant("P01", app: app, clock: clock, providers: providers)
            try await again.signIn(cm: "wh-0002", ch: "wechat")
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID), on: app.db))
            #expect(application.cmFirst == "SZ-0001")
            #expect(application.channelFirst == "poster")
            #expect(application.cmLast == "WH-0002")
            #expect(application.channelLast == "wechat")
        }
    }

    @Test("an unknown manager code is ignored, never an error for the applicant")
    func unknownCodeIgnored() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "XX-9999", ch: "poster")
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID), on: app.db))
            #expect(application.cmFirst == nil)
            #expect(application.cmLast == nil)
        }
    }
}

@Suite("Policy versions")
struct PolicyVersionTests {
    @Test("each decision records the policy version and hash, and replaying it gives the same result")
    func decisionIsReplayable() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P11", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let id = try #require(UUID(uuidString: p.applicationID))
            let record = try #require(try await DecisionRecord.query(on: app.db).filter(\.$applicationID == id).first())
            let version = try #require(try await app.yidai.policies.active(on: app.db))
            #expect(record.policyVersion == "credit@v1")
            #expect(record.policySHA256 == version.sha256)
            #expect(!record.inputJSON.contains("13800000011"))
            #expect(record.traceJSON.count > 100)
            let replay = try await app.yidai.policies.evaluate(
                CreditDecisionInput(value: try ZenJSON.parse(Data(record.inputJSON.utf8))), version: version)
            #expect(replay.outputJSON == record.outputJSON)
        }
    }

    @Test("publishing the same folder again keeps one version; the previous versions stay")
    func publishingIsIdempotent() async throws {
        try await withYidai { app, clock, _ in
            let again = try await app.yidai.policies.publish(folderPath: repositoryRoot + "/Policies/credit", by: "test", on: app.db, now: clock.now)
            #expect(again.version == 1)
            #expect(try await PolicyVersion.query(on: app.db).count() == 1)
        }
    }
}

@Suite("Pages")
struct PageSecurityTests {
    @Test("a form post without the CSRF token is refused with the friendly Chinese page")
    func csrfRequired() async throws {
        try await withYidai { app, _, _ in
            try await app.testing().test(.POST, "/", beforeRequest: { req in
                req.headers.contentType = .urlEncodedForm
                req.headers.replaceOrAdd(name: .accept, value: "text/html")
                req.body = ByteBuffer(string: "phone=13800000001&action=send")
            }, afterResponse: { res async in
                #expect(res.status == .forbidden)
                #expect(res.body.string.contains("页面已过期"))
                #expect(res.headers.first(name: "Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            })
        }
    }

    @Test("the sandbox SMS outbox is a page for people and JSON for programs")
    func outboxFormats() async throws {
        try await withYidai { app, _, _ in
            try await app.testing().test(.GET, "/sandbox/sms", headers: ["Accept": "text/html,application/xhtml+xml,*/*"]) { res async in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.subType == "html")
            }
            try await app.testing().test(.GET, "/sandbox/sms", headers: ["Accept": "application/json"]) { res async in
                #expect(res.status == .ok)
                #expect(res.body.string.hasPrefix("["))
            }
        }
    }

    @Test("an emergency contact may be called 王五")
    func chineseNumeralsInNames() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            _ = try await p.face()
            _ = try await p.bankCard()
            _ = try await p.confirmBankCard()
            _ = try await p.authorize()
            var body = Applicant.aboutYouBody(income: "25000")
            body["emergencyContact"] = ["name": "王五", "relationship": "friend", "phone": "13912345678"]
            let (status, _, _) = try await p.call(.PUT, p.path("/about-you"), json: body)
            #expect(status == .ok)
        }
    }
}

@Suite("Expiry")
struct ExpiryTests {
    @Test("an application left 30 days expires, and signing in again starts a new one")
    func idleApplicationExpires() async throws {
        try await withYidai { app, clock, providers in
            var first = Applicant("P01", app: app, clock: clock, providers: providers)
            try await first.signIn()
            _ = try await first.uploadIDCard()
            clock.advance(31 * 86_400)
            var again = Applicant("P01", app: app, clock: clock, providers: providers)
            try await again.signIn()
            #expect(again.applicationID != first.applicationID)
            let old = try #require(try await LoanApplication.find(UUID(uuidString: first.applicationID), on: app.db))
            #expect(old.state == "expired")
            let (_, view, _) = try await again.call(.GET, again.path())
            #expect(view["nextStep"] as? String == "id_card")
        }
    }

    @Test("viewing an idle application shows it expired but writes nothing; end of day records the expiry")
    func viewingWritesNothing() async throws {
        try await withYidai { app, clock, providers in
            var first = Applicant("P01", app: app, clock: clock, providers: providers)
            try await first.signIn()
            clock.advance(31 * 86_400)
            let (_, view, _) = try await first.call(.GET, "/api/v1/applications/\(first.applicationID)")
            #expect(view["state"] as? String == "expired" || view.errorCode == "unauthorized")
            let stored = try #require(try await LoanApplication.find(UUID(uuidString: first.applicationID), on: app.db))
            #expect(stored.state == "started")
            _ = try await app.servicing.endOfDay.run(through: nil)
            let after = try #require(try await LoanApplication.find(UUID(uuidString: first.applicationID), on: app.db))
            #expect(after.state == "expired")
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }
}
