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
/// nobody can rewrite a row and recompute its successors. Appends queue on the one `audit_head` row (sequence
/// and hash of the newest entry), so concurrent writers never race for a sequence number, and an append is
/// always part of the transaction of the change it records. `AuditAnchoring` checkpoints the head, signed,
/// so the tail cannot be cut unnoticed either.
struct AuditTrail {
    static let genesis = String(repeating: "0", count: 64)
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
        let detailsJSON = Self.canonicalJSON(details)
        let clock = clock
        let cipher = cipher
        try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
            guard let head = try await PreparedStatements.all(AdvanceHead(), on: tx).first else {
                throw AuditError("the audit head row is missing (run the migrations)")
            }
            let sequence = try head.decode(column: "sequence", as: Int.self)
            let previousHash = try head.decode(column: "entry_hash", as: String.self)
            let recordedAt = Self.truncated(clock.now())
            let keyID = cipher.activeKeyID
            let entryHash = try Self.hash(
                sequence: sequence, previousHash: previousHash, applicationID: application, actor: actor, action: action,
                details: detailsJSON, recordedAt: recordedAt, keyID: keyID, cipher: cipher)
            // Plain values and statements (prepared on PostgreSQL), no `AuditEntry` model: this runs in every
            // change's transaction, and a model's field wrappers and Fluent's reflection over them cost more than the
            // insert itself. On PostgreSQL the head's new hash is written by the same statement as the entry.
            let append = Append(
                id: UUID(), sequence: sequence, application: application, actor: actor, action: action, details: detailsJSON,
                recordedAt: recordedAt, previousHash: previousHash, entryHash: entryHash, keyID: keyID)
            if tx.isSQLite {
                // SQLite has no data-modifying WITH: the entry, then the head.
                try await sql.raw(PreparedStatements.text(Append.insert, append.values)).run()
                try await sql.raw("UPDATE audit_head SET entry_hash = \(bind: entryHash) WHERE id = 1").run()
            } else {
                _ = try await PreparedStatements.all(append, on: tx)
            }
        }
    }

    /// Takes the head's row (appends queue here until the transaction ends) with its next sequence number and the
    /// newest entry's hash.
    struct AdvanceHead: PreparedRowStatement {
        static let sql = "UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 RETURNING sequence, entry_hash"
        var values: [any Encodable & Sendable] { [] }
    }

    /// PostgreSQL's append: the entry and the head's new hash in one statement (`$1` is the entry's hash).
    struct Append: PreparedRowStatement {
        static let insert = """
            INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id) \
            VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $1, $10)
            """
        static let sql = "WITH head AS (UPDATE audit_head SET entry_hash = $1 WHERE id = 1) " + insert
        static let bindingDataTypes: [PostgresDataType] = [.text, .uuid, .int8, .uuid, .text, .text, .text, .timestamptz, .text, .text]
        let id: UUID
        let sequence: Int
        let application: UUID?
        let actor, action, details: String
        let recordedAt: Date
        let previousHash, entryHash, keyID: String

        var values: [any Encodable & Sendable] {
            [entryHash, id, sequence, application, actor, action, details, recordedAt, previousHash, keyID]
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
