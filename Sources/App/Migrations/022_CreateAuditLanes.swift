import Fluent
import SQLKit

/// The audit chain in lanes (issue 16: every audited change of the fleet queued for the one `audit_head` row):
/// - `audit_head` gets a row per lane, 1 to `AuditTrail.laneCount`; row 1 is the chain written so far, every other lane
///   starts empty at its own genesis hash;
/// - `audit_entries.lane` and `lane_position`: each entry's place in its lane's chain (1, 2, 3… without a gap); the
///   entries written before keep lane 1, at their sequence;
/// - on PostgreSQL the sequence `audit_entries_sequence` numbers entries across lanes (it goes on from the last one);
///   SQLite writes one lane only, where an entry's sequence is its position;
/// - `audit_anchors.lanes`: every lane's head an anchor signed (nil for anchors signed before lanes, which name lane 1).
struct CreateAuditLanes: AsyncMigration {
    func prepare(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE audit_entries ADD COLUMN lane INTEGER NOT NULL DEFAULT 1").run()
        try await sql.raw("ALTER TABLE audit_entries ADD COLUMN lane_position BIGINT").run()
        try await sql.raw("UPDATE audit_entries SET lane_position = sequence").run()
        try await sql.raw("CREATE UNIQUE INDEX audit_entries_lane_position ON audit_entries (lane, lane_position)").run()
        for lane in 2...AuditTrail.laneCount {
            try await sql.insert(into: "audit_head")
                .columns("id", "sequence", "entry_hash", "legacy_until")
                .values(SQLBind(lane), SQLBind(0), SQLBind(AuditTrail.genesis(lane: lane)), SQLBind(0))
                .run()
        }
        try await sql.raw("ALTER TABLE audit_anchors ADD COLUMN lanes TEXT").run()
        if !database.isSQLite {
            try await sql.raw("CREATE SEQUENCE audit_entries_sequence").run()
            try await sql.raw(
                "SELECT setval('audit_entries_sequence', GREATEST(sequence, 1), sequence > 0) FROM audit_head WHERE id = 1"
            ).run()
        }
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if !database.isSQLite { try await sql.raw("DROP SEQUENCE audit_entries_sequence").run() }
        try await database.schema(AuditAnchor.schema).deleteField("lanes").update()
        try await sql.raw("DELETE FROM audit_head WHERE id > 1").run()
        try await sql.raw("DROP INDEX audit_entries_lane_position").run()
        try await database.schema(AuditEntry.schema).deleteField("lane_position").update()
        try await database.schema(AuditEntry.schema).deleteField("lane").update()
    }
}
