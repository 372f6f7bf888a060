import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Chains the unsealed audit entries (`AuditTrail.Pending`, PostgreSQL) into the lanes, in the order of their
/// sequence: one transaction per batch takes the oldest unsealed entries no other sealer holds (`FOR UPDATE SKIP
/// LOCKED`) together with this connection's lane (its head row, advanced by the batch's size), checks every entry's
/// content against the HMAC it was written with, computes each entry's chained hash exactly as an entry appended in its
/// change's transaction would have it (`AuditTrail.hash`: sequence, previous hash, content, under the active key), and
/// writes them and the lane's new head in one statement. An entry whose content no longer matches is never sealed: it
/// stays in lane 0, the error is logged, and `AuditVerifier` reports it.
///
/// Every instance seals (`AuditSealingWorker`, every half second); the verifier, the anchors and the auditor's pages seal first, so they
/// see the whole trail. SQLite never has unsealed entries.
struct AuditSealing {
    let db: Database
    let cipher: FieldCipher
    let logger: Logger
    /// Entries a batch takes at most.
    var batch = 500
    /// The entries this sealer refused (their content was changed): left out of its later batches, and logged once.
    private let refused = NIOLockedValueBox<Set<UUID>>([])

    init(db: Database, cipher: FieldCipher, logger: Logger, batch: Int = 500) {
        self.db = db
        self.cipher = cipher
        self.logger = logger
        self.batch = batch
    }

    init(db: Database, services: YidaiServices) {
        self.init(db: db, cipher: services.cipher, logger: db.logger)
    }

    /// An unsealed entry as the database holds it.
    struct Unsealed: Sendable {
        let id: UUID
        let sequence: Int
        let applicationID: UUID?
        let actor, action, details: String
        let recordedAt: Date
        let keyID: String?
        let mac: String?

        static let columns = "id, sequence, application_id, actor, action, details, recorded_at, key_id, content_mac"

        init(_ row: any SQLRow) throws {
            id = try row.decode(column: "id", as: UUID.self)
            sequence = try row.decode(column: "sequence", as: Int.self)
            applicationID = try row.decode(column: "application_id", as: UUID?.self)
            actor = try row.decode(column: "actor", as: String.self)
            action = try row.decode(column: "action", as: String.self)
            details = try row.decode(column: "details", as: String.self)
            recordedAt = try row.decode(column: "recorded_at", as: Date.self)
            keyID = try row.decode(column: "key_id", as: String?.self)
            mac = try row.decode(column: "content_mac", as: String?.self)
        }

        /// Whether its content is still what was written (the HMAC it carries is that of its content).
        func isIntact(cipher: FieldCipher) -> Bool {
            guard let keyID, let mac else { return false }
            let expected = try? AuditTrail.contentMAC(
                id: id, applicationID: applicationID, actor: actor, action: action, details: details, recordedAt: recordedAt, keyID: keyID,
                cipher: cipher)
            return expected == mac
        }
    }

    /// Every unsealed entry, oldest first (the verifier's view of what is not chained yet).
    static func unsealed(on db: Database) async throws -> [Unsealed] {
        guard let sql = db as? any SQLDatabase else { return [] }
        return try await sql.raw("SELECT \(unsafeRaw: Unsealed.columns) FROM audit_entries WHERE lane = 0 ORDER BY sequence").all().map(Unsealed.init)
    }

    private struct Refused: Error { let entries: [Unsealed] }

    /// Whether any entry waits to be sealed: one plain read, cheaper than a batch's transaction that finds none.
    func anyWaiting() async throws -> Bool {
        guard !db.isSQLite, let sql = db as? any SQLDatabase else { return false }
        return try await sql.raw("SELECT 1 AS waiting FROM audit_entries WHERE lane = 0 LIMIT 1").first() != nil
    }

    /// Seals batch after batch until no unsealed entry is left that another sealer does not hold; returns how many
    /// entries it sealed. Entries whose content was changed are left unsealed and logged.
    @discardableResult
    func sealAll() async throws -> Int {
        guard !db.isSQLite else { return 0 }
        var sealed = 0
        while true {
            do {
                let count = try await sealBatch(excluding: Array(refused.withLockedValue { $0 }))
                sealed += count
                if count < batch { return sealed }
            } catch let error as Refused {
                for entry in error.entries {
                    logger.critical("Audit entry \(entry.sequence) was changed after it was written and before it was sealed: it is left unsealed")
                }
                refused.withLockedValue { $0.formUnion(error.entries.map(\.id)) }
            }
        }
    }

