import Fluent
import FluentPostgresDriver
import Foundation
import PostgresNIO
import SQLKit

/// The limits that protect people (sign-ins and SMS codes per client address, decisions and uploads per
/// application), counted in the database so that every instance of a fleet counts together and a restart forgets
/// nothing. (SMS codes per phone, code attempts and staff lockouts are counted in their own tables.)
///
/// Each key has a counter per fixed window; an attempt is allowed when the current window's count plus the
/// previous window's, weighted by how much of it still overlaps the sliding window, stays within the limit. The
/// check and the count are one statement (`INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING`): PostgreSQL
/// runs the `WHERE` on the row it has locked, so any number of simultaneous attempts on any number of instances
/// never let more than the limit through in a window. A refused attempt is not counted.
struct RateLimiter: Sendable {
    struct Rule: Sendable {
        let limit: Int
        let window: TimeInterval
    }

    /// Records one event for `key` if it is within `rule`; otherwise returns the seconds until it would be.
    func attempt(_ key: String, rule: Rule, now: Date, on db: any Database) async throws -> Int? {
        guard let sql = db as? any SQLDatabase else { return nil }
        let window = max(1, Int(rule.window))
        let seconds = now.timeIntervalSince1970
        let start = Int(floor(seconds / Double(window))) * window
        let elapsed = seconds - Double(start)
        let weight = max(0, 1 - elapsed / Double(window))
        let count = Count(key: key, start: start, expires: start + 2 * window, previous: start - window, weight: weight, room: Double(rule.limit - 1))
        let counted: Bool
        if db.isSQLite {
            // SQLite's writers take turns (see writeTransaction); one statement needs no more.
            counted = try await db.writeTransaction { tx in try await !(tx as! any SQLDatabase).raw(count.text).all().isEmpty }
        } else {
            counted = try await !PreparedStatements.all(count, on: db).isEmpty
        }
        if Int.random(in: 0..<200) == 0 { try? await prune(db, now: Int(seconds)) }
        if counted { return nil }
        return try await wait(key, rule: rule, start: start, elapsed: elapsed, sql: sql)
    }

    /// Counts one hit in `key`'s window starting at `start` unless the window's hits with the previous window's,
    /// weighted by `weight`, would pass `room`; returns the count when it counted, no row when it refused.
    struct Count: PreparedRowStatement {
        static let name = "RateLimiter.Count"
        let key: String
        let start, expires, previous: Int
        let weight, room: Double

        static let sql = """
            INSERT INTO rate_counters (counter_key, window_start, hits, expires_at)
            SELECT $1, $2, 1, $3
            WHERE COALESCE((SELECT p.hits FROM rate_counters p WHERE p.counter_key = $1 AND p.window_start = $4), 0) * $5 <= $6
            ON CONFLICT (counter_key, window_start) DO UPDATE SET hits = rate_counters.hits + 1
            WHERE rate_counters.hits + COALESCE((SELECT p.hits FROM rate_counters p WHERE p.counter_key = $1 AND p.window_start = $4), 0) * $5 <= $6
            RETURNING hits
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .int8, .int8, .float8, .float8]

        var values: [any StatementValue & Sendable] { [key, start, expires, previous, weight, room] }
    }

    /// The seconds until `key` would be allowed again, from the two windows' counts.
    private func wait(_ key: String, rule: Rule, start: Int, elapsed: Double, sql: any SQLDatabase) async throws -> Int {
        let window = Double(max(1, Int(rule.window)))
        let rows = try await sql.raw(
            "SELECT window_start, hits FROM rate_counters WHERE counter_key = \(bind: key) AND window_start IN (\(bind: start), \(bind: start - Int(window)))"
        ).all()
        var current = 0.0
        var previous = 0.0
        for row in rows {
            let hits = Double(try row.decode(column: "hits", as: Int.self))
            if try row.decode(column: "window_start", as: Int.self) == start { current = hits } else { previous = hits }
        }
        let room = Double(rule.limit - 1) - current
        let seconds: Double
        if room >= 0, previous > 0 {
            // Enough of the previous window must slide out: previous · (1 − (elapsed + t) / window) ≤ room.
            seconds = window * (1 - room / previous) - elapsed
        } else {
            // The current window must end, and then enough of it slide out: current · (1 − t' / window) ≤ limit − 1.
            let after = current > 0 ? window * (1 - Double(rule.limit - 1) / current) : 0
            seconds = window - elapsed + max(0, after)
        }
        return max(1, Int(seconds.rounded(.up)))
    }

    private func prune(_ db: any Database, now: Int) async throws {
        let statement: SQLQueryString = "DELETE FROM rate_counters WHERE expires_at < \(bind: now)"
        if db.isSQLite {
            try await db.writeTransaction { tx in try await (tx as! any SQLDatabase).raw(statement).run() }
        } else {
            try await (db as! any SQLDatabase).raw(statement).run()
        }
    }
}

enum RateRules {
    static let smsPerClientPerHour = RateLimiter.Rule(limit: 30, window: 3600)
    static let signInPerClient = RateLimiter.Rule(limit: 20, window: 600)
    static let decisionPerApplication = RateLimiter.Rule(limit: 5, window: 3600)
    static let uploadsPerApplication = RateLimiter.Rule(limit: 20, window: 3600)
}
