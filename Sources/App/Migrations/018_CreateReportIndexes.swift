import Fluent
import SQLKit

/// Indexes for the head office's reports and the auditor's view, so the daily figures, the book's position and the
/// audit trail's filters read index ranges instead of scanning growing tables (see bench/dashboard):
/// applications by decision time, loan-request time and manager; loans by payout time and status; instalments by
/// status and due date (also the end of day's reminders); audit entries by actor, action and time.
struct CreateReportIndexes: AsyncMigration {
    static let indexes: [(name: String, table: String, columns: [String])] = [
        ("applications_decided", "applications", ["decided_at"]),
        ("applications_loan_requested", "applications", ["loan_requested_at"]),
        ("applications_cm_last", "applications", ["cm_last"]),
        ("loans_disbursed", "loans", ["disbursed_at"]),
        ("loans_status", "loans", ["status"]),
        ("loan_installments_status", "loan_installments", ["status"]),
        ("loan_installments_due", "loan_installments", ["due_date"]),
        ("audit_entries_actor", "audit_entries", ["actor", "sequence"]),
        ("audit_entries_action", "audit_entries", ["action", "sequence"]),
        ("audit_entries_recorded", "audit_entries", ["recorded_at"]),
    ]

    func prepare(on database: Database) async throws {
        for index in Self.indexes { try await database.createPlainIndex(index.name, on: index.table, columns: index.columns) }
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for index in Self.indexes { try await sql.drop(index: index.name).run() }
    }
}
