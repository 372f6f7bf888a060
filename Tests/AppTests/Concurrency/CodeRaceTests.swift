import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

/// One-time codes and sign-ins when requests arrive at the same moment (rows 4 and 5 of the concurrency issue).
@Suite("Codes and sign-ins under concurrency")
struct CodeRaceTests {
    @Test("wrong sign-in codes sent at once use up the code's five tries, and the right code afterwards is refused")
    func signInGuessesAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            let right = await p.latestCode()
            let wrong = right == "000000" ? "000001" : "000000"

            // MUT
            let guesses = try await together(12) { _ in
                let (status, body, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": wrong], headers: [:])
                return (status, body.errorCode)
            }
            let (late, lateBody, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": right], headers: [:])

            // validation
            #expect(guesses.allSatisfy { $0.0 == .unprocessableEntity }, "\(guesses.map(\.0))")
            #expect(guesses.filter { $0.1 == "code_incorrect" }.count <= 4)
            #expect(late == .unprocessableEntity)
            #expect(lateBody.errorCode == "code_locked")
            #expect(try await LoanApplication.query(on: app.db).count() == 0)
            #expect(try await OneTimeCode.query(on: app.db).first()?.failedAttempts == 5)
        }
    }

    @Test("forty wrong bank-card codes at once, then the right one: refused, and the card is not verified")
    func bankCardGuessesAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let right = try await p.walkToBankCardCode()
            let wrong = right == "999999" ? "999998" : "999999"
            let borrower = p

            // MUT
            let guesses = try await together(40) { _ in
                try await borrower.call(.POST, borrower.path("/bank-card/confirm"), json: ["code": wrong]).0
            }
            let (late, lateBody, _) = try await p.call(.POST, p.path("/bank-card/confirm"), json: ["code": right])

            // validation
            #expect(guesses.allSatisfy { $0 == .unprocessableEntity }, "\(guesses)")
            #expect(late == .unprocessableEntity)
            #expect(lateBody.errorCode == "code_locked")
            let application = try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)
            #expect(application?.cardVerifiedAt == nil)
            #expect(application?.state == "started")
        }
    }

    @Test("a code for one purpose never works for another, and the resend wait is per purpose")
    func codesArePerPurpose() async throws {
        try await withRacingYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            #expect(try await p.confirmIDCard().0 == .ok)
            #expect(try await p.face().0 == .ok)
            #expect(try await p.bankCard().0 == .accepted)
            // A sign-in code may follow the bank-card code at once; a second sign-in code must wait.
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            let signInCode = await p.latestCode()
            let (again, againBody, againHeaders) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
            #expect(again == .tooManyRequests)
            #expect(againBody.errorCode == "rate_limited" || againHeaders.first(name: "Retry-After") != nil)
            // The sign-in code does not confirm the bank card.
            let (used, _, _) = try await p.call(.POST, p.path("/bank-card/confirm"), json: ["code": signInCode])
            #expect(used == .unprocessableEntity)
            let application = try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)
            #expect(application?.cardVerifiedAt == nil)
        }
    }

    @Test("twenty first sign-ins at the same moment all succeed, each with its application and its audit entry")
    func twentySignInsAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup: twenty new phones (any valid phone behaves like P01), a code each
            let sms = providers.sms as! SandboxSMSGateway
            let anyone = Applicant("P01", app: app, clock: clock, providers: providers)
            let phones = (0..<20).map { String(format: "139000001%02d", $0) }
            var codes: [String: String] = [:]
            for phone in phones {
                #expect(try await anyone.call(.POST, "/api/v1/sms-codes", json: ["phone": phone], headers: [:]).0 == .accepted)
                codes[phone] = await sms.latestCode(to: try MobileNumber(phone))
            }
            let known = codes

            // MUT
            let answers = try await together(20) { i in
                let (status, body, _) = try await anyone.call(
                    .POST, "/api/v1/sessions", json: ["phone": phones[i], "code": known[phones[i]] ?? ""], headers: [:])
                return (status, body.errorCode)
            }

            // validation
            #expect(answers.allSatisfy { $0.0 == .created }, "\(answers)")
            let applications = try await LoanApplication.query(on: app.db).all()
            #expect(applications.count == 20)
            for application in applications {
                let started = try await AuditEntry.query(on: app.db).filter(\.$applicationID == application.id!)
                    .filter(\.$action == "application.started").count()
                #expect(started == 1)
            }
            #expect(try await ApplicantSession.query(on: app.db).count() == 20)
            let audit = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(audit.isIntact, "\(audit.problems)")
        }
    }
}
