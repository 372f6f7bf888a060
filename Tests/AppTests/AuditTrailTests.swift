import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

@testable import App

@Suite("Audit trail")
struct AuditTrailTests {
    @Test("every step of a journey is in the audit trail, masked, and the chain verifies")
    func journeyIsAudited() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let id = UUID(uuidString: p.applicationID)!
            let entries = try await AuditEntry.query(on: app.db).filter(\.$applicationID == id).sort(\.$sequence).all()
            let actions = entries.map(\.action)
            for expected in ["application.started", "id_card.read", "id_card.confirmed", "face.verified", "carrier.verified", "bank_card.checked",
                             "bank_card.verified", "credit_authorization.signed", "credit_report.pulled", "about_you.saved", "decision.made"] {
                #expect(actions.contains(expected), "missing \(expected)")
            }
            let all = entries.map(\.details).joined()
            #expect(!all.contains("440305198803152013"))
            #expect(!all.contains("13800000001"))
            #expect(!all.contains("张伟"))
            #expect(all.contains("4403**********2013"))
            let result = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(result.firstBrokenSequence == nil)
            #expect(result.entries >= entries.count)
        }
    }

    @Test("changing or deleting an entry is found at the first broken link")
    func tamperingIsFound() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            try await AuditSealing(db: app.db, services: app.yidai).sealAll()  // as the sealer does a moment after each change
            let trail = AuditVerifier(db: app.db, services: app.yidai)
            let entries = try await AuditEntry.query(on: app.db).sort(\.$sequence).all()
            #expect(entries.count >= 3)
            let victim = entries[1]
            victim.details = "{\"name\":\"someone else\"}"
            try await victim.save(on: app.db)
            #expect(try await trail.verify().firstBrokenSequence == victim.sequence)
            // A deleted entry is named by the first sequence it could have had: one after the entry before it in its lane.
            let expected = try await AuditTamperTests.breakSequence(deleting: [entries[1]], on: app.db)
            #expect(expected <= victim.sequence)
            try await entries[1].delete(on: app.db)
            #expect(try await trail.verify().firstBrokenSequence == expected)
        }
    }
}

