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
/// an append takes its lane's row, so appends on the same lane queue there instead of racing for a position, and
/// appends on different lanes do not wait for each other. On PostgreSQL a transaction's lane is its connection's
/// (`pg_backend_pid()`), so it only ever holds one lane's row, and the database's sequence numbers the entries of
/// every lane in the order they were taken; SQLite has one writer at a time and writes lane 1 only, where an entry's
/// sequence is its position. `AuditAnchoring` checkpoints every lane's head, signed, so no tail can be cut unnoticed.
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

    init(db: Database, clock: AppClock, cipher: FieldCipher) {
        self.db = db
        self.clock = clock
        self.cipher = cipher
    }

    init(db: Database, services: YidaiServices) {
        self.init(db: db, clock: services.clock, cipher: services.cipher)
    }

    /// Appends one entry; joins the caller's transaction (so the entry commits or rolls back with the change),
    /// or runs in its own when there is none.
    func record(application: UUID?, actor: String, action: String, details: [String: String]) async throws {
        let trail = self
        try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
            let rows = tx.isSQLite ? try await sql.raw(SQLQueryString(AdvanceLane.sqlite)).all() : try await PreparedStatements.all(AdvanceLane(), on: sql)
            try await trail.append(at: try TakenLane(rows.first), application: application, actor: actor, action: action, details: details, on: sql)
        }
    }

    /// A lane's head as the statement that took it returned it: the entry's lane, position and sequence, and the
    /// hash it follows. Its entry must be appended next, in the same transaction (`append(at:…)`): until then the
    /// lane's head row still holds the previous entry's hash.
    struct TakenLane: Sendable {
        let lane, position, sequence: Int
        let previousHash: String

        /// The lane in the first row of a statement that took it (`AdvanceLane.taken`). No row, or a row without a
        /// lane (a statement that took it along with its own change), means the lane's head row is missing.
        init(_ row: (any SQLRow)?) throws {
            guard let row, let lane = try row.decode(column: "lane", as: Int?.self) else {
                throw AuditError("the audit lane's head row is missing (run the migrations)")
            }
            self.lane = lane
            position = try row.decode(column: "position", as: Int.self)
            sequence = try row.decode(column: "entry_sequence", as: Int.self)
            previousHash = try row.decode(column: "entry_hash", as: String.self)
        }
    }

    /// Appends one entry at a lane `sql` has just taken, in the transaction that took it (`record` takes the lane
    /// itself; a change can take it in its own statement, as `LoanApplication.writeRowTakingLane` does, and save one).
    func append(
        at taken: TakenLane, application: UUID?, actor: String, action: String, details: [String: String], on sql: any SQLDatabase
    ) async throws {
        let detailsJSON = Self.canonicalJSON(details)
        let recordedAt = Self.truncated(clock.now())
        let keyID = cipher.activeKeyID
        let entryHash = try Self.hash(
            sequence: taken.sequence, previousHash: taken.previousHash, applicationID: application, actor: actor, action: action,
            details: detailsJSON, recordedAt: recordedAt, keyID: keyID, cipher: cipher)
        // Plain values and statements (prepared on PostgreSQL), no `AuditEntry` model: this runs in every
        // change's transaction, and a model's field wrappers and Fluent's reflection over them cost more than the
        // insert itself. On PostgreSQL the lane's new hash is written by the same statement as the entry.
        let append = Append(
            id: UUID(), sequence: taken.sequence, application: application, actor: actor, action: action, details: detailsJSON,
            recordedAt: recordedAt, previousHash: taken.previousHash, entryHash: entryHash, keyID: keyID, lane: taken.lane,
            position: taken.position)
        if sql.dialect.name == "sqlite" {
            // SQLite has no data-modifying WITH: the entry, then the lane's head.
            try await sql.raw(PreparedStatements.text(Append.insert, append.values)).run()
            try await sql.raw("UPDATE audit_head SET entry_hash = \(bind: entryHash) WHERE id = \(bind: taken.lane)").run()
        } else {
            _ = try await PreparedStatements.all(append, on: sql)
        }
    }

    /// Takes this connection's lane's head row (appends on the lane queue here until the transaction ends) with the
    /// lane's next position, its newest entry's hash and the entry's sequence number, taken while the row is held so
    /// that sequences rise along every lane.
    struct AdvanceLane: PreparedRowStatement {
        static let sql = """
            UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 + pg_backend_pid() % \(laneCount) \
            RETURNING id AS lane, sequence AS position, entry_hash, nextval('audit_entries_sequence') AS entry_sequence
            """
        /// SQLite's: lane 1 only, where the sequence is the position.
        static let sqlite = """
            UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 \
            RETURNING id AS lane, sequence AS position, entry_hash, sequence AS entry_sequence
            """
        static let bindingDataTypes: [PostgresDataType] = []
        var values: [any Encodable & Sendable] { [] }

        /// What a statement that takes the lane in a `WITH lane AS (…)` of its own selects for `TakenLane`.
        static let taken = "lane.lane, lane.position, lane.entry_hash, lane.entry_sequence"
    }

    /// PostgreSQL's append: the entry and its lane's new hash in one statement (`$1` is the entry's hash, `$11` the lane).
    struct Append: PreparedRowStatement {
        static let insert = """
            INSERT INTO audit_entries \
            (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id, lane, lane_position) \
            VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $1, $10, $11, $12)
            """
        static let sql = "WITH head AS (UPDATE audit_head SET entry_hash = $1 WHERE id = $11) " + insert
        static let bindingDataTypes: [PostgresDataType] = [.text, .uuid, .int8, .uuid, .text, .text, .text, .timestamptz, .text, .text, .int8, .int8]
        let id: UUID
        let sequence: Int
        let application: UUID?
        let actor, action, details: String
        let recordedAt: Date
        let previousHash, entryHash, keyID: String
        let lane, position: Int

        var values: [any Encodable & Sendable] {
            [entryHash, id, sequence, application, actor, action, details, recordedAt, previousHash, keyID, lane, position]
        }
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
