import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

/// An SMS code is used up together with the step it proves, or not at all: a step that is refused leaves its code as it
/// was, and a code is never used twice (on PostgreSQL the step's save and the code's use are one statement).
@Suite("A step's SMS code is used with the step or not at all")
struct CodeUseTests {
    /// A code row of the application's phone, unused, as a send writes it.
    static func unusedCode(for application: LoanApplication, purpose: OneTimeCodes.Purpose, on db: any Database, now: Date) async throws -> OneTimeCodes.Proof {
        let code = OneTimeCode()
        code.phoneIndex = application.phoneIndex
        code.purpose = purpose.rawValue
        code.applicationID = application.id
        code.codeHash = "h"
        code.salt = "s"
        code.failedAttempts = 1
        code.expiresAt = now.addingTimeInterval(300)
        code.sentAt = now
        try await code.create(on: db)
        return OneTimeCodes.Proof(id: try code.requireID())
    }

    static func entries(_ id: UUID, action: String, on db: any Database) async throws -> Int {
        try await AuditEntry.query(on: db).filter(\.$applicationID == id).filter(\.$action == action).count()
    }

    @Test("a save that proves a code uses it up with the change and its audit entry")
    func codeUsedWithTheChange() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let id = try await ApplicationRowTests.decided(app, clock, providers)
            let application = try #require(try await LoanApplication.load(id, on: app.db))
            let proof = try await Self.unusedCode(for: application, purpose: .bankCard, on: app.db, now: clock.now)
            let version = application.version
            // MUT
            application.campaign = "with-code"
            try await ApplicationStore(db: app.db, services: app.yidai).commit(
                application, actor: "test", action: "test.proved", details: [:], consuming: proof)
            // validation
            let found = try #require(try await LoanApplication.load(id, on: app.db))
            #expect(found.campaign == "with-code" && found.version == version + 1)
            #expect(try await OneTimeCode.find(proof.id, on: app.db)?.consumedAt != nil)
            #expect(try await Self.entries(id, action: "test.proved", on: app.db) == 1)
        }
    }

    @Test("a save refused because another request changed the application first leaves its code unused")
    func lostSaveLeavesTheCodeUnused() async throws {
        try await withYidai { app, clock, providers in
            // setup: two copies read at the same version; the first is saved
            let id = try await ApplicationRowTests.decided(app, clock, providers)
            let first = try #require(try await LoanApplication.load(id, on: app.db))
            let stale = try #require(try await LoanApplication.load(id, on: app.db))
            let store = ApplicationStore(db: app.db, services: app.yidai)
            first.campaign = "first"
            try await store.commit(first, actor: "test", action: "test.first", details: [:])
            let proof = try await Self.unusedCode(for: stale, purpose: .bankCard, on: app.db, now: clock.now)
            // MUT
            stale.campaign = "stale"
            let error = await #expect(throws: APIError.self) {
                try await store.commit(stale, actor: "test", action: "test.stale", details: [:], consuming: proof)
            }
            // validation
            #expect(error?.code == "application_changed")
            #expect(try await OneTimeCode.find(proof.id, on: app.db)?.consumedAt == nil)
            #expect(try await LoanApplication.load(id, on: app.db)?.campaign == "first")
            #expect(try await Self.entries(id, action: "test.stale", on: app.db) == 0)
        }
    }

    @Test("a save that proves a code already used is refused, and writes nothing")
    func usedCodeRefusesTheSave() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let id = try await ApplicationRowTests.decided(app, clock, providers)
            let application = try #require(try await LoanApplication.load(id, on: app.db))
            let proof = try await Self.unusedCode(for: application, purpose: .bankCard, on: app.db, now: clock.now)
            try await OneTimeCode.query(on: app.db).filter(\.$id == proof.id).set(\.$consumedAt, to: clock.now).update()
            let version = application.version
            // MUT
            application.campaign = "second-use"
            let error = await #expect(throws: APIError.self) {
                try await ApplicationStore(db: app.db, services: app.yidai).commit(
                    application, actor: "test", action: "test.reused", details: [:], consuming: proof)
            }
            // validation
            #expect(error?.code == "code_already_used")
            #expect(application.version == version)  // nothing saved: the copy can be saved again
            let found = try #require(try await LoanApplication.load(id, on: app.db))
            #expect(found.version == version && found.campaign != "second-use")
            #expect(try await Self.entries(id, action: "test.reused", on: app.db) == 0)
        }
    }

    @Test("the right bank-card code sent ten times at the same moment verifies the card once and is used once")
    func sameCodeConfirmedAtOnce() async throws {
        try await withRacingYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let code = try await p.walkToBankCardCode()
            let borrower = p
            // MUT
            let answers = try await together(10) { _ in
                let (status, body, _) = try await borrower.call(.POST, borrower.path("/bank-card/confirm"), json: ["code": code])
                return (status, body.errorCode)
            }
            // validation: one verified it; every other answer says why not (the application moved on, or the code was used)
            #expect(answers.filter { $0.0 == .ok }.count == 1, "\(answers)")
            for answer in answers where answer.0 != .ok {
                #expect([HTTPStatus.conflict, .unprocessableEntity].contains(answer.0), "\(answer)")
            }
            let id = try #require(UUID(uuidString: p.applicationID))
            #expect(try await LoanApplication.load(id, on: app.db)?.state == "identity_verified")
            #expect(try await Self.entries(id, action: "bank_card.verified", on: app.db) == 1)
            let codes = try await OneTimeCode.query(on: app.db).filter(\.$purpose == "bank_card").all()
            #expect(codes.count == 1 && codes.first?.consumedAt != nil)
        }
    }
}
