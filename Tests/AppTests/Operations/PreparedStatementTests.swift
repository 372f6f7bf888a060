import Fluent
import FluentPostgresDriver
import Foundation
import PostgresNIO
import SQLKit
import Testing
import Vapor

@testable import App

/// The hot path's fixed statements run prepared on PostgreSQL (`PreparedStatements`) and as the same plain text
/// elsewhere: these tests hold the two to one meaning.
@Suite("Prepared statements on the hot path")
struct PreparedStatementTests {
    /// A statement's plain text, serialised for `dialect`, with its binds in order.
    static func serialized(_ query: SQLQueryString, on db: any SQLDatabase) -> (sql: String, binds: [String]) {
        var serializer = SQLSerializer(database: db)
        query.serialize(to: &serializer)
        return (serializer.sql, serializer.binds.map { "\($0)" })
    }

    @Test("the plain text of a prepared statement binds each $n where it stands, repeated ones again, and leaves other dollars alone")
    func textBindsEachPlaceholder() async throws {
        try await withYidai { app, _, _ in
            let sql = try #require(app.db as? any SQLDatabase)
            let text = PreparedStatements.text("SELECT $1, $2, $1 WHERE x = '$' AND y = $3 AND z = $9", ["a", 2, "c"])
            let (statement, binds) = Self.serialized(text, on: sql)
            #expect(binds == ["a", "2", "a", "c"])
            let placeholders = (1...4).map { (sql.dialect.name == "sqlite" ? "?" : "$") + String($0) }
            #expect(statement == "SELECT \(placeholders[0]), \(placeholders[1]), \(placeholders[2]) WHERE x = '$' AND y = \(placeholders[3]) AND z = $9")
            #expect(Self.serialized(PreparedStatements.text("SELECT 1", []), on: sql).sql == "SELECT 1")
        }
    }

    @Test("a prepared statement binds text, numbers, dates, ids, arrays and absent values, and no other type is a statement's value, so none can turn into NULL")
    func bindings() throws {
        let absent: String? = nil
        let values: [any StatementValue & Sendable] = ["a", 3, 2.5, Date(timeIntervalSince1970: 0), UUID(), absent]
        #expect(try LoanApplication.Write(values: values).makeBindings().count == 6)
        // Any other type does not compile as a value; at run time it has no PostgreSQL type either.
        #expect(PreparedStatements.dataType(of: Double?.self) == .float8 && PreparedStatements.dataType(of: Int.self) == .int8)
        #expect(PreparedStatements.dataType(of: Bool.self) == nil && PreparedStatements.dataType(of: Bool?.self) == nil)
        #expect(PreparedStatements.dataType(of: Data.self) == nil)
        // Arrays bind as PostgreSQL's arrays of their elements (the funnel's steps and flags).
        #expect(try LoanApplication.Write(values: [["a"], [UUID()], [true]]).makeBindings().count == 3)
        #expect(PreparedStatements.dataType(of: [String].self) == .textArray && PreparedStatements.dataType(of: [Bool].self) == .boolArray)
    }

