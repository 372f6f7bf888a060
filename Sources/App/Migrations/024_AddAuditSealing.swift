import Fluent
import SQLKit

/// Audit entries written with their change and chained afterwards (`AuditSealing`, issue 16):
/// - `audit_entries.content_mac`: an entry written before its place in the chain is known carries the HMAC of its own
///   content under the audit key (`AuditTrail.Pending`), so it cannot be changed unnoticed before it is sealed; the
///   sealer checks it, chains the entry into a lane and clears it;
/// - an unsealed entry is in lane 0, at position minus its sequence (the unique lane index holds), with empty hashes;
/// - `audit_entries_pending`: the unsealed entries, in the order of their sequence, for the sealer's claim.
/// SQLite never writes unsealed entries (its one writer chains each entry in the change's transaction), but has the
/// same columns and index.
struct AddAuditSealing: AsyncMigration {
    func prepare(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE audit_entries ADD COLUMN content_mac TEXT").run()
        try await sql.raw("CREATE INDEX audit_entries_pending ON audit_entries (sequence) WHERE lane = 0").run()
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP INDEX audit_entries_pending").run()
        try await database.schema(AuditEntry.schema).deleteField("content_mac").update()
    }
}
