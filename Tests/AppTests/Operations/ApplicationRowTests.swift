import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Testing
import Vapor

@testable import App

/// The journey reads and saves applications with plain statements (`LoanApplicationRow.swift`), not Fluent's
/// reflection: these tests keep the two the same row.
@Suite("An application's row, read and written without reflection")
struct ApplicationRowTests {
    @Test("every field of the application model is read and written by the plain statements")
    func everyFieldIsMapped() {
        // MUT + validation: a field added to the model and not to the mapping fails here, before it can be skipped
        let modelColumns = LoanApplication.keys.map(\.description)
        #expect(modelColumns.sorted() == LoanApplication.columnNames.sorted())
        #expect(Set(LoanApplication.columnNames).count == LoanApplication.columnNames.count)
        // and every column but the id and the creation time is written by a save
        let saved = LoanApplication(phoneIndex: "p", phoneSealed: "s", state: "started", now: Date()).savedColumns.map(\.name)
        #expect(saved.sorted() == LoanApplication.columnNames.filter { $0 != "id" && $0 != "created_at" }.sorted())
        // and each saved column's type binds in the prepared save (a new type would fail every save otherwise)
        #expect(LoanApplication.Write.unboundColumns.isEmpty)
        #expect(LoanApplication.Write.bindingDataTypes.count == saved.count + 2)
    }

    @Test("an application read by the plain statement is the same as the one Fluent reads, field by field")
    func loadMatchesFluent() async throws {
        try await withYidai { app, clock, providers in
            // setup: an application with most of its fields filled
            let id = try await Self.decided(app, clock, providers)
            // MUT
            let loaded = try #require(try await LoanApplication.load(id, on: app.db))
            // validation
            let found = try #require(try await LoanApplication.find(id, on: app.db))
            #expect(try Self.fields(loaded) == Self.fields(found))
            #expect(loaded.decision != nil && loaded.cardSealed != nil && loaded.authorizationSignedAt != nil)
            #expect(loaded.$id.exists)
            // and by its phone, as the sign-in reads it (prepared on PostgreSQL)
            let byPhone = try await LoanApplication.load(phoneIndex: found.phoneIndex, on: app.db)
            #expect(byPhone.count == 1)
            #expect(try byPhone.first.map(Self.fields) == Self.fields(found))
            #expect(byPhone.first?.$id.exists == true)
        }
    }

