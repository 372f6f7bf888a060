import Foundation
import Testing
import Vapor

@testable import App

/// Every sandbox person of domain.md, walked through the API to the end that page expects.
@Suite("Sandbox persons through the journey API")
struct SandboxPersonaJourneyTests {
    @Test("P01 张伟 is approved with a high limit, sees the APR, and requests a loan")
    func p01Approved() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let result = try await p.walkToDecision()
            #expect(result["state"] as? String == "approved")
            let limit = Decimal(string: result[path: "decision.creditLimit"] as? String ?? "0") ?? 0
            #expect(limit >= 100_000)
            #expect(limit <= 200_000)
            #expect(result[path: "decision.apr"] as? String != nil)
            #expect(result["nextStep"] as? String == "loan_request")
            let (status, body, _) = try await p.call(.POST, p.path("/loan-request"), json: [
                "amount": "50000", "termMonths": 12, "method": "equal-installment", "purpose": "renovation",
            ])
            #expect(status == .ok)
            #expect(body["state"] as? String == "loan_requested")
            #expect(body[path: "loanRequest.amount"] as? String == "50000.00")
            #expect(body[path: "applicant.name"] as? String == "张*")
            #expect(body[path: "applicant.idNumber"] as? String == "4403**********2013")
            #expect(body[path: "applicant.phone"] as? String == "138****0001")
        }
    }

    @Test("P02 王芳 with a thin file gets a small limit")
    func p02ThinFile() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            let result = try await p.walkToDecision()
            let state = result["state"] as? String
            #expect(state == "approved" || state == "referred")
            if state == "approved" {
                let limit = Decimal(string: result[path: "decision.creditLimit"] as? String ?? "0") ?? 0
                #expect(limit > 0 && limit <= 20_000)
            }
        }
    }

    @Test("P03 李强 is stopped at identity because the registry knows the ID as 李刚")
    func p03IdentityMismatch() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P03", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            let (status, body) = try await p.confirmIDCard()
            #expect(status == .unprocessableEntity)
            #expect(body.errorCode == "identity_mismatch")
            let (_, view, _) = try await p.call(.GET, p.path())
            #expect(view["nextStep"] as? String == "stopped")
            #expect(view[path: "stopped.reason"] as? String == "identity_mismatch")
            let (faceStatus, faceBody) = try await p.face()
            #expect(faceStatus == .conflict)
            #expect(faceBody.errorCode == "application_stopped")
        }
    }

    @Test("P04 刘敏 fails liveness three times and is locked out for 24 hours")
    func p04LivenessLock() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P04", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            #expect(try await p.confirmIDCard().0 == .ok)
            for attemptsLeft in [2, 1, 0] {
                let (status, body) = try await p.face()
                #expect(status == .ok)
                #expect(body["passed"] as? Bool == false)
                #expect(body["livenessPassed"] as? Bool == false)
                #expect(body["attemptsLeft"] as? Int == attemptsLeft)
            }
            let (locked, body) = try await p.face()
            #expect(locked == .locked)
            #expect(body.errorCode == "face_locked")
            clock.advance(24 * 3600 + 1)
            try await p.signIn()
            let (again, retry) = try await p.face()
            #expect(again == .ok)
            #expect(retry["attemptsLeft"] as? Int == 2)
        }
    }

    @Test("P05 陈军 passes liveness but the face does not match the registry photo")
    func p05FaceMismatch() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P05", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            let (status, body) = try await p.face()
            #expect(status == .ok)
            #expect(body["passed"] as? Bool == false)
            #expect(body["livenessPassed"] as? Bool == true)
            #expect(body["similarity"] as? String == "0.42")
            #expect(try await p.bankCard().0 == .conflict)
        }
    }

    @Test("P06 杨静 is stopped at the bank card step because her phone is registered to someone else")
    func p06PhoneNotOwned() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P06", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            #expect(try await p.face().0 == .ok)
            let (status, body) = try await p.bankCard()
            #expect(status == .unprocessableEntity)
            #expect(body.errorCode == "phone_not_owned")
            let (_, view, _) = try await p.call(.GET, p.path())
            #expect(view["nextStep"] as? String == "stopped")
        }
    }

    @Test("P07 赵磊's card is refused for its reserved phone, and another debit card of his passes")
    func p07ReservedPhone() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P07", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            _ = try await p.face()
            let (refused, body) = try await p.bankCard("6226090000110000508")
            #expect(refused == .unprocessableEntity)
            #expect(body.errorCode == "reserved_phone_mismatch")
            #expect(body.errorField == "cardNumber")
            let (credit, creditBody) = try await p.bankCard("6225880000110000405")
            #expect(credit == .unprocessableEntity)
            #expect(creditBody.errorCode == "not_debit_card")
            #expect(try await p.bankCard(p.persona.verifiableDebitCard.value).0 == .accepted)
            let (confirmed, view) = try await p.confirmBankCard()
            #expect(confirmed == .ok)
            #expect(view["state"] as? String == "identity_verified")
        }
    }

    @Test("P08 黄丽 at 21 and P09 周建国 at 56 are declined for age, with a plain reason")
    func ageDeclines() async throws {
        for key in ["P08", "P09"] {
            try await withYidai { app, clock, providers in
                var p = Applicant(key, app: app, clock: clock, providers: providers)
                let result = try await p.walkToDecision()
                #expect(result["state"] as? String == "declined")
                let reasons = result[path: "decision.reasons"] as? [[String: Any]] ?? []
                #expect(!reasons.isEmpty)
                #expect(reasons.allSatisfy { ($0["message"] as? String ?? "").count > 4 })
                #expect(reasons.contains { ($0["message"] as? String ?? "").contains("年龄") })
            }
        }
    }

    @Test("P10 吴婷 is declined for current and past delinquency")
    func p10Delinquency() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P10", app: app, clock: clock, providers: providers)
            let result = try await p.walkToDecision()
            #expect(result["state"] as? String == "declined")
            #expect(result[path: "decision.creditLimit"] == nil || result[path: "decision.creditLimit"] is NSNull)
        }
    }

    @Test("P11 孙浩 with 9 recent inquiries and 60% debt-to-income is referred to manual review")
    func p11Referred() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P11", app: app, clock: clock, providers: providers)
            let result = try await p.walkToDecision()
            #expect(result["state"] as? String == "referred")
        }
    }
}
