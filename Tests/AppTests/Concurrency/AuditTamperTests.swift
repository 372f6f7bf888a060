import Fluent
import Foundation
import SQLKit
import Testing
import Providers
import Vapor

@testable import App

/// Row 6 of the concurrency issue: someone with write access to the database cuts or rewrites the audit trail.
@Suite("An audit trail that cannot be cut or rewritten unnoticed")
struct AuditTamperTests {
    /// A journey's worth of entries, anchored; returns the anchored head's sequence.
    static func anchoredJourney(_ app: Application, _ clock: TestClock, _ providers: ProviderSetBox) async throws -> (Int, UUID) {
        var p = Applicant("P01", app: app, clock: clock, providers: providers.set)
        _ = try await p.walkToDecision()
        let anchor = try await AuditAnchoring(db: app.db, services: app.yidai).checkpoint(reason: "test", force: true)
        let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.anchorsChecked == 1)
        return (try #require(anchor).sequence, UUID(uuidString: p.applicationID)!)
    }

    /// A sign-in and an ID card's upload, whose entries wait unsealed (no sealer runs in tests); false on SQLite, which
    /// chains every entry in its change's own transaction.
    static func unsealedEntries(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> Bool {
        var p = Applicant("P01", app: app, clock: clock, providers: providers)
        try await p.signIn()
        _ = try await p.uploadIDCard()
        return !app.db.isSQLite
    }

    static func sql(_ app: Application, _ text: SQLQueryString) async throws {
        try await (app.db as! any SQLDatabase).raw(text).run()
    }

    /// The sequence the verifier names when `deleted` go missing: in each lane the first of them is missing just after
    /// the entry before it there, whose sequence plus one it reports (1 at the start of a lane); the lowest of those.
    static func breakSequence(deleting deleted: [AuditEntry], on db: Database) async throws -> Int {
        let gone = Set(deleted.map { "\($0.lane):\($0.lanePosition)" })
        var lowest = Int.max
        for entry in deleted where !gone.contains("\(entry.lane):\(entry.lanePosition - 1)") {
            let before = try await AuditEntry.query(on: db).filter(\.$lane == entry.lane).filter(\.$lanePosition == entry.lanePosition - 1).first()
            lowest = min(lowest, (before?.sequence ?? 0) + 1)
        }
        return lowest
    }

    /// Deletes the newest `count` entries of the lane the newest entry is in, and points the lane's head at what is
    /// left, as a careful attacker would; the sequence the verifier should name.
    static func cutTail(_ app: Application, count: Int) async throws -> Int {
        let newest = try #require(try await AuditEntry.query(on: app.db).sort(\.$sequence, .descending).first())
        let lane = newest.lane
        let deleted = try await AuditEntry.query(on: app.db).filter(\.$lane == lane).filter(\.$lanePosition > newest.lanePosition - count).all()
        let expected = try await breakSequence(deleting: deleted, on: app.db)
        let keep = max(newest.lanePosition - count, 0)
        let survivor = try await AuditEntry.query(on: app.db).filter(\.$lane == lane).filter(\.$lanePosition == keep).first()
        try await sql(app, "DELETE FROM audit_entries WHERE lane = \(bind: lane) AND lane_position > \(bind: keep)")
        try await sql(
            app,
            "UPDATE audit_head SET sequence = \(bind: keep), entry_hash = \(bind: survivor?.entryHash ?? AuditTrail.genesis(lane: lane)) WHERE id = \(bind: lane)")
        return expected
    }

    @Test("deleting the newest entries is reported at the first missing one, even with the head row put back")
    func cutTail() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            // MUT: delete the last three entries of a lane and make its head point at what is left, as a careful attacker would.
            let expected = try await Self.cutTail(app, count: 3)
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == expected)
        }
    }

    @Test("rewriting an entry and recomputing every later hash without the audit key is reported at that entry")
    func rewriteAndRechain() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            // MUT: change entry 3 and rebuild its lane's chain after it with plain SHA-256, the best one can do without the key.
            let third = try #require(try await AuditEntry.query(on: app.db).filter(\.$sequence == 3).first())
            let lane = try await AuditEntry.query(on: app.db).filter(\.$lane == third.lane).filter(\.$lanePosition >= third.lanePosition)
                .sort(\.$lanePosition).all()
            var previous = third.previousHash
            for entry in lane {
                if entry.sequence == 3 { entry.details = "{\"name\":\"someone else\"}" }
                entry.previousHash = previous
                entry.keyID = nil
                entry.entryHash = try AuditTrail.hash(of: entry, cipher: app.yidai.cipher)
                try await entry.save(on: app.db)
                previous = entry.entryHash
            }
            try await Self.sql(app, "UPDATE audit_head SET entry_hash = \(bind: previous) WHERE id = \(bind: third.lane)")
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == 3)
        }
    }

    @Test("an entry changed, or forged, after it was written and before it was sealed is never sealed, and the verifier names it")
    func changedBeforeSealing() async throws {
        try await withYidai { app, clock, providers in
            guard try await Self.unsealedEntries(app, clock, providers) else { return }
            let unsealed = try await AuditEntry.query(on: app.db).filter(\.$lane == 0).sort(\.$sequence).all()
            #expect(unsealed.count >= 2)
            let victim = unsealed[1]
            // MUT: one entry's details changed, and one entry made up (its mark is not the audit key's)
            try await Self.sql(app, "UPDATE audit_entries SET details = '{\"name\":\"someone else\"}' WHERE id = \(bind: victim.id!)")
            try await Self.sql(app, """
                INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id, \
                lane, lane_position, content_mac) SELECT \(bind: UUID())::uuid, n, NULL, 'staff:nobody', 'loan.written_off', '{}', now(), '', '', \
                \(bind: victim.keyID), 0, -n, \(bind: String(repeating: "a", count: 64)) FROM (SELECT nextval('audit_entries_sequence') AS n) AS s
                """)
            let sealed = try await AuditSealing(db: app.db, services: app.yidai).sealAll()
            // validation: the others are sealed, these two never are, and the verifier names the first of them
            #expect(sealed == unsealed.count - 1)
            let left = try await AuditEntry.query(on: app.db).filter(\.$lane == 0).sort(\.$sequence).all()
            #expect(left.count == 2 && left.first?.id == victim.id && left.last?.action == "loan.written_off")
            #expect(try await AuditSealing(db: app.db, services: app.yidai).sealAll() == 0)
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == victim.sequence)
            #expect(report.problems.filter { $0.contains("(not sealed yet) was changed after it was written") }.count == 2)
        }
    }

    @Test("an entry deleted after its change committed and before it was sealed is recorded by the instance that wrote it, and the verifier reports it; a rolled-back change's entry is never missed")
    func deletedBeforeSealing() async throws {
        try await withYidai { app, clock, providers in
            guard try await Self.unsealedEntries(app, clock, providers) else { return }
            let watch = app.yidai.auditWatch
            let watched = watch.count
            #expect(watched == (try await AuditEntry.query(on: app.db).filter(\.$lane == 0).count()))
            // A change that rolls back: its entry was never there, and is not watched.
            await #expect(throws: AuditError.self) {
                try await app.db.writeTransaction { tx in
                    try await AuditTrail(db: tx, services: app.yidai).record(application: nil, actor: "test", action: "test.rolled_back", details: [:])
                    throw AuditError("rolled back")
                }
            }
            #expect(watch.count == watched)
            let victim = try #require(try await AuditEntry.query(on: app.db).filter(\.$lane == 0).sort(\.$sequence, .descending).first())
            // MUT: the newest entry deleted before any sealer saw it
            try await Self.sql(app, "DELETE FROM audit_entries WHERE id = \(bind: victim.id!)")
            let deleted = try await watch.check(on: app.db, services: app.yidai)
            // validation: the instance recorded it, and the verifier reports it
            #expect(deleted.map(\.id) == [victim.id!])
            let noted = try await AuditEntry.query(on: app.db).filter(\.$action == AuditWatch.deletedAction).all()
            #expect(noted.count == 1 && noted.first?.details.contains(victim.id!.uuidString.lowercased()) == true)
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.problems.contains { $0.contains("\(victim.action)) was deleted after it was written and before it was sealed") })
            // Once sealed, nothing is watched any more (the deletion's own entry included).
            #expect(try await watch.check(on: app.db, services: app.yidai).isEmpty)
            try await AuditSealing(db: app.db, services: app.yidai).sealAll()
            #expect(try await watch.check(on: app.db, services: app.yidai).isEmpty)
            #expect(watch.count == 0)
        }
    }

    @Test("deleting one application's entries is reported at the first of them")
    func deleteOneApplication() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            try await other.signIn()
            _ = try await other.uploadIDCard()
            let victim = UUID(uuidString: other.applicationID)!
            try await AuditSealing(db: app.db, services: app.yidai).sealAll()  // as the sealer does a moment after each change
            let expected = try await Self.breakSequence(
                deleting: try await AuditEntry.query(on: app.db).filter(\.$applicationID == victim).all(), on: app.db)
            // MUT
            try await AuditEntry.query(on: app.db).filter(\.$applicationID == victim).delete()
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == expected)
            #expect(report.problems.contains { $0.contains(victim.uuidString) })
        }
    }

    @Test("a state changed in the database without its audit entry is reported")
    func stateWithoutEntry() async throws {
        try await withYidai { app, clock, providers in
            let (_, id) = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            try await Self.sql(app, "UPDATE applications SET state = 'cancelled' WHERE id = \(bind: id)")
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.problems.contains { $0.contains("is cancelled but its last recorded transition is approved") })
        }
    }

    @Test("anchors are appended to the file outside the database, and a cut tail is found from the file when the table's anchors are deleted too")
    func anchorFile() async throws {
        let file = NSTemporaryDirectory() + "yidai-anchors-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withYidai { app, clock, providers in
            app.yidai = app.yidai.with(auditAnchorFile: file)
            let (anchored, _) = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            let lines = try AuditAnchoring.readFile(file).lines
            #expect(lines.count == 1 && lines[0].sequence == anchored && lines[0].lanes != nil)
            // MUT: cut a lane's tail, fix its head, and delete the anchors the database holds.
            try await Self.sql(app, "DELETE FROM audit_anchors")
            let expected = try await Self.cutTail(app, count: 2)
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.firstBrokenSequence == expected)
            #expect(report.problems.contains { $0.contains("anchor file") })
        }
    }

    @Test("an anchor not signed by the bank is refused")
    func forgedAnchor() async throws {
        try await withYidai { app, clock, providers in
            let (anchored, _) = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            try await Self.sql(app, "UPDATE audit_anchors SET entry_count = \(bind: anchored - 1)")
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.problems.contains { $0.contains("not signed by the bank") })
        }
    }

    @Test("an anchor whose signed lane heads, or the digest kept beside them, were changed is refused")
    func changedAnchorLanes() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            let anchor = try #require(try await AuditAnchor.query(on: app.db).first())
            let lanes = try #require(anchor.lanes)
            #expect(anchor.entryHash == AuditAnchoring.Lanes.digest(lanes))
            // MUT: the digest alone, then the lanes with a matching digest.
            try await Self.sql(app, "UPDATE audit_anchors SET entry_hash = \(bind: String(repeating: "1", count: 64))")
            let digest = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(digest.problems.contains { $0.contains("names no lane heads it can be checked against") })
            let forged = lanes.replacingOccurrences(of: ":", with: ":1", options: [], range: lanes.range(of: ":"))
            try await Self.sql(
                app, "UPDATE audit_anchors SET lanes = \(bind: forged), entry_hash = \(bind: AuditAnchoring.Lanes.digest(forged))")
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.problems.contains { $0.contains("not signed by the bank") })
        }
    }
}

/// Lets a helper take the provider set without a long parameter list.
struct ProviderSetBox {
    let set: ProviderSet
}
