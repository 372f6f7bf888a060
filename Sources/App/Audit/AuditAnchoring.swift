import Crypto
import Fluent
import Foundation
import LendingCore
import SQLKit

/// Checkpoints of the audit chain's lanes' heads, signed with the bank's signing key (detached CMS), kept in
/// `audit_anchors` and appended to a write-once file outside the database. Someone who can write to the
/// database can delete rows, but cannot delete the file's lines or forge the bank's signature, so a cut tail
/// or a shrunk trail shows in `yidai audit verify`. The server anchors every minute; end of day always does.
struct AuditAnchoring {
    let db: Database
    let services: YidaiServices

    /// One lane's head row: its position (entries in the lane) and its newest entry's hash.
    struct Head: Sendable, Equatable {
        let lane: Int
        let position: Int
        let entryHash: String
        /// Entries up to this position were written before keyed hashes and keep their plain SHA-256 (lane 1 only).
        let legacyUntil: Int
    }

    /// One anchor line of the file: the same fields as the table's row (`lanes` nil for an anchor from before lanes).
    struct Line: Codable, Sendable {
        let sequence: Int
        let entryHash: String
        let entryCount: Int
        let reason: String
        let anchoredAtMillis: Int64
        let signature: String
        var lanes: String? = nil
    }

    /// The lanes' heads an anchor signs, as text: `lane:position:hash` for every lane with entries, `;` between them.
    enum Lanes {
        static func text(_ heads: [Head]) -> String {
            heads.filter { $0.position > 0 }.map { "\($0.lane):\($0.position):\($0.entryHash)" }.joined(separator: ";")
        }

        /// What an anchor with lanes keeps as its `entryHash`: the SHA-256 of its lanes' text.
        static func digest(_ text: String) -> String { Hex.string(SHA256.hash(data: Data(text.utf8))) }

        /// The heads in `text`; nil when it is not such a text.
        static func parse(_ text: String) -> [(lane: Int, position: Int, hash: String)]? {
            var heads: [(lane: Int, position: Int, hash: String)] = []
            for part in text.split(separator: ";") {
                let fields = part.split(separator: ":")
                guard fields.count == 3, let lane = Int(fields[0]), let position = Int(fields[1]), position > 0 else { return nil }
                heads.append((lane, position, String(fields[2])))
            }
            return heads
        }
    }

    /// Every lane's head, by lane.
    static func heads(on db: Database) async throws -> [Head] {
        guard let sql = db as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
        let rows = try await sql.raw("SELECT id, sequence, entry_hash, legacy_until FROM audit_head ORDER BY id").all()
        guard !rows.isEmpty else { throw AuditError("the audit head rows are missing (run the migrations)") }
        return try rows.map {
            Head(
                lane: try $0.decode(column: "id", as: Int.self), position: try $0.decode(column: "sequence", as: Int.self),
                entryHash: try $0.decode(column: "entry_hash", as: String.self), legacyUntil: try $0.decode(column: "legacy_until", as: Int.self))
        }
    }

    /// What is signed: the head, the number of entries and the time, in one fixed text. With `lanes`, every lane's
    /// head and the newest entry's sequence (version 2; `entryHash` is then the lanes' digest, checked apart); without,
    /// the one chain's head (version 1, the anchors signed before lanes).
    static func statement(sequence: Int, entryHash: String, entryCount: Int, anchoredAtMillis: Int64, lanes: String? = nil) -> Data {
        if let lanes {
            return Data("yidai-audit-anchor v2\nsequence=\(sequence)\nlanes=\(lanes)\ncount=\(entryCount)\nat=\(anchoredAtMillis)\n".utf8)
        }
        return Data("yidai-audit-anchor v1\nsequence=\(sequence)\nhash=\(entryHash)\ncount=\(entryCount)\nat=\(anchoredAtMillis)\n".utf8)
    }

    /// Anchors every lane's head. Without `force`, nothing is written when no lane has moved since the last anchor.
    @discardableResult
    func checkpoint(reason: String, force: Bool = false) async throws -> AuditAnchor? {
        try await AuditSealing(db: db, services: services).sealAll()  // what waits to be chained, so the anchor covers it
        let heads = try await Self.heads(on: db)
        // Positions start at 1 and never skip, so the lanes' positions add up to the number of entries.
        let count = heads.reduce(0) { $0 + $1.position }
        if !force, let last = try await AuditAnchor.query(on: db).sort(\.$sequence, .descending).first(), last.entryCount == count {
            return nil
        }
        guard let sql = db as? any SQLDatabase else { throw AuditError("the audit trail needs an SQL database") }
        let newest = try await sql.raw("SELECT MAX(sequence) AS newest FROM audit_entries WHERE lane > 0").first()?.decode(column: "newest", as: Int?.self)
        let lanes = Lanes.text(heads)
        let signer = try BankSigningIdentity.cached(services.config.signing)
        let now = AuditTrail.truncated(services.clock.now())
        let millis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        let anchor = AuditAnchor()
        anchor.sequence = newest ?? 0  // the newest entry's sequence, to sort anchors by; what is signed is `lanes`
        anchor.entryHash = Lanes.digest(lanes)
        anchor.entryCount = count
        anchor.lanes = lanes
        anchor.reason = reason
        anchor.anchoredAt = now
        let statement = Self.statement(sequence: anchor.sequence, entryHash: anchor.entryHash, entryCount: count, anchoredAtMillis: millis, lanes: lanes)
        anchor.signature = try signer.sign(statement, at: now).base64EncodedString()
        anchor.certificateSHA256 = signer.fingerprintSHA256
        try await db.writeTransaction { tx in try await anchor.create(on: tx) }
        if let path = services.config.auditAnchorFile {
            let line = Line(
                sequence: anchor.sequence, entryHash: anchor.entryHash, entryCount: anchor.entryCount, reason: reason,
                anchoredAtMillis: millis, signature: anchor.signature, lanes: lanes)
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
