import Crypto
import Fluent
import FluentPostgresDriver
import Foundation
import LendingCore
import PostgresNIO
import SQLKit
import Vapor

/// The append-only audit trail: every change, who made it, when, and what changed (masked).
///
/// Each entry's hash is an HMAC, under a key derived from the field-encryption key ring (its id stored with the
/// entry, so a rotation starts a new segment), over the entry and the previous entry's hash: without the key
/// nobody can rewrite a row and recompute its successors. An append is always part of the transaction of the change
/// it records.
///
/// The chain runs in `laneCount` lanes, each with its head row in `audit_head` (position and hash of its newest entry):
/// whoever chains entries takes a lane's row, so chaining on the same lane queues there instead of racing for a
/// position, and lanes do not wait for each other. `AuditAnchoring` checkpoints every lane's head, signed, so no tail
/// can be cut unnoticed.
///
/// On PostgreSQL an entry is written unsealed, in the change's own statement (`Pending`): its content with the HMAC of
/// that content under the audit key, and its sequence from the database sequence `audit_entries_sequence` (so an
/// application's entries are numbered in the order its changes committed), in lane 0. `AuditSealing` then chains the
/// unsealed entries, in the order of their sequence and batch by batch, into its connection's lane
/// (`pg_backend_pid()`), within a moment of their commit, checking each content's HMAC first. So an audited change is
/// one statement, not a transaction of four, and only sealers hold the lanes' rows. SQLite has one writer at a time:
/// its entries are chained at once, in the change's transaction, on lane 1 only, where an entry's sequence is its
/// position.
struct AuditTrail {
    static let genesis = String(repeating: "0", count: 64)
    /// Lanes of the chain (rows of `audit_head`); changing it needs a migration that adds the heads.
    static let laneCount = 16

    /// The hash a lane's first entry points to: lane 1's is the chain's original genesis, every other lane's its own.
    static func genesis(lane: Int) -> String {
        lane == 1 ? genesis : Hex.string(SHA256.hash(data: Data("yidai-audit-lane \(lane)".utf8)))
    }

    let db: Database
    let clock: AppClock
    let cipher: FieldCipher
    /// This instance's watch over the unsealed entries it wrote (`AuditWatch`).
    let watch: AuditWatch?

    init(db: Database, clock: AppClock, cipher: FieldCipher, watch: AuditWatch? = nil) {
        self.db = db
        self.clock = clock
        self.cipher = cipher
        self.watch = watch
    }

    init(db: Database, services: YidaiServices) {
        self.init(db: db, clock: services.clock, cipher: services.cipher, watch: services.auditWatch)
    }

