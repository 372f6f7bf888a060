import Fluent
import SQLKit

/// What makes every change safe when requests race (issue: money and state under concurrency):
/// - `applications.version`: each transition is a compare-and-set on it;
/// - `write_gate` (SQLite only in use): a write transaction's first statement, so SQLite takes its write lock
///   before reading anything and two writers queue instead of failing with "database is locked";
/// - `audit_head`: the chain's head (sequence and hash), one row that every audit append updates, so appends
///   queue on its row lock instead of racing on `max(sequence) + 1`;
/// - `audit_entries.key_id`: each entry's hash is an HMAC under that key of the key ring (entries written before
///   this migration keep their plain SHA-256, accepted only up to `audit_head.legacy_until`);
/// - `audit_anchors`: signed checkpoints of the head;
/// - `jobs`: durable background work (the payout after signing), claimed by compare-and-set.
struct AddConcurrencyGuards: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(LoanApplication.schema)
            .field("version", .int, .required, .sql(.default(0)))
            .update()
        try await database.schema(AuditEntry.schema)
            .field("key_id", .string)
            .update()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("CREATE TABLE write_gate (id INTEGER PRIMARY KEY, turns BIGINT NOT NULL)").run()
        try await sql.raw("INSERT INTO write_gate (id, turns) VALUES (1, 0)").run()
        try await sql.raw(
            "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL, entry_hash TEXT NOT NULL, legacy_until BIGINT NOT NULL)"
        ).run()
        // Plain SQL, not the `AuditEntry` model: the model has the columns of later migrations too.
        let last = try await sql.raw("SELECT sequence, entry_hash FROM audit_entries ORDER BY sequence DESC LIMIT 1").first()
        let sequence = try last?.decode(column: "sequence", as: Int.self) ?? 0
        let entryHash = try last?.decode(column: "entry_hash", as: String.self) ?? AuditTrail.genesis
        try await sql.insert(into: "audit_head")
            .columns("id", "sequence", "entry_hash", "legacy_until")
            .values(SQLBind(1), SQLBind(sequence), SQLBind(entryHash), SQLBind(sequence))
            .run()
        try await database.schema(AuditAnchor.schema)
            .id()
            .field("sequence", .int, .required)
            .field("entry_hash", .string, .required)
            .field("entry_count", .int, .required)
            .field("reason", .string, .required)
            .field("anchored_at", .datetime, .required)
            .field("signature", .string, .required)
            .field("certificate_sha256", .string, .required)
            .create()
        try await database.createPlainIndex("audit_anchors_sequence", on: AuditAnchor.schema, columns: ["sequence"])
        try await database.createPlainIndex("audit_entries_application", on: AuditEntry.schema, columns: ["application_id"])
        try await database.schema(BackgroundJob.schema)
            .id()
            .field("kind", .string, .required)
            .field("reference", .uuid, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("run_after", .datetime, .required)
            .field("locked_until", .datetime)
            .field("last_error", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "kind", "reference")
            .create()
        try await database.createPlainIndex("jobs_due", on: BackgroundJob.schema, columns: ["state", "run_after"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(BackgroundJob.schema).delete()
        try await database.schema(AuditAnchor.schema).delete()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("DROP TABLE audit_head").run()
            try await sql.raw("DROP TABLE write_gate").run()
        }
        try await database.schema(AuditEntry.schema).deleteField("key_id").update()
        try await database.schema(LoanApplication.schema).deleteField("version").update()
    }
}
