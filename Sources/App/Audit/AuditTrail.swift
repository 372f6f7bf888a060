import Crypto
import Fluent
import Foundation
import LendingCore
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
            let rows = try await sql.raw(
                "UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 RETURNING sequence, entry_hash"
            ).all()
            guard let head = rows.first else { throw AuditError("the audit head row is missing (run the migrations)") }
            let sequence = try head.decode(column: "sequence", as: Int.self)
            let previousHash = try head.decode(column: "entry_hash", as: String.self)
            let recordedAt = Self.truncated(clock.now())
            let keyID = cipher.activeKeyID
            let entryHash = try Self.hash(
                sequence: sequence, previousHash: previousHash, applicationID: application, actor: actor, action: action,
                details: detailsJSON, recordedAt: recordedAt, keyID: keyID, cipher: cipher)
            // Plain values and statements, no `AuditEntry` model: this runs in every change's transaction, and a
            // model's field wrappers and Fluent's reflection over them cost more than the insert itself. On
            // PostgreSQL the head's new hash is written by the same statement as the entry.
            let sqlite = tx.isSQLite
            let headUpdate: SQLQueryString = sqlite
                ? "" : "WITH head AS (UPDATE audit_head SET entry_hash = \(bind: entryHash) WHERE id = 1) "
            try await sql.raw(headUpdate + """
                INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, key_id)
                VALUES (\(bind: UUID()), \(bind: sequence), \(bind: application), \(bind: actor), \(bind: action),
                        \(bind: detailsJSON), \(bind: recordedAt), \(bind: previousHash), \(bind: entryHash), \(bind: keyID))
                """).run()
            if sqlite {
                try await sql.raw("UPDATE audit_head SET entry_hash = \(bind: entryHash) WHERE id = 1").run()
            }
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
