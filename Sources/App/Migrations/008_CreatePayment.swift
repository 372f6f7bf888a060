import Fluent

struct CreatePayment: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(Payment.schema)
            .id()
            .field("idempotency_key", .string, .required)
            .field("kind", .string, .required)
            .field("application_id", .uuid, .required)
            .field("loan_id", .uuid)
            .field("repayment_type", .string)
            .field("prepayment_mode", .string)
            .field("requested_fen", .int64, .required)
            .field("instruction_fen", .int64)
            .field("moved_fen", .int64)
            .field("state", .string, .required)
            .field("provider_reference", .string)
            .field("failure_code", .string)
            .field("business_date", .string, .required)
            .field("request_hash", .string)
            .field("response_json", .string)
            .field("created_at", .datetime, .required)
            .field("completed_at", .datetime)
            .unique(on: "idempotency_key")
            .create()
        try await database.createPlainIndex("payments_loan", on: Payment.schema, columns: ["loan_id"])
        try await database.createPlainIndex("payments_state", on: Payment.schema, columns: ["state"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(Payment.schema).delete()
    }
}
