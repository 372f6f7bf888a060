import Fluent

struct CreateLoan: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(Loan.schema)
            .id()
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("phone_index", .string, .required)
            .field("principal_fen", .int64, .required)
            .field("annual_rate", .string, .required)
            .field("term_months", .int, .required)
            .field("method", .string, .required)
            .field("start_date", .string, .required)
            .field("status", .string, .required)
            .field("version", .int, .required)
            .field("disbursement_payment_id", .uuid, .required)
            .field("disbursed_at", .datetime, .required)
            .field("closed_on", .string)
            .field("updated_at", .datetime)
            .unique(on: "application_id")
            .create()
        try await database.createPlainIndex("loans_phone_index", on: Loan.schema, columns: ["phone_index"])
        try await database.schema(LoanInstallment.schema)
            .id()
            .field("loan_id", .uuid, .required, .references(Loan.schema, "id"))
            .field("number", .int, .required)
            .field("due_date", .string, .required)
            .field("principal_fen", .int64, .required)
            .field("interest_fen", .int64, .required)
            .field("penalty_fen", .int64, .required)
            .field("paid_principal_fen", .int64, .required)
            .field("paid_interest_fen", .int64, .required)
            .field("paid_penalty_fen", .int64, .required)
            .field("interest_recognized", .bool, .required)
            .field("penalty_accrued_through", .string)
            .field("status", .string, .required)
            .field("paid_on", .string)
            .unique(on: "loan_id", "number")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(LoanInstallment.schema).delete()
        try await database.schema(Loan.schema).delete()
    }
}
