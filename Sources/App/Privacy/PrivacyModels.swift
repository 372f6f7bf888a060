import Fluent
import Foundation

/// A step-up session of the privacy centre: a fresh SMS code proved the phone; valid 10 minutes, stored hashed.
final class PrivacySession: Model, @unchecked Sendable {
    static let schema = "privacy_sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    init() {}
}

/// A copy of everything held about a person (JSON and PDF), sealed under their general key, downloadable 24 hours.
final class PrivacyExport: Model, @unchecked Sendable {
    static let schema = "privacy_exports"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "json_sealed") var jsonSealed: String
    @Field(key: "pdf_sealed") var pdfSealed: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    init() {}
}

/// A person's request to erase their data (PIPL art. 47): answered within 15 working days, carried out by the privacy
/// job. `phone_index` becomes a tombstone once carried out, so the request no longer leads to the phone.
final class ErasureRequest: Model, @unchecked Sendable {
    static let schema = "erasure_requests"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "phone_masked") var phoneMasked: String
    /// accepted → erased (nothing kept) | locked (what law makes the bank keep is locked until `kept_until`) → destroyed.
    @Field(key: "state") var state: String
    @Field(key: "received_at") var receivedAt: Date
    @Field(key: "deadline") var deadline: Date
    @OptionalField(key: "carried_out_at") var carriedOutAt: Date?
    @OptionalField(key: "outcome") var outcome: String?
    @OptionalField(key: "kept_until") var keptUntil: Date?
    @Field(key: "version") var version: Int

    init() {}
}