@Suite("Audit trail under concurrent changes")
struct AuditLaneTests {
    @Test("forty changes audited at the same moment each get their own entry; sealers at the same moment chain each exactly once, in order along every lane, and the chain verifies")
    func concurrentAppends() async throws {
        try await withYidai { app, _, _ in
            // MUT: forty transactions append at once (on PostgreSQL each writes its entry unsealed, waiting for no lane).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<40 {
                    group.addTask {
                        try await app.db.writeTransaction { tx in
                            try await AuditTrail(db: tx, services: app.yidai).record(
                                application: nil, actor: "test", action: "test.concurrent", details: ["n": String(n)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            // MUT: four sealers at once, in batches of five, on connections of their own (so on several lanes).
            let unsealed = try await AuditEntry.query(on: app.db).filter(\.$lane == 0).count()
            #expect(unsealed == (app.db.isSQLite ? 0 : 40))
            let sealed = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await AuditSealing(db: app.db, cipher: app.yidai.cipher, logger: app.logger, batch: 5).sealAll() }
                }
                return try await group.reduce(0, +)
            }
            // validation: each entry sealed once, in its lane's next place
            #expect(sealed == unsealed)
            let entries = try await AuditEntry.query(on: app.db).filter(\.$action == "test.concurrent").all()
            #expect(Set(entries.map(\.details)).count == 40)
            #expect(Set(entries.map(\.sequence)).count == 40)
            #expect(!entries.contains { $0.lane == 0 })
            for lane in Set(entries.map(\.lane)) {
                let along = try await AuditEntry.query(on: app.db).filter(\.$lane == lane).sort(\.$lanePosition).all()
                #expect(along.map(\.lanePosition) == Array(1...along.count), "lane \(lane)")
                #expect(along.map(\.sequence) == along.map(\.sequence).sorted(), "sequences fall along lane \(lane)")
            }
            // SQLite writes one lane; on PostgreSQL the sealers' connections spread over lanes.
            if app.db.isSQLite { #expect(Set(entries.map(\.lane)) == [1]) } else { #expect(Set(entries.map(\.lane)).count > 1) }
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(report.isIntact, "\(report.problems)")
            // An anchor signs the head of every lane in use and counts every entry; the trail still verifies with it.
            let anchor = try #require(try await AuditAnchoring(db: app.db, services: app.yidai).checkpoint(reason: "test", force: true))
            #expect(anchor.entryCount == report.entries && anchor.lanes?.split(separator: ";").count == Set(entries.map(\.lane)).count)
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().isIntact)
        }
    }

    @Test("an entry put in a lane that does not exist is reported as added outside the trail, and a lane's deleted head row as missing")
    func entryOutsideTheLanes() async throws {
        try await withYidai { app, _, _ in
            try await AuditTrail(db: app.db, services: app.yidai).record(application: nil, actor: "test", action: "test.one", details: [:])
            let entry = try #require(try await AuditEntry.query(on: app.db).filter(\.$action == "test.one").first())
            // MUT: a copy of the entry in lane 99, outside every lane's head.
            try await (app.db as! any SQLDatabase).raw("""
                INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id, lane, lane_position) \
                SELECT \(bind: UUID()), sequence + 1000, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id, 99, 1 \
                FROM audit_entries WHERE id = \(bind: entry.id!)
                """).run()
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(!report.isIntact)
            #expect(report.problems.contains { $0.contains("in no lane of the chain") })
            // MUT: a lane's head row deleted.
            try await (app.db as! any SQLDatabase).raw("DELETE FROM audit_entries WHERE lane = 99").run()
            let used = Set(try await AuditEntry.query(on: app.db).all().map(\.lane))
            let unused = try #require(Set(1...AuditTrail.laneCount).subtracting(used).min())
            try await (app.db as! any SQLDatabase).raw("DELETE FROM audit_head WHERE id = \(bind: unused)").run()
            let headless = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(headless.problems == ["the head rows of lanes \(unused) are missing: they were deleted"])
        }
    }
}

@Suite("An audit trail written before lanes")
struct AuditLaneUpgradeTests {
    @Test("a trail written and anchored as one chain before lanes verifies after the upgrade, goes on in lanes, and a cut of its old tail is still found by the old anchor")
    func upgrade() async throws {
        try await withYidai { app, clock, _ in
            // Everything on one connection: SQLite checks a statement against its connection's copy of the schema, so
            // another of the pool's connections that has not seen the columns dropped yet answers "duplicate column
            // name" when they are added back (seen under a full parallel run, when the pool hands out both).
            try await app.db.withConnection { db in
                let sql = try #require(db as? any SQLDatabase)
                // The database as it was before lanes: one chain, one head row, anchors without lanes.
                try await sql.raw("DELETE FROM audit_entries").run()
                try await sql.raw("DELETE FROM audit_anchors").run()
                try await AddAuditSealing().revert(on: db)
                try await CreateAuditLanes().revert(on: db)
                try await sql.raw("UPDATE audit_head SET sequence = 0, entry_hash = \(bind: AuditTrail.genesis)").run()
                var previous = AuditTrail.genesis
                let now = AuditTrail.truncated(clock.now)
                for sequence in 1...5 {
                    let details = "{\"n\":\"\(sequence)\"}"
                    let hash = try AuditTrail.hash(
                        sequence: sequence, previousHash: previous, applicationID: nil, actor: "test", action: "test.before_lanes", details: details,
                        recordedAt: now, keyID: app.yidai.cipher.activeKeyID, cipher: app.yidai.cipher)
                    try await sql.raw("""
                        INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id) \
                        VALUES (\(bind: UUID()), \(bind: sequence), NULL, 'test', 'test.before_lanes', \(bind: details), \(bind: now), \(bind: previous), \(bind: hash), \(bind: app.yidai.cipher.activeKeyID))
                        """).run()
                    previous = hash
                }
                try await sql.raw("UPDATE audit_head SET sequence = 5, entry_hash = \(bind: previous) WHERE id = 1").run()
                let millis = Int64((now.timeIntervalSince1970 * 1000).rounded())
                let signer = try BankSigningIdentity.cached(app.yidai.config.signing)
                let signature = try signer.sign(
                    AuditAnchoring.statement(sequence: 5, entryHash: previous, entryCount: 5, anchoredAtMillis: millis), at: now)
                try await sql.raw("""
                    INSERT INTO audit_anchors (id, sequence, entry_hash, entry_count, reason, anchored_at, signature, certificate_sha256) \
                    VALUES (\(bind: UUID()), 5, \(bind: previous), 5, 'before lanes', \(bind: now), \(bind: signature.base64EncodedString()), \(bind: signer.fingerprintSHA256))
                    """).run()
                // MUT: the upgrade, then new entries in lanes.
                try await CreateAuditLanes().prepare(on: db)
                try await AddAuditSealing().prepare(on: db)
                let upgraded = try await AuditVerifier(db: db, services: app.yidai).verify()
                #expect(upgraded.isIntact && upgraded.entries == 5 && upgraded.anchorsChecked == 1, "\(upgraded.problems)")
                for n in 1...3 {
                    try await AuditTrail(db: db, services: app.yidai).record(application: nil, actor: "test", action: "test.in_lanes", details: ["n": "\(n)"])
                }
                let newer = try await AuditEntry.query(on: db).filter(\.$action == "test.in_lanes").all()
                #expect(newer.allSatisfy { $0.sequence > 5 })
                let report = try await AuditVerifier(db: db, services: app.yidai).verify()
                #expect(report.isIntact && report.entries == 8, "\(report.problems)")
                // Entries 4 and 5 of the old chain deleted: when the new entries went to other lanes they were lane 1's tail,
                // and a careful attacker puts its head back, so only the anchor signed before lanes finds the cut; else the
                // gap in lane 1 shows. Either way the break is named at entry 4.
                let survivor = try #require(try await AuditEntry.query(on: db).filter(\.$sequence == 3).first())
                try await sql.raw("DELETE FROM audit_entries WHERE lane = 1 AND lane_position > 3 AND sequence <= 5").run()
                let left = try await AuditEntry.query(on: db).filter(\.$lane == 1).filter(\.$lanePosition > 3).count()
                if left == 0 {
                    try await sql.raw("UPDATE audit_head SET sequence = 3, entry_hash = \(bind: survivor.entryHash) WHERE id = 1").run()
                }
                let cut = try await AuditVerifier(db: db, services: app.yidai).verify()
                #expect(cut.firstBrokenSequence == 4, "\(cut.problems)")
                #expect(cut.problems.contains { $0.contains("anchor table") || $0.contains("missing") })
            }
        }
    }
}
