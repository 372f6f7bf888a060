import Fluent
import Foundation
import SQLKit

/// Checkpoints of the audit chain's head, signed with the bank's signing key (detached CMS), kept in
/// `audit_anchors` and appended to a write-once file outside the database. Someone who can write to the
/// database can delete rows, but cannot delete the file's lines or forge the bank's signature, so a cut tail
/// or a shrunk trail shows in `yidai audit verify`. The server anchors every minute; end of day always does.
struct AuditAnchoring {
    let db: Database
    let services: YidaiServices

    struct Head: Sendable, Equatable {
        let sequence: Int
        let entryHash: String
        /// Entries up to this sequence were written before keyed hashes and keep their plain SHA-256.
        let legacyUntil: Int
    }

    /// One anchor line of the file: the same fields as the table's row.
    struct Line: Codable, Sendable {
        let sequence: Int
        let entryHash: String
        let entryCount: Int
        let reason: String
        let anchoredAtMillis: Int64
        let signature: String
    }

    static func head(on db: Database) async throws -> Head {
        guard let sql = db as? any SQLDatabase,
            let row = try await sql.raw("SELECT sequence, entry_hash, legacy_until FROM audit_head WHERE id = 1").first()
        else { throw AuditError("the audit head row is missing (run the migrations)") }
        return Head(
            sequence: try row.decode(column: "sequence", as: Int.self), entryHash: try row.decode(column: "entry_hash", as: String.self),
            legacyUntil: try row.decode(column: "legacy_until", as: Int.self))
    }

    /// What is signed: the head, the number of entries and the time, in one fixed text.
    static func statement(sequence: Int, entryHash: String, entryCount: Int, anchoredAtMillis: Int64) -> Data {
        Data("yidai-audit-anchor v1\nsequence=\(sequence)\nhash=\(entryHash)\ncount=\(entryCount)\nat=\(anchoredAtMillis)\n".utf8)
    }

    /// Anchors the current head. Without `force`, nothing is written when the head has not moved since the last anchor.
    @discardableResult
    func checkpoint(reason: String, force: Bool = false) async throws -> AuditAnchor? {
        let head = try await Self.head(on: db)
        if !force, let last = try await AuditAnchor.query(on: db).sort(\.$sequence, .descending).first(),
            last.sequence == head.sequence
        {
            return nil
        }
        let signer = try BankSigningIdentity.cached(services.config.signing)
        let now = AuditTrail.truncated(services.clock.now())
        let millis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        // Sequences start at 1 and never skip, so the head's sequence is the number of entries.
        let statement = Self.statement(sequence: head.sequence, entryHash: head.entryHash, entryCount: head.sequence, anchoredAtMillis: millis)
        let anchor = AuditAnchor()
        anchor.sequence = head.sequence
        anchor.entryHash = head.entryHash
        anchor.entryCount = head.sequence
        anchor.reason = reason
        anchor.anchoredAt = now
        anchor.signature = try signer.sign(statement, at: now).base64EncodedString()
        anchor.certificateSHA256 = signer.fingerprintSHA256
        try await db.writeTransaction { tx in try await anchor.create(on: tx) }
        if let path = services.config.auditAnchorFile {
            let line = Line(
                sequence: anchor.sequence, entryHash: anchor.entryHash, entryCount: anchor.entryCount, reason: reason,
                anchoredAtMillis: millis, signature: anchor.signature)
            try Self.append(line, to: path)
        }
        return anchor
    }

    /// Appends one JSON line; the file is only ever opened for appending.
    static func append(_ line: Line, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(line)
        data.append(0x0A)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o640)
        guard fd >= 0 else { throw AuditError("cannot open the audit anchor file \(path) for appending") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw AuditError("could not append to the audit anchor file \(path)") }
        _ = fsync(fd)
    }

    /// The file's anchors, in order; a line that is not an anchor is reported by its number.
    static func readFile(_ path: String) throws -> (lines: [Line], bad: [Int]) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], []) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines: [Line] = []
        var bad: [Int] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if let line = try? JSONDecoder().decode(Line.self, from: Data(raw.utf8)) { lines.append(line) } else { bad.append(number + 1) }
        }
        return (lines, bad)
    }
}
