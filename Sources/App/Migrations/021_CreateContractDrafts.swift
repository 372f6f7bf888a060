import Fluent

/// `contract_drafts`: the PDF of an application's unsigned contract as it was last rendered (sealed under the
/// person's general key), with the key of the content it shows (`ContractService.draftKey`). Reading the contract
/// and signing it then render it once, not twice, on whichever instance each request reaches; a draft whose content
/// no longer matches (a new business day moved the plan's dates) is rendered again. Deleted when the contract is
/// signed, and with the person's other general data on erasure.
struct CreateContractDrafts: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema("contract_drafts")
            .field("application_id", .uuid, .identifier(auto: false))
            .field("content_key", .string, .required)
            .field("pdf_sealed", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema("contract_drafts").delete()
    }
}
