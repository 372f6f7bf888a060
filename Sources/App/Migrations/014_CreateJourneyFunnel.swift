import Fluent

/// Where people give up: one row per application and journey step, with the moment the step became the
/// applicant's current page (entered) and the moment it was done (completed), and the attribution the reports
/// group by (day, channel, campaign, manager, branch). Nothing personal. Also the campaign of a landing, kept on
/// the application like its channel.
struct CreateJourneyFunnel: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(LoanApplication.schema).field("campaign", .string).update()
        try await database.schema(JourneyStepRecord.schema)
            .id()
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("step", .string, .required)
            .field("day", .string, .required)
            .field("entered_at", .datetime, .required)
            .field("completed_at", .datetime)
            .field("seconds", .double)
            .field("journey_seconds", .double)
            .field("channel", .string)
            .field("campaign", .string)
            .field("manager_code", .string)
            .field("branch_code", .string)
            .unique(on: "application_id", "step")
            .create()
        try await database.createPlainIndex("journey_steps_day_step", on: JourneyStepRecord.schema, columns: ["day", "step"])
        try await database.createPlainIndex("journey_steps_branch_day", on: JourneyStepRecord.schema, columns: ["branch_code", "day"])
        try await database.createPlainIndex("journey_steps_manager_day", on: JourneyStepRecord.schema, columns: ["manager_code", "day"])
        try await database.createPlainIndex("applications_created", on: LoanApplication.schema, columns: ["created_at"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(JourneyStepRecord.schema).delete()
        try await database.schema(LoanApplication.schema).deleteField("campaign").update()
    }
}
