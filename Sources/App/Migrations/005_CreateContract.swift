import Fluent

struct CreateContract: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(SignedContract.schema)
            .id()
            .field("application_id", .uuid, .required, .references(LoanApplication.schema, "id"))
            .field("contract_number", .string, .required)
            .field("template_version", .string, .required)
            .field("business_date", .string, .required)
            .field("content_sealed", .string, .required)
            .field("pdf_sealed", .string, .required)
            .field("pdf_sha256", .string, .required)
            .field("pdf_bytes", .int, .required)
            .field("evidence_sealed", .string, .required)
            .field("evidence_sha256", .string, .required)
            .field("signature", .data, .required)
            .field("evidence_signature", .data, .required)
            .field("certificate_sha256", .string, .required)
            .field("sms_proof", .uuid, .required)
            .field("signed_at", .datetime, .required)
            .unique(on: "application_id")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema(SignedContract.schema).delete()
    }
}
