import Fluent
import SQLKit

/// State that every instance of a fleet must share (issue 16):
/// - `rate_counters`: the limits that protect people, one row per key and fixed window (`RateLimiter`), counted
///   by a single upsert; rows past `expires_at` (epoch seconds) are deleted now and then;
/// - `key_canaries`: a value sealed by each key id of the ring when it first encrypted here, so an instance whose
///   key ring cannot open what the database holds refuses to start, naming the key id (`KeyRingCheck`);
/// - `jobs_claim`: the index the job claim reads (kind, state, due time).
struct CreateSharedLimits: AsyncMigration {
    func prepare(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("""
            CREATE TABLE rate_counters (
                counter_key TEXT NOT NULL, window_start BIGINT NOT NULL, hits INTEGER NOT NULL, expires_at BIGINT NOT NULL,
                PRIMARY KEY (counter_key, window_start))
            """).run()
        try await database.createPlainIndex("rate_counters_expiry", on: "rate_counters", columns: ["expires_at"])
        try await sql.raw("CREATE TABLE key_canaries (key_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, created_at BIGINT NOT NULL)").run()
        try await database.createPlainIndex("jobs_claim", on: BackgroundJob.schema, columns: ["kind", "state", "run_after"])
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP INDEX jobs_claim").run()
        try await sql.raw("DROP TABLE key_canaries").run()
        try await sql.raw("DROP TABLE rate_counters").run()
    }
}