    /// Appends one entry; joins the caller's transaction (so the entry commits or rolls back with the change),
    /// or runs in its own when there is none. On PostgreSQL the entry is written unsealed, in one statement.
    func record(application: UUID?, actor: String, action: String, details: [String: String]) async throws {
        if !db.isSQLite {
            let pending = try Pending(application: application, actor: actor, action: action, details: details, now: clock.now(), cipher: cipher)
            _ = try await db.writeStatement { sql in try await PreparedStatements.all(pending, on: sql) }
            watch?.wrote(pending, on: db)
            return
        }
        // SQLite (one writer at a time): the entry is chained in the change's transaction, on lane 1, where its
        // sequence is its position. Lane 1's head row is taken first, then the entry, then the head's new hash.
        let (clock, cipher) = (clock, cipher)
        try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
            let head = try await sql.raw(
                "UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 RETURNING id AS lane, sequence AS position, entry_hash"
            ).first()
            guard let head else { throw AuditError("the audit lane's head row is missing (run the migrations)") }
            let lane = try head.decode(column: "lane", as: Int.self)
            let position = try head.decode(column: "position", as: Int.self)
            let previousHash = try head.decode(column: "entry_hash", as: String.self)
            let detailsJSON = Self.canonicalJSON(details)
            let recordedAt = Self.truncated(clock.now())
            let keyID = cipher.activeKeyID
            let entryHash = try Self.hash(
                sequence: position, previousHash: previousHash, applicationID: application, actor: actor, action: action,
                details: detailsJSON, recordedAt: recordedAt, keyID: keyID, cipher: cipher)
            try await sql.raw("""
                INSERT INTO audit_entries \
                (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id, lane, lane_position) \
                VALUES (\(bind: RandomID.uuid()), \(bind: position), \(bind: application), \(bind: actor), \(bind: action), \(bind: detailsJSON), \
                \(bind: recordedAt), \(bind: previousHash), \(bind: entryHash), \(bind: keyID), \(bind: lane), \(bind: position))
                """).run()
            try await sql.raw("UPDATE audit_head SET entry_hash = \(bind: entryHash) WHERE id = \(bind: lane)").run()
        }
    }

    /// An entry written before its place in the chain is known (PostgreSQL): its content, the HMAC of that content
    /// under the active audit key (`contentMAC`), and a sequence from the database, in lane 0 at minus its sequence
    /// with empty hashes, until `AuditSealing` chains it. On its own it is one statement (`sql`); a change writes it
    /// in the change's own statement (`insert(first:after:)`).
    struct Pending: PreparedRowStatement {
        static let name = "AuditTrail.Pending"
        static let types: [PostgresDataType] = [.uuid, .uuid, .text, .text, .text, .timestamptz, .text, .text]
        static let sql = insert(first: 1, after: nil)
        static let bindingDataTypes = types

        let id: UUID
        let application: UUID?
        let actor, action, details: String
        let recordedAt: Date
        let keyID, mac: String

        init(application: UUID?, actor: String, action: String, details: [String: String], now: Date, cipher: FieldCipher) throws {
            id = RandomID.uuid()
            self.application = application
            self.actor = actor
            self.action = action
            self.details = AuditTrail.canonicalJSON(details)
            recordedAt = AuditTrail.truncated(now)
            keyID = cipher.activeKeyID
            mac = try AuditTrail.contentMAC(
                id: id, applicationID: application, actor: actor, action: action, details: self.details, recordedAt: recordedAt, keyID: keyID,
                cipher: cipher)
        }

        /// Its values, in the order of `insert`'s placeholders.
        var values: [any StatementValue & Sendable] { [id, application, actor, action, details, recordedAt, keyID, mac] }

        /// The insert with its values at `$first`…; with `source` (a `WITH` part of the same statement), once per row
        /// of it, so only when the change it records was written.
        static func insert(first n: Int, after source: String?) -> String {
            "INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, "
                + "key_id, lane, lane_position, content_mac) SELECT $\(n)::uuid, s.n, $\(n + 1)::uuid, $\(n + 2), $\(n + 3), $\(n + 4), "
                + "$\(n + 5)::timestamptz, '', '', $\(n + 6), 0, -s.n, $\(n + 7) "
                + "FROM (SELECT nextval('audit_entries_sequence') AS n\(source.map { " FROM \($0)" } ?? "")) AS s"
        }
    }

    /// The HMAC of an unsealed entry's content (`Pending`), under the audit key `keyID`: what the sealer checks before
    /// chaining the entry. Its id is part of it, so a copy of the entry under another id does not match.
    static func contentMAC(
        id: UUID, applicationID: UUID?, actor: String, action: String, details: String, recordedAt: Date, keyID: String, cipher: FieldCipher
    ) throws -> String {
        let material = Data(
            [
                "yidai-audit-unsealed", id.uuidString, applicationID?.uuidString ?? "-", actor, action, details,
                String(Int64((recordedAt.timeIntervalSince1970 * 1000).rounded())),
            ].joined(separator: "\u{1F}").utf8)
        guard let key = cipher.derivedKey(keyID: keyID, purpose: FieldCipher.auditChainPurpose) else {
            throw AuditError("no key with id \(keyID) is in the key ring")
        }
        return Hex.string(HMAC<SHA256>.authenticationCode(for: material, using: key))
    }

    /// The HMAC of an entry under its key id; entries from before keyed hashes (no key id) used plain SHA-256.
    static func hash(of entry: AuditEntry, cipher: FieldCipher) throws -> String {
        try hash(
            sequence: entry.sequence, previousHash: entry.previousHash, applicationID: entry.applicationID,
            actor: entry.actor, action: entry.action, details: entry.details, recordedAt: entry.recordedAt,
            keyID: entry.keyID, cipher: cipher)
    }

    static func hash(
        sequence: Int, previousHash: String, applicationID: UUID?, actor: String, action: String, details: String,
        recordedAt: Date, keyID: String?, cipher: FieldCipher
    ) throws -> String {
        let material = Data(
            [
                String(sequence), previousHash, applicationID?.uuidString ?? "-", actor,
                action, details, String(Int64((recordedAt.timeIntervalSince1970 * 1000).rounded())),
            ].joined(separator: "\u{1F}").utf8)
        guard let keyID else { return Hex.string(SHA256.hash(data: material)) }
        guard let key = cipher.derivedKey(keyID: keyID, purpose: FieldCipher.auditChainPurpose) else {
            throw AuditError("no key with id \(keyID) is in the key ring")
        }
        return Hex.string(HMAC<SHA256>.authenticationCode(for: material, using: key))
    }

    /// Databases keep different sub-second precision; hash what every one of them stores: milliseconds.
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    static func canonicalJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(data: encoder.encode(details), encoding: .utf8)) ?? "{}"
    }
}

struct AuditError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