    @Test("the application a signed-in request reads with its session is the same as the one Fluent reads, field by field, with the person's keys")
    func sessionReadMatchesFluent() async throws {
        try await withYidai { app, clock, providers in
            // setup: a decided application and its applicant's session
            var applicant = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await applicant.walkToDecision()
            let id = try #require(UUID(uuidString: applicant.applicationID))
            let session = ApplicantAuthenticator.Session(tokenHash: SecretHash.sha256Hex(applicant.token), now: clock.now)
            // MUT: the session's row read as a request reads it (PostgreSQL's own row when prepared, else SQLKit's)
            let found: ApplicantAuthenticator.SignedIn
            if let rows = try await PreparedStatements.postgresRows(session, on: app.db as! any SQLDatabase) {
                let row = try #require(rows.first)
                found = try ApplicantAuthenticator.SignedIn(PostgresColumnsInOrder(row))
                // read by name alone, the same; and read in another order than selected, or a column it lacks
                let byName = try ApplicantAuthenticator.SignedIn(row.makeRandomAccess())
                #expect(try Self.fields(try #require(byName.application)) == Self.fields(try #require(found.application)))
                let shuffled = PostgresColumnsInOrder(row), random = row.makeRandomAccess()
                #expect(try shuffled.column("state", as: String.self) == random.column("state", as: String.self))
                #expect(try shuffled.column("id", as: UUID?.self) == id)
                for _ in 0..<2 { #expect(try shuffled.column("phone_index", as: String.self) == random.column("phone_index", as: String.self)) }
                #expect(try shuffled.column("session_id", as: UUID.self) == found.applicant.sessionID)
                #expect(try shuffled.column("kept_key_id", as: UUID?.self) == random.column("kept_key_id", as: UUID?.self))
                #expect(try shuffled.column("version", as: Int.self) == random.column("version", as: Int.self))
                #expect(throws: (any Error).self) { try shuffled.column("no_such_column", as: String?.self) }
            } else {
                found = try ApplicantAuthenticator.SignedIn(SQLRowColumns(row: try #require(try await PreparedStatements.all(session, on: app.db).first)))
            }
            // validation
            let read = try #require(found.application)
            let byFluent = try #require(try await LoanApplication.find(id, on: app.db))
            #expect(try Self.fields(read) == Self.fields(byFluent))
            #expect(read.$id.exists && read.loadedState == byFluent.state)
            #expect(found.applicant.applicationID == id && found.applicant.phoneIndex == byFluent.phoneIndex)
            let keys = try await PersonKey.query(on: app.db).filter(\.$phoneIndex == byFluent.phoneIndex).all()
            #expect(Set(found.keys.values.map(\.id)) == Set(keys.compactMap(\.id)))
            #expect(!found.keys.isEmpty)
            // and a session without a token that matches reads nothing
            let none = ApplicantAuthenticator.Session(tokenHash: SecretHash.sha256Hex("not-a-token"), now: clock.now)
            #expect(try await PreparedStatements.all(none, on: app.db).isEmpty)
        }
    }

    @Test("a new application inserted by the plain statement is stored as Fluent's create stores it, and saves as an update")
    func insertedRowMatchesFluent() async throws {
        try await withYidai { app, clock, providers in
            // setup: a copy of a filled-in application under a new id and phone, one written each way
            let id = try await Self.decided(app, clock, providers)
            let source = try #require(try await LoanApplication.load(id, on: app.db))
            func copy(_ phone: String) -> LoanApplication {
                let new = LoanApplication(phoneIndex: phone, phoneSealed: source.phoneSealed, state: source.state, now: clock.now)
                new.cmFirst = source.cmFirst; new.campaign = "row-test"; new.nameSealed = source.nameSealed
                new.cardSealed = source.cardSealed; new.cardMasked = source.cardMasked; new.faceAttempts = 2
                new.decision = source.decision; new.creditLimit = source.creditLimit; new.decidedAt = source.decidedAt
                new.loanTermMonths = 6; new.idConfirmedAt = source.idConfirmedAt
                return new
            }
            let byFluent = copy("row-fluent")
            try await byFluent.create(on: app.db)
            let byStatement = copy("row-plain")
            // MUT
            try await app.db.writeTransaction { tx in try await byStatement.insertRow(on: tx as! any SQLDatabase) }
            // validation: the same fields stored, but for the id, the phone and the two timestamps
            let fluentRow = try #require(try await LoanApplication.load(try byFluent.requireID(), on: app.db))
            let plainRow = try #require(try await LoanApplication.load(try byStatement.requireID(), on: app.db))
            var (a, b) = (try Self.fields(fluentRow), try Self.fields(plainRow))
            for key in ["id", "phoneIndex", "createdAt", "updatedAt"] { (a[key], b[key]) = (nil, nil) }
            #expect(a == b)
            #expect(plainRow.createdAt != nil && plainRow.updatedAt != nil)
            #expect(try Self.fields(plainRow) == Self.fields(byStatement))
            // and the model knows it exists: a later save updates the row instead of inserting a second one
            #expect(byStatement.$id.exists)
            byStatement.campaign = "saved-later"
            try await byStatement.save(on: app.db)
            #expect(try await LoanApplication.query(on: app.db).filter(\.$phoneIndex == "row-plain").count() == 1)
            #expect(try await LoanApplication.find(try byStatement.requireID(), on: app.db)?.campaign == "saved-later")
        }
    }

    @Test("a change saved through the store writes every field, moves the version on by one and can be read back")
    func savedRowReadsBack() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let id = try await Self.decided(app, clock, providers)
            let application = try #require(try await LoanApplication.load(id, on: app.db))
            let version = application.version
            application.loanPurpose = "education"
            application.stopReason = nil
            application.campaign = "spring-2027"
            // MUT
            try await ApplicationStore(db: app.db, services: app.yidai).commit(
                application, actor: "test", action: "test.changed", details: [:])
            // validation
            let found = try #require(try await LoanApplication.find(id, on: app.db))
            #expect(found.version == version + 1)
            #expect(found.loanPurpose == "education" && found.campaign == "spring-2027")
            #expect(try Self.fields(found) == Self.fields(application))
        }
    }

    @Test("a stale copy of an application cannot be saved over a newer one")
    func staleCopyRefused() async throws {
        try await withYidai { app, clock, providers in
            // setup: two copies read at the same version
            let id = try await Self.decided(app, clock, providers)
            let first = try #require(try await LoanApplication.load(id, on: app.db))
            let second = try #require(try await LoanApplication.load(id, on: app.db))
            let store = ApplicationStore(db: app.db, services: app.yidai)
            first.campaign = "first"
            try await store.commit(first, actor: "test", action: "test.first", details: [:])
            // MUT
            second.campaign = "second"
            await #expect(throws: APIError.self) {
                try await store.commit(second, actor: "test", action: "test.second", details: [:])
            }
            // validation
            let found = try #require(try await LoanApplication.find(id, on: app.db))
            #expect(found.campaign == "first")
        }
    }

