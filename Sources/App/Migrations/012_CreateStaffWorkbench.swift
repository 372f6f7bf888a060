import Fluent

/// The bank's side: staff second factors, staff sessions, login guards (lockout in the database, so it survives
/// restarts and spans instances) and reviewers' decisions on referred applications.
struct CreateStaffWorkbench: AsyncMigration {
    func prepare(on database: Database) async throws {
        // One column per ALTER TABLE: SQLite adds them one at a time.
        try await database.schema(StaffMember.schema).field("totp_secret_sealed", .string).update()
        try await database.schema(StaffMember.schema).field("totp_enrolled_at", .datetime).update()
        try await database.schema(StaffMember.schema).field("totp_last_step", .int64).update()
        try await database.schema(StaffSession.schema)
            .id()
            .field("token_hash", .string, .required)
            .field("staff_id", .uuid, .required, .references(StaffMember.schema, "id"))
            .field("created_at", .datetime, .required)
            .field("last_seen_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("enrolment_only", .bool, .required)
            .unique(on: "token_hash")
            .create()
        try await database.schema(StaffLoginGuard.schema)
            .id()
            .field("login_key", .string, .required)
            .field("attempts", .int, .required)
            .field("locked_until", .datetime)
            .field("updated_at", .datetime, .required)
            .unique(on: "login_key")
            .create()
        try await database.schema(ReviewDecision.schema)
            .id()
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("reviewer_login", .string, .required)
            .field("decision", .string, .required)
            .field("credit_limit", .string)
            .field("annual_rate", .string)
            .field("apr", .string)
            .field("reason", .string)
            .field("note", .string)
            .field("needs_confirmation", .bool, .required)
            .field("state", .string, .required)
            .field("confirmer_login", .string)
            .field("confirmation_note", .string)
            .field("decided_at", .datetime, .required)
            .field("confirmed_at", .datetime)
            .create()
        try await database.createPlainIndex("review_decisions_application", on: ReviewDecision.schema, columns: ["application_id"])
        try await database.createPlainIndex("staff_sessions_staff", on: StaffSession.schema, columns: ["staff_id"])
    }

    func revert(on database: Database) async throws {
        try await database.schema(ReviewDecision.schema).delete()
        try await database.schema(StaffLoginGuard.schema).delete()
        try await database.schema(StaffSession.schema).delete()
        for field in ["totp_secret_sealed", "totp_enrolled_at", "totp_last_step"] {
            try await database.schema(StaffMember.schema).deleteField(.string(field)).update()
        }
    }
}
