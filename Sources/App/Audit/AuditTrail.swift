import Crypto
import Fluent
import Foundation
import Vapor

/// The append-only audit trail: every change to an application, who made it, when, and what changed
/// (masked). Each entry's hash covers the previous entry's hash, so any edit or deletion breaks the chain.
struct AuditTrail {
    static let genesis = String(repeating: "0", count: 64)
    let db: Database
    let clock: AppClock

    func record(application: UUID?, actor: String, action: String, details: [String: String]) async throws {
        let detailsJSON = Self.canonicalJSON(details)
        for attempt in 0..<8 {
            let last = try await AuditEntry.query(on: db).sort(\.$sequence, .descending).first()
            let entry = AuditEntry()
            entry.sequence = (last?.sequence ?? 0) + 1
            entry.applicationID = application
            entry.actor = actor
            entry.action = action
            entry.details = detailsJSON
            entry.recordedAt = Self.truncated(clock.now())
            entry.previousHash = last?.entryHash ?? Self.genesis
            entry.entryHash = Self.hash(of: entry)
            do {
                try await entry.create(on: db)
                return
            } catch {
                // Another writer took this sequence number; read the new tail and chain onto it.
                if attempt == 7 { throw error }
            }
        }
    }

    struct Verification: Sendable {
        let entries: Int
        let firstBrokenSequence: Int?
        let problem: String?
    }

    func verify() async throws -> Verification {
        let entries = try await AuditEntry.query(on: db).sort(\.$sequence, .ascending).all()
        var previous = Self.genesis
        var expectedSequence = 1
        for entry in entries {
            if entry.sequence != expectedSequence {
                return Verification(entries: entries.count, firstBrokenSequence: expectedSequence, problem: "entry \(expectedSequence) is missing")
            }
            if entry.previousHash != previous {
                return Verification(entries: entries.count, firstBrokenSequence: entry.sequence, problem: "entry \(entry.sequence) does not point to the hash of entry \(entry.sequence - 1)")
            }
            if Self.hash(of: entry) != entry.entryHash {
                return Verification(entries: entries.count, firstBrokenSequence: entry.sequence, problem: "entry \(entry.sequence) was changed after it was written")
            }
            previous = entry.entryHash
            expectedSequence += 1
        }
        return Verification(entries: entries.count, firstBrokenSequence: nil, problem: nil)
    }

    static func hash(of entry: AuditEntry) -> String {
        let material = [
            String(entry.sequence), entry.previousHash, entry.applicationID?.uuidString ?? "-", entry.actor, entry.action,
            entry.details, String(Int64((entry.recordedAt.timeIntervalSince1970 * 1000).rounded())),
        ].joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(material.utf8)).map { String(format: "%02x", $0) }.joined()
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