    @Test("saves of copies read at the same version, at the same moment: exactly one is written, the others get 409, and the audit chain holds the winner's entry and verifies")
    func simultaneousSavesOneWins() async throws {
        try await withYidai { app, clock, providers in
            // setup: eight copies read at one version
            let id = try await Self.decided(app, clock, providers)
            let store = ApplicationStore(db: app.db, services: app.yidai)
            var copies: [LoanApplication] = []
            for n in 0..<8 {
                let copy = try #require(try await LoanApplication.load(id, on: app.db))
                copy.campaign = "copy-\(n)"
                copies.append(copy)
            }
            let version = copies[0].version
            // MUT: all saved at once
            let outcomes = await withTaskGroup(of: String.self) { group in
                for copy in copies {
                    group.addTask {
                        do {
                            try await store.commit(copy, actor: "test", action: "test.race", details: [:])
                            return "saved"
                        } catch let error as APIError {
                            return error.code
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // validation
            #expect(outcomes.filter { $0 == "saved" }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == "application_changed" }.count == 7, "\(outcomes)")
            let found = try #require(try await LoanApplication.find(id, on: app.db))
            #expect(found.version == version + 1)
            let winner = try #require(copies.first { $0.version == version + 1 })
            #expect(found.campaign == winner.campaign)
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "test.race").count() == 1)
            // The losers wrote no entry (their saves matched nothing, and the entry is written only for a matched save):
            // the chain verifies, and the next change goes on.
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
            let next = try #require(try await LoanApplication.load(id, on: app.db))
            next.campaign = "after"
            try await store.commit(next, actor: "test", action: "test.after-race", details: [:])
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }

    @Test("copies that each request the loan, saved at the same moment: the loan request is completed in the funnel once, by the one that won")
    func simultaneousMovesOneFunnelMove() async throws {
        try await withYidai { app, clock, providers in
            // setup: eight copies of a decided application, each moving it on to the loan request
            let id = try await Self.decided(app, clock, providers)
            let store = ApplicationStore(db: app.db, services: app.yidai)
            let metric = #"yidai_journey_steps_total{step="loan_request",event="completed"}"#
            func completions() async -> Int {
                let text = await app.yidai.metrics.render(db: app.db, now: clock.now)
                return text.split(separator: "\n").first { $0.hasPrefix(metric) }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            }
            let before = await completions()
            var copies: [LoanApplication] = []
            for _ in 0..<8 {
                let copy = try #require(try await LoanApplication.load(id, on: app.db))
                copy.state = ApplicationState.loanRequested.rawValue
                copies.append(copy)
            }
            // MUT: all saved at once
            let saved = await withTaskGroup(of: Bool.self) { group in
                for copy in copies {
                    group.addTask { (try? await store.commit(copy, actor: "test", action: "test.race", details: [:])) != nil }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            // validation: one save, one completion counted, one completed row
            #expect(saved == 1)
            #expect(await completions() == before + 1)
            let rows = try await JourneyStepRecord.query(on: app.db).filter(\.$applicationID == id).filter(\.$step == "loan_request").all()
            #expect(rows.count == 1)
            #expect(rows.first?.completedAt != nil)
        }
    }

    @Test("the funnel rows written while skipping changes that do not move the journey are the ones a full recount writes")
    func funnelSkipLosesNothing() async throws {
        try await withYidai { app, clock, providers in
            // setup: a journey with steps that do not move the funnel (the bank card's pending check, the codes)
            let id = try await Self.decided(app, clock, providers)
            func rows() async throws -> [String] {
                try await JourneyStepRecord.query(on: app.db).filter(\.$applicationID == id).all()
                    .map { "\($0.step):\($0.completedAt == nil ? "open" : "done")" }.sorted()
            }
            let written = try await rows()
            // MUT: the full recount, as every change did before the skip
            let application = try #require(try await LoanApplication.load(id, on: app.db))
            try await app.db.writeTransaction { tx in try await JourneyFunnel.record(application, on: tx, services: app.yidai) }
            // validation
            #expect(try await rows() == written)
            #expect(written.contains("decision:done") || written.contains("decision:open"))
        }
    }

    /// P01 walked to the decision (most fields filled: identity, card, authorization, decision), and its id.
    static func decided(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> UUID {
        var applicant = Applicant("P01", app: app, clock: clock, providers: providers)
        _ = try await applicant.walkToDecision()
        return try #require(UUID(uuidString: applicant.applicationID))
    }

    /// Every field as JSON, for comparing two copies (dates to the millisecond both databases keep).
    static func fields(_ application: LoanApplication) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        }
        let object = try JSONSerialization.jsonObject(with: encoder.encode(application)) as? [String: Any] ?? [:]
        return object.mapValues { "\($0)" }
    }
}
