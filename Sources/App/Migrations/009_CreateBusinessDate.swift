import Fluent

struct CreateBusinessDate: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(BusinessDateRecord.schema)
            .id()
            .field("name", .string, .required)
            .field("date", .string, .required)
            .field("last_eod_at", .datetime)
            .unique(on: "name")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(BusinessDateRecord.schema).delete()
    }
}
