import Fluent

/// Landings on the applicant's first page through a manager's code, poster or campaign link: one row per day, manager
/// code, channel and campaign with two counters. Nothing about the visitor is kept (no address, browser, cookie or
/// time of day), only the counts.
struct CreateLandingCounts: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(LandingCount.schema)
            .id()
            .field("day", .string, .required)
            .field("manager_code", .string, .required)
            .field("channel", .string, .required)
            .field("campaign", .string, .required)
            .field("scans", .int64, .required)
            .field("visits", .int64, .required)
            .unique(on: "day", "manager_code", "channel", "campaign")
            .create()
        try await database.createPlainIndex("landing_counts_manager_day", on: LandingCount.schema, columns: ["manager_code", "day"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(LandingCount.schema).delete()
    }
}
