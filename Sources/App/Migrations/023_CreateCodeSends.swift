import Fluent
import Foundation
import SQLKit

/// `code_sends`: each phone's SMS codes of the last 24 hours (issue 16), one row per phone, so that a code's send
/// checks and records the phone's limits (`OneTimeCodes`) with a compare-and-set on this row instead of a lock, a read
/// and an insert in a transaction of their own. The phone's codes sent in the last day are copied in, so the limits
/// go on counting them.
struct CreateCodeSends: AsyncMigration {
    /// The time the last day is counted back from (the clock's, in tests).
    var now: @Sendable () -> Date = { Date() }

    func prepare(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("""
            CREATE TABLE code_sends (
                phone_index TEXT PRIMARY KEY, sends TEXT NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """).run()
        let now = now()
        let dayAgo = now.addingTimeInterval(-86_400)
        var byPhone: [String: [OneTimeCodes.PhoneSends.Send]] = [:]
        for row in try await sql.raw(
            "SELECT id, phone_index, purpose, sent_at FROM one_time_codes WHERE sent_at > \(bind: dayAgo) ORDER BY sent_at DESC"
        ).all() {
            let send = OneTimeCodes.PhoneSends.Send(
                id: try row.decode(column: "id", as: UUID.self), purpose: try row.decode(column: "purpose", as: String.self),
                at: try row.decode(column: "sent_at", as: Date.self))
            byPhone[try row.decode(column: "phone_index", as: String.self), default: []].append(send)
        }
        for (phone, sends) in byPhone {
            try await sql.raw("""
                INSERT INTO code_sends (phone_index, sends, version, updated_at)
                VALUES (\(bind: phone), \(bind: try OneTimeCodes.PhoneSends.encoded(sends)), 1, \(bind: Int(now.timeIntervalSince1970)))
                """).run()
        }
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP TABLE code_sends").run()
    }
}
