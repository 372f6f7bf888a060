import Fluent

struct CreateSecurityTables: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(OneTimeCode.schema)
            .id()
            .field("phone_index", .string, .required)
            .field("purpose", .string, .required)
            .field("application_id", .uuid)
            .field("code_hash", .string, .required)
            .field("salt", .string, .required)
            .field("failed_attempts", .int, .required)
            .field("expires_at", .datetime, .required)
            .field("consumed_at", .datetime)
            .field("sent_at", .datetime, .required)
            .field("client_index", .string)
            .create()
        try await database.schema(ApplicantSession.schema)
            .id()
            .field("token_hash", .string, .required)
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("phone_index", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema(AuditEntry.schema)
            .id()
            .field("sequence", .int, .required)
            .field("application_id", .uuid)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("details", .string, .required)
            .field("recorded_at", .datetime, .required)
            .field("previous_hash", .string, .required)
            .field("entry_hash", .string, .required)
            .unique(on: "sequence")
            .create()
        try await database.createPlainIndex("one_time_codes_phone", on: "one_time_codes", columns: ["phone_index"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(AuditEntry.schema).delete()
        try await database.schema(ApplicantSession.schema).delete()
        try await database.schema(OneTimeCode.schema).delete()
    }
}
