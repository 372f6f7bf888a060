import Fluent

/// Policy operations from the workbench: a version uploaded by one risk person is a candidate until a second one
/// approves it (maker-checker); a rollback is requested by one and confirmed by another; shadow replays of a
/// candidate against stored decisions are kept with their progress and result.
struct CreatePolicyOperations: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(PolicyVersion.schema).field("state", .string).update()
        try await database.schema(PolicyVersion.schema).field("approved_by", .string).update()
        try await database.schema(PolicyVersion.schema).field("approved_at", .datetime).update()
        try await database.schema(PolicyChange.schema)
            .id()
            .field("version_id", .uuid, .required, .references(PolicyVersion.schema, "id"))
            .field("kind", .string, .required)
            .field("requested_by", .string, .required)
            .field("requested_at", .datetime, .required)
            .field("note", .string)
            .field("state", .string, .required)
            .field("confirmed_by", .string)
            .field("confirmed_at", .datetime)
            .create()
        try await database.schema(ShadowReplay.schema)
            .id()
            .field("version_id", .uuid, .required, .references(PolicyVersion.schema, "id"))
            .field("requested_by", .string, .required)
            .field("state", .string, .required)
            .field("total", .int, .required)
            .field("done", .int, .required)
            .field("result_json", .string)
            .field("error", .string)
            .field("started_at", .datetime, .required)
            .field("finished_at", .datetime)
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(ShadowReplay.schema).delete()
        try await database.schema(PolicyChange.schema).delete()
        for field in ["state", "approved_by", "approved_at"] {
            try await database.schema(PolicyVersion.schema).deleteField(.string(field)).update()
        }
    }
}
