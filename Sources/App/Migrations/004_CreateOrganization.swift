import Fluent

struct CreateOrganization: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(Branch.schema)
            .id()
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("parent_code", .string)
            .field("level", .string, .required)
            .field("online_enabled", .bool, .required)
            .field("pilot", .bool, .required)
            .unique(on: "code")
            .create()
        try await database.schema(StaffMember.schema)
            .id()
            .field("login", .string, .required)
            .field("display_name", .string, .required)
            .field("role", .string, .required)
            .field("branch_code", .string, .required)
            .field("manager_code", .string)
            .field("password_hash", .string, .required)
            .field("active", .bool, .required)
            .unique(on: "login")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(StaffMember.schema).delete()
        try await database.schema(Branch.schema).delete()
    }
}
