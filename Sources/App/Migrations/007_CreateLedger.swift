import Fluent

struct CreateLedger: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(JournalEntry.schema)
            .id()
            .field("reference", .string, .required)
            .field("kind", .string, .required)
            .field("loan_id", .uuid)
            .field("business_date", .string, .required)
            .field("memo", .string, .required)
            .field("posted_at", .datetime, .required)
            .unique(on: "reference")
            .create()
        try await database.schema(JournalLine.schema)
            .id()
            .field("entry_id", .uuid, .required, .references(JournalEntry.schema, "id"))
            .field("loan_id", .uuid)
            .field("account", .string, .required)
            .field("debit_fen", .int64, .required)
            .field("credit_fen", .int64, .required)
            .create()
        try await database.createPlainIndex("journal_lines_entry", on: JournalLine.schema, columns: ["entry_id"])
        try await database.createPlainIndex("journal_lines_loan", on: JournalLine.schema, columns: ["loan_id"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(JournalLine.schema).delete()
        try await database.schema(JournalEntry.schema).delete()
    }
}
