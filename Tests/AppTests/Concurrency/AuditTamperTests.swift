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

    static func sql(_ app: Application, _ text: SQLQueryString) async throws {
        try await (app.db as! any SQLDatabase).raw(text).run()
    }

    @Test("deleting the newest entries is reported at the first missing one, even with the head row put back")
    func cutTail() async throws {
        try await withYidai { app, clock, providers in
            let (anchored, _) = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            // MUT: delete the last three entries and make the head point at what is left, as a careful attacker would.
            let keep = anchored - 3
            let survivor = try #require(try await AuditEntry.query(on: app.db).filter(\.$sequence == keep).first())
            try await Self.sql(app, "DELETE FROM audit_entries WHERE sequence > \(bind: keep)")
            try await Self.sql(app, "UPDATE audit_head SET sequence = \(bind: keep), entry_hash = \(bind: survivor.entryHash) WHERE id = 1")
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == keep + 1)
        }
    }

    @Test("rewriting an entry and recomputing every later hash without the audit key is reported at that entry")
    func rewriteAndRechain() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.anchoredJourney(app, clock, ProviderSetBox(set: providers))
            // MUT: change entry 3 and rebuild the chain after it with plain SHA-256, the best one can do without the key.
            let entries = try await AuditEntry.query(on: app.db).sort(\.$sequence).all()
            var previous = entries[1].entryHash
            for entry in entries[2...] {
                if entry.sequence == 3 { entry.details = "{\"name\":\"someone else\"}" }
                entry.previousHash = previous
                entry.keyID = nil
                entry.entryHash = try AuditTrail.hash(of: entry, cipher: app.yidai.cipher)
                try await entry.save(on: app.db)
                previous = entry.entryHash
            }
            try await Self.sql(app, "UPDATE audit_head SET entry_hash = \(bind: previous) WHERE id = 1")
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == 3)
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
            let first = try #require(try await AuditEntry.query(on: app.db).filter(\.$applicationID == victim).sort(\.$sequence).first())
            // MUT
            try await AuditEntry.query(on: app.db).filter(\.$applicationID == victim).delete()
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.firstBrokenSequence == first.sequence)
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
            #expect(lines.count == 1 && lines[0].sequence == anchored)
            // MUT: cut the tail, fix the head, and delete the anchors the database holds.
            try await Self.sql(app, "DELETE FROM audit_anchors")
            let keep = anchored - 2
            let survivor = try #require(try await AuditEntry.query(on: app.db).filter(\.$sequence == keep).first())
            try await Self.sql(app, "DELETE FROM audit_entries WHERE sequence > \(bind: keep)")
            try await Self.sql(app, "UPDATE audit_head SET sequence = \(bind: keep), entry_hash = \(bind: survivor.entryHash) WHERE id = 1")
            // validation
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.firstBrokenSequence == keep + 1)
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
}

/// Lets a helper take the provider set without a long parameter list.
struct ProviderSetBox {
    let set: ProviderSet
}
