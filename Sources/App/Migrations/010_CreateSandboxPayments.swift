import Fluent

struct CreateSandboxPayments: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(SandboxPaymentAccount.schema)
            .id()
            .field("card_key", .string, .required)
            .field("card_masked", .string, .required)
            .field("balance_fen", .int64, .required)
            .field("mode", .string, .required)
            .unique(on: "card_key")
            .create()
        try await database.schema(SandboxPaymentInstruction.schema)
            .id()
            .field("idempotency_key", .string, .required)
            .field("card_key", .string, .required)
            .field("direction", .string, .required)
            .field("requested_fen", .int64, .required)
            .field("amount_fen", .int64, .required)
            .field("outcome", .string, .required)
            .field("reference", .string, .required)
            .field("failure_code", .string)
            .field("executed_at", .datetime, .required)
            .unique(on: "idempotency_key")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(SandboxPaymentInstruction.schema).delete()
        try await database.schema(SandboxPaymentAccount.schema).delete()
    }
}
