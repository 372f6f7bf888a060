import Fluent
import Foundation
import LendingCore
import Testing
import Vapor

@testable import App

@Suite("Staff sign-in: password, second factor, lockout, sessions")
struct StaffSignInTests {
    @Test("a reviewer signs in with the demo password and TOTP code and gets a bearer session")
    func signIn() async throws {
        try await withYidai { app, clock, _ in
            let risk = StaffUser("risk1", app: app, clock: clock)
            let (status, body, _) = try await risk.signInAnswer()
            #expect(status == .created)
            #expect((body["token"] as? String)?.count ?? 0 >= 32)
            #expect(body[path: "staff.login"] as? String == "risk1")
            #expect(body[path: "staff.role"] as? String == "risk_reviewer")
            #expect(body[path: "staff.branch"] as? String == "HO")
            #expect(body["expiresAt"] != nil)
            let stored = try await StaffSession.query(on: app.db).first()
            #expect(stored?.tokenHash == SecretHash.sha256Hex(body["token"] as? String ?? ""))
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "staff.signed_in").count() == 1)
        }
    }

    @Test("a wrong login, a wrong password and a wrong code all answer the same 401")
    func sameAnswer() async throws {
        try await withYidai { app, clock, _ in
            let good = StaffUser("risk1", app: app, clock: clock)
            let nobody = StaffUser("nobody", app: app, clock: clock)
            let answers = [
                try await nobody.signInAnswer(),
                try await good.signInAnswer(password: "wrong-password"),
                try await good.signInAnswer(totp: "000000"),
            ]
            for (status, body, _) in answers {
                #expect(status == .unauthorized)
                #expect(body.errorCode == "sign_in_failed")
                #expect(body[path: "error.message"] as? String == answers[0].1[path: "error.message"] as? String)
            }
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "staff.sign_in_failed").count() == 3)
        }
    }

    @Test("a code already used cannot sign in again within its window")
    func replayRefused() async throws {
        try await withYidai { app, clock, _ in
            let risk = StaffUser("risk1", app: app, clock: clock)
            let code = risk.freshCode()
            let first = try await risk.signInAnswer(totp: code).0
            #expect(first == .created)
            clock.advance(5)
            let again = try await risk.signInAnswer(totp: code).0
            #expect(again == .unauthorized)
        }
    }

    @Test("five wrong tries lock the login for 15 minutes, even the right password and code, and the lock is audited")
    func lockout() async throws {
        try await withYidai { app, clock, _ in
            let risk = StaffUser("risk1", app: app, clock: clock)
            for _ in 0..<5 { #expect(try await risk.signInAnswer(password: "nope").0 == .unauthorized) }
            let (locked, body, headers) = try await risk.signInAnswer()
            #expect(locked == .tooManyRequests)
            #expect(body.errorCode == "rate_limited" || body.errorCode != nil)
            #expect(Int(headers.first(name: "Retry-After") ?? "") ?? 0 > 800)
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "staff.locked").count() == 1)
            #expect(try await StaffLoginGuard.query(on: app.db).first()?.lockedUntil != nil)
            clock.advance(15 * 60)
            #expect(try await risk.signInAnswer().0 == .created)
        }
    }

    @Test("wrong tries sent at the same moment never get more than five through")
    func lockoutUnderRace() async throws {
        try await withRacingYidai { app, clock, _ in
            let risk = StaffUser("risk1", app: app, clock: clock)
            let code = risk.freshCode()
            let statuses = try await together(12) { _ in try await risk.signInAnswer(password: "nope", totp: code).0 }
            #expect(statuses.filter { $0 == .unauthorized }.count <= 5, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .tooManyRequests })
            #expect(try await risk.signInAnswer().0 == .tooManyRequests)
        }
    }

    @Test("a session ends after 30 idle minutes, after 12 hours however busy, and at once on sign-out")
    func sessionLifetimes() async throws {
        try await withYidai { app, clock, _ in
            var risk = StaffUser("risk1", app: app, clock: clock)
            try await risk.signIn()
            #expect(try await risk.call(.GET, "/api/v1/staff/applications").0 == .ok)
            clock.advance(31 * 60)
            #expect(try await risk.call(.GET, "/api/v1/staff/applications").0 == .unauthorized)

            try await risk.signIn()
            for _ in 0..<25 {
                clock.advance(29 * 60)
                _ = try await risk.call(.GET, "/api/v1/staff/applications")
            }
            #expect(try await risk.call(.GET, "/api/v1/staff/applications").0 == .unauthorized)

            try await risk.signIn()
            #expect(try await risk.call(.DELETE, "/api/v1/staff/sessions/current").0 == .ok)
            #expect(try await risk.call(.GET, "/api/v1/staff/applications").0 == .unauthorized)
        }
    }

    @Test("disabling a member ends their sessions at once and refuses their sign-in")
    func disabledMember() async throws {
        try await withYidai { app, clock, _ in
            var risk = StaffUser("risk1", app: app, clock: clock)
            try await risk.signIn()
            var admin = StaffUser("admin", app: app, clock: clock)
            try await admin.signIn()
            let (status, body, _) = try await admin.call(.PUT, "/api/v1/staff/members/risk1", json: ["active": false])
            #expect(status == .ok, "\(body)")
            #expect(try await risk.call(.GET, "/api/v1/staff/applications").0 == .unauthorized)
            #expect(try await risk.signInAnswer().0 == .unauthorized)
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "staff.disabled").count() == 1)
        }
    }

    @Test("a member without a second factor gets an otpauth URI once and can do nothing else until a code confirms it")
    func enrolment() async throws {
        try await withYidai { app, clock, _ in
            var admin = StaffUser("admin", app: app, clock: clock)
            try await admin.signIn()
            #expect(try await admin.call(.POST, "/api/v1/staff/members/risk2/second-factor/reset").0 == .ok)
            let (status, body, _) = try await admin.call(
                .POST, "/api/v1/staff/sessions", json: ["login": "risk2", "password": DemoData.demoPassword], headers: [:])
            #expect(status == .created)
            let uri = try #require(body[path: "enrolment.otpauthUri"] as? String)
            #expect(uri.hasPrefix("otpauth://totp/%E6%98%93%E8%B4%B7:risk2?secret="))
            var risk2 = StaffUser("risk2", app: app, clock: clock)
            risk2.token = body["token"] as? String ?? ""
            let (blocked, blockedBody, _) = try await risk2.call(.GET, "/api/v1/staff/applications")
            #expect(blocked == .forbidden)
            #expect(blockedBody.errorCode == "enrolment_required")
            let secretText = try #require(URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value)
            let secret = try Base32.decode(secretText)
            #expect(secretText != StaffSignIn.demoTOTPSecret)
            clock.advance(31)
            let code = TimeBasedOneTimePassword.standard.code(secret: secret, at: clock.now)
            #expect(try await risk2.call(.POST, "/api/v1/staff/enrolment", json: ["totp": code]).0 == .ok)
            #expect(try await risk2.call(.GET, "/api/v1/staff/applications").0 == .ok)
            let member = try await StaffMember.query(on: app.db).filter(\.$login == "risk2").first()
            #expect(member?.totpSecretSealed?.contains(secretText) == false)  // sealed, not in clear
        }
    }

    @Test("production refuses to start while any member still has the demo TOTP secret, and starts once it is reset")
    func productionRefusesDemoSecret() async throws {
        try await withYidai { app, clock, _ in
            await #expect(throws: ConfigurationError.self) { try await ProductionGuard.checkStaff(on: app.db, cipher: app.yidai.cipher) }
            for member in try await StaffMember.query(on: app.db).all() {
                member.totpSecretSealed = try app.yidai.cipher.seal(Base32.encode(Array("a bank's own secret!".utf8)))
                try await member.save(on: app.db)
            }
            try await ProductionGuard.checkStaff(on: app.db, cipher: app.yidai.cipher)
        }
    }

    @Test("the maker-checker threshold is configurable and a bad value is refused at start")
    func thresholdConfig() throws {
        #expect(try AppConfig.reviewPolicy(nil).secondReviewAboveFen == 5_000_000)
        #expect(try AppConfig.reviewPolicy("80000").secondReviewAboveFen == 8_000_000)
        #expect(throws: ConfigurationError.self) { try AppConfig.reviewPolicy("lots") }
        #expect(throws: ConfigurationError.self) { try AppConfig.reviewPolicy("300000") }
    }
}
