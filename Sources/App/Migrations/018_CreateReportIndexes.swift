import Fluent
import SQLKit

/// Indexes for the head office's reports and the auditor's view, so the daily figures, the book's position and the
/// audit trail's filters read index ranges instead of scanning growing tables (see bench/dashboard):
/// applications by decision time, loan-request time and manager; loans by payout time and status; instalments by
/// status and due date (also the end of day's reminders); audit entries by actor, action and time. Loans get the
/// manager who brought them (`manager_code`, from the application's last touch at payout, filled in for existing
/// loans) and `loan_counts` keeps how many loans each manager's customers have per status (`LoanCounts`).
struct CreateReportIndexes: AsyncMigration {
    static let indexes: [(name: String, table: String, columns: [String])] = [
        ("applications_decided", "applications", ["decided_at"]),
        ("applications_loan_requested", "applications", ["loan_requested_at"]),
        ("applications_cm_last", "applications", ["cm_last"]),
        ("loans_disbursed", "loans", ["disbursed_at"]),
        ("loan_installments_status", "loan_installments", ["status"]),
        ("loan_installments_due", "loan_installments", ["due_date"]),
        ("leads_created", "leads", ["created_at"]),
        ("audit_entries_actor", "audit_entries", ["actor", "sequence"]),
        ("audit_entries_action", "audit_entries", ["action", "sequence"]),
        ("audit_entries_recorded", "audit_entries", ["recorded_at"]),
    ]

    func prepare(on database: Database) async throws {
        try await database.schema(Loan.schema).field("manager_code", .string).update()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("UPDATE loans SET manager_code = (SELECT a.cm_last FROM applications a WHERE a.id = loans.application_id)").run()
            try await sql.raw(
                "CREATE TABLE loan_counts (manager_code TEXT NOT NULL, status TEXT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (manager_code, status))"
            ).run()
        }
        try await LoanCounts.rebuild(on: database)
        for index in Self.indexes { try await database.createPlainIndex(index.name, on: index.table, columns: index.columns) }
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for index in Self.indexes { try await sql.drop(index: index.name).run() }
        try await sql.raw("DROP TABLE loan_counts").run()
        try await database.schema(Loan.schema).deleteField("manager_code").update()
    }
}