    @Test("every prepared statement names a type for each of its values, and its SQL uses each of them")
    func everyStatementIsComplete() throws {
        let now = Date()
        let code = OneTimeCodes.Insert(
            id: UUID(), phoneIndex: "p", purpose: "sign_in", applicationID: nil, codeHash: "h", salt: "s", expiresAt: now, sentAt: now,
            clientIndex: nil)
        let application = LoanApplication(phoneIndex: "p", phoneSealed: "s", state: "started", now: now)
        application.id = UUID()
        let change = JourneyFunnel.values(
            of: try JourneyFunnel.Change(application, since: try #require(JourneyFunnel.Position("|phone")), now: now), application: application, now: now)
        let entry = try AuditTrail.Pending(
            application: application.id, actor: "a", action: "b", details: ["c": "d"], now: now,
            cipher: FieldCipher(keys: ["k1": Data(repeating: 1, count: 32)], activeKeyID: "k1", indexSeed: Data(repeating: 1, count: 32)))
        let statements: [any PreparedRowStatement] = [
            ApplicantAuthenticator.Session(tokenHash: "t", now: now),
            entry,
            RateLimiter.Count(key: "k", start: 0, expires: 1, previous: -1, weight: 0.5, room: 4),
            OneTimeCodes.PhoneSends.Read(phoneIndex: "p"),
            OneTimeCodes.PhoneSends.Claim(phoneIndex: "p", sends: "[]", now: now, version: 0),
            OneTimeCodes.PhoneSends.ClaimRecording(
                values: OneTimeCodes.PhoneSends.Claim(phoneIndex: "p", sends: "[]", now: now, version: 0).values + code.values),
            code,
            OneTimeCodes.CountTry(phoneIndex: "p", purpose: "sign_in", max: 5, now: now),
            OneTimeCodes.Consume(id: UUID(), now: now),
            PersonVault.KeyOfClass(phoneIndex: "p", dataClass: "kept"),
            PersonVault.KeyWithID(id: UUID()),
            PersonVault.KeyOfClassOrNew(phoneIndex: "p", dataClass: "kept", newID: UUID(), wrapped: "w", now: now),
            ApplicantSession.Insert(values: [UUID(), "t", UUID(), "p", now, now, Date?.none]),
            DecisionRecord.Insert(values: [UUID(), UUID(), "v", "s", "{}", "{}", "[]", now]),
            BusinessDateStore.Read(name: "bank"),
            PolicyStore.ActiveVersion(),
            AdvisoryLock(name: "n"),
            LoanApplication.Write(
                values: LoanApplication(phoneIndex: "p", phoneSealed: "s", state: "started", now: now).savedColumns.map(\.value) + [UUID(), 0]),
            LoanApplication.Recording(
                values: LoanApplication(phoneIndex: "p", phoneSealed: "s", state: "started", now: now).savedColumns.map(\.value) + [UUID(), 0]
                    + entry.values),
            LoanApplication.RecordingMovingFunnel(values: application.savedColumns.map(\.value) + [UUID(), 0] + entry.values + change),
            LoanApplication.RecordingConsuming(values: application.savedColumns.map(\.value) + [UUID(), 0] + entry.values + [UUID(), now]),
            LoanApplication.RecordingMovingFunnelConsuming(
                values: application.savedColumns.map(\.value) + [UUID(), 0] + entry.values + change + [UUID(), now]),
            JourneyFunnel.Move(values: [UUID()] + change),
            LoanApplication.OfPhone(phoneIndex: "p"),
            LoanApplication.Insert(values: [UUID(), now] + application.savedColumns.map(\.value)),
            LeadBook.HasLeads(phoneIndex: "p", statuses: ["new", "contacted"]),
        ]
        // Each has a name of its own, given, not worked out by reflection at every execution (PostgresNIO's default).
        let names = statements.map { Swift.type(of: $0).name }
        #expect(Set(names).count == names.count, "\(names)")
        for statement in statements {
            let type = Swift.type(of: statement)
            #expect(type.name != String(reflecting: type), "\(type) has no name of its own")
            let count = statement.values.count
            #expect(type.bindingDataTypes.count == count, "\(type)")
            for n in 1...max(count, 1) where count > 0 {
                #expect(type.sql.contains("$\(n)"), "\(type) has no $\(n)")
            }
            #expect(!type.sql.contains("$\(count + 1)"), "\(type) uses a value it does not have")
            for (index, value) in statement.values.enumerated() {
                let bound = PreparedStatements.dataType(of: Swift.type(of: value))
                #expect(bound == type.bindingDataTypes[index], "\(type): value \(index + 1) binds as \(String(describing: bound))")
            }
        }
    }

    @Test("a sign-in's session and a decision's record written by their statements read back through their models as written")
    func hotInsertsReadBackThroughTheirModels() async throws {
        try await withYidai { app, clock, _ in
            let now = Date(timeIntervalSince1970: (clock.now.timeIntervalSince1970 * 1000).rounded() / 1000)
            let application = LoanApplication(phoneIndex: "p-insert", phoneSealed: "s", state: "started", now: now)
            try await application.create(on: app.db)
            let applicationID = try application.requireID()
            // MUT: both rows through their statements, in a write transaction as the steps do
            let (session, record) = try await app.db.writeTransaction { tx in
                let session = ApplicantSession()
                session.tokenHash = "hash-\(UUID())"
                session.applicationID = applicationID
                session.phoneIndex = "p-insert"
                session.createdAt = now
                session.expiresAt = now.addingTimeInterval(1800)
                try await session.insert(on: tx)
                let record = DecisionRecord()
                record.applicationID = applicationID
                record.policyVersion = "credit-v9"
                record.policySHA256 = String(repeating: "a", count: 64)
                record.inputJSON = #"{"age":30}"#
                record.outputJSON = #"{"decision":"approved"}"#
                record.traceJSON = "[]"
                record.decidedAt = now
                try await record.insert(on: tx)
                return (session, record)
            }
            let readSession = try #require(try await ApplicantSession.find(try session.requireID(), on: app.db))
            #expect(readSession.tokenHash == session.tokenHash && readSession.applicationID == applicationID && readSession.phoneIndex == "p-insert")
            #expect(abs(readSession.createdAt.timeIntervalSince(now)) < 0.001 && abs(readSession.expiresAt.timeIntervalSince(now.addingTimeInterval(1800))) < 0.001)
            #expect(readSession.revokedAt == nil)
            let readRecord = try #require(try await DecisionRecord.find(try record.requireID(), on: app.db))
            #expect(readRecord.applicationID == applicationID && readRecord.policyVersion == "credit-v9" && readRecord.policySHA256 == record.policySHA256)
            #expect(readRecord.inputJSON == record.inputJSON && readRecord.outputJSON == record.outputJSON && readRecord.traceJSON == "[]")
            #expect(abs(readRecord.decidedAt.timeIntervalSince(now)) < 0.001)
            // a second session with the same token is refused by the unique token, and the first is untouched
            let twin = ApplicantSession()
            twin.tokenHash = session.tokenHash
            twin.applicationID = applicationID
            twin.phoneIndex = "p-insert"
            twin.createdAt = now
            twin.expiresAt = now
            await #expect(throws: (any Error).self) { try await app.db.writeTransaction { tx in try await twin.insert(on: tx) } }
            #expect(try await ApplicantSession.query(on: app.db).filter(\.$applicationID == applicationID).count() == 1)
        }
    }

    @Test("YIDAI_PG_PREPARED is on unless it says off; anything else refuses to start")
    func setting() {
        #expect(PreparedStatements.setting(nil) == true)
        #expect(PreparedStatements.setting("on") == true)
        #expect(PreparedStatements.setting(" OFF ") == false)
        #expect(PreparedStatements.setting("0") == false)
        #expect(PreparedStatements.setting("sometimes") == nil)
    }

    @Test("on PostgreSQL the audit trail's and the limiter's statements run prepared, once per connection; elsewhere as plain text")
    func preparedOnPostgres() async throws {
        try await withYidai { app, clock, _ in
            // MUT: an audit entry and a counted limit in one transaction, so both use its connection
            let names = try await app.db.writeTransaction { tx -> [String] in
                try await AuditTrail(db: tx, services: app.yidai).record(application: nil, actor: "test", action: "test.prepared", details: ["n": "1"])
                try await AuditTrail(db: tx, services: app.yidai).record(application: nil, actor: "test", action: "test.prepared", details: ["n": "2"])
                #expect(try await app.yidai.limiter.attempt("prepared-test", rule: .init(limit: 5, window: 60), now: clock.now, on: tx) == nil)
                guard !tx.isSQLite, let sql = tx as? any SQLDatabase else { return [] }
                return try await sql.raw("SELECT name FROM pg_prepared_statements").all().map { try $0.decode(column: "name", as: String.self) }
            }
            // validation: the entries chain as ever, whichever way they were written (the verifier seals first)
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.isIntact, "\(report.problems)")
            let entries = try await AuditEntry.query(on: app.db).filter(\.$action == "test.prepared").sort(\.$sequence).all()
            #expect(entries.map(\.details) == [#"{"n":"1"}"#, #"{"n":"2"}"#])
            #expect(entries[1].previousHash == entries[0].entryHash)
            #expect(entries[1].sequence == entries[0].sequence + 1)
            // one transaction, one lane: the second entry follows the first there
            #expect(entries[1].lane == entries[0].lane && entries[1].lanePosition == entries[0].lanePosition + 1)
            if app.db.isSQLite {
                #expect(names.isEmpty)
            } else {
                for statement: any PostgresPreparedStatement.Type in [AuditTrail.Pending.self, RateLimiter.Count.self] {
                    #expect(names.contains(statement.name), "\(statement.name) not among \(names)")
                }
            }
        }
    }
}
