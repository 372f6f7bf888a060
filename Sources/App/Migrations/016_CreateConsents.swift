import Fluent

/// The applicant's consents to the user agreement and the privacy notice, each with the document's version and
/// the SHA-256 of its text (one row per phone, document and version).
struct CreateConsents: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(Consent.schema)
            .id()
            .field("phone_index", .string, .required)
            .field("document", .string, .required)
            .field("version", .string, .required)
            .field("sha256", .string, .required)
            .field("given_at", .datetime, .required)
            .field("client", .string, .required)
            .field("device", .string, .required)
            .unique(on: "phone_index", "document", "version")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(Consent.schema).delete()
    }
}
