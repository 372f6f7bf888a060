import Fluent

struct CreateDecisionTables: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(PolicyVersion.schema)
            .id()
            .field("name", .string, .required)
            .field("version", .int, .required)
            .field("sha256", .string, .required)
            .field("files_json", .string, .required)
            .field("entry_file", .string, .required)
            .field("published_by", .string, .required)
            .field("published_at", .datetime, .required)
            .field("active", .bool, .required)
            .unique(on: "name", "version")
            .create()
        try await database.schema(DecisionRecord.schema)
            .id()
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("policy_version", .string, .required)
            .field("policy_sha256", .string, .required)
            .field("input_json", .string, .required)
            .field("output_json", .string, .required)
            .field("trace_json", .string, .required)
            .field("decided_at", .datetime, .required)
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(DecisionRecord.schema).delete()
        try await database.schema(PolicyVersion.schema).delete()
    }
}