    /// One batch: returns how many entries it sealed (0 when none was waiting).
    private func sealBatch(excluding refused: [UUID]) async throws -> Int {
        let (cipher, limit) = (cipher, batch)
        return try await db.transaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
            let rows = try await sql.raw("""
                WITH pending AS (SELECT \(unsafeRaw: Unsealed.columns) FROM audit_entries WHERE lane = 0 AND NOT (id = ANY(\(bind: refused)::uuid[])) \
                ORDER BY sequence LIMIT \(bind: limit) FOR UPDATE SKIP LOCKED), \
                lane AS (UPDATE audit_head SET sequence = sequence + (SELECT count(*) FROM pending) \
                WHERE id = 1 + pg_backend_pid() % \(unsafeRaw: String(AuditTrail.laneCount)) AND EXISTS (SELECT 1 FROM pending) \
                RETURNING id, sequence, entry_hash) \
                SELECT pending.*, lane.id AS lane, lane.sequence AS lane_end, lane.entry_hash AS lane_hash \
                FROM pending CROSS JOIN lane ORDER BY pending.sequence
                """).all()
            guard let first = rows.first else { return 0 }
            let entries = try rows.map(Unsealed.init)
            let changed = entries.filter { !$0.isIntact(cipher: cipher) }
            if !changed.isEmpty { throw Refused(entries: changed) }  // the lane's positions go back with the rollback
            let lane = try first.decode(column: "lane", as: Int.self)
            let start = try first.decode(column: "lane_end", as: Int.self) - entries.count
            var previous = try first.decode(column: "lane_hash", as: String.self)
            let keyID = cipher.activeKeyID
            var (positions, previousHashes, hashes) = ([Int](), [String](), [String]())
            for (offset, entry) in entries.enumerated() {
                let hash = try AuditTrail.hash(
                    sequence: entry.sequence, previousHash: previous, applicationID: entry.applicationID, actor: entry.actor,
                    action: entry.action, details: entry.details, recordedAt: entry.recordedAt, keyID: keyID, cipher: cipher)
                positions.append(start + offset + 1)
                previousHashes.append(previous)
                hashes.append(hash)
                previous = hash
            }
            let written = try await sql.raw("""
                WITH sealed AS (UPDATE audit_entries AS e SET lane = \(bind: lane), lane_position = u.position, previous_hash = u.previous, \
                entry_hash = u.hash, key_id = \(bind: keyID), content_mac = NULL \
                FROM unnest(\(bind: entries.map(\.id))::uuid[], \(bind: positions)::int8[], \(bind: previousHashes)::text[], \(bind: hashes)::text[]) \
                AS u(id, position, previous, hash) WHERE e.id = u.id AND e.lane = 0 RETURNING e.id), \
                head AS (UPDATE audit_head SET entry_hash = \(bind: previous) WHERE id = \(bind: lane) RETURNING id) \
                SELECT (SELECT count(*) FROM sealed) AS sealed, (SELECT count(*) FROM head) AS heads
                """).first()
            let count = try written?.decode(column: "sealed", as: Int.self) ?? 0
            guard count == entries.count, try written?.decode(column: "heads", as: Int.self) == 1 else {
                throw AuditError("sealing \(entries.count) audit entries wrote \(count): nothing was sealed")
            }
            return count
        }
    }
}

/// Seals the unsealed audit entries every half second, in as few batches as there are (at 40 journeys a second, one
/// transaction for some 280 entries): while this instance watches entries it wrote, or when a plain read finds any
/// waiting (what an instance that stopped left); then checks what it wrote (`AuditWatch`). Before it stops, everything
/// left. Runs in `serve` on PostgreSQL only.
final class AuditSealingWorker: LifecycleHandler, @unchecked Sendable {
    private var task: Task<Void, Never>?
    /// How often it seals.
    static let interval: Duration = .milliseconds(500)

    func didBootAsync(_ application: Application) async throws {
        guard application.environment != .testing, !application.db.isSQLite else { return }
        let command = application.environment.arguments.dropFirst().first
        guard command == nil || command == "serve" || command?.hasPrefix("-") == true else { return }
        let sealing = AuditSealing(db: application.db, services: application.yidai)
        let (services, db, logger) = (application.yidai, application.db, application.logger)
        task = Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: Self.interval)
                } catch {
                    return  // stopping: `shutdownAsync` seals what is left
                }
                do {
                    if services.auditWatch.count > 0 {
                        try await sealing.sealAll()
                        // What this instance committed and has not seen sealed yet: sealed now, or deleted meanwhile.
                        try await services.auditWatch.check(on: db, services: services)
                    } else if try await sealing.anyWaiting() {
                        try await sealing.sealAll()
                    }
                } catch {
                    logger.error("Sealing audit entries failed: \(error)")
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        guard let task else { return }
        task.cancel()
        await task.value
        do {
            try await AuditSealing(db: application.db, services: application.yidai).sealAll()
            try await application.yidai.auditWatch.check(on: application.db, services: application.yidai)
        } catch {
            application.logger.error("Sealing audit entries at shutdown failed: \(error)")
        }
    }
}
