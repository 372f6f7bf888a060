import Fluent
import Foundation

/// A staff member's signed-in session: an opaque token stored only as its SHA-256; idle for 30 minutes or 12 hours
/// after sign-in it ends, and sign-out (or disabling the member) ends it at once.
final class StaffSession: Model, @unchecked Sendable {
    static let schema = "staff_sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "staff_id") var staffID: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "last_seen_at") var lastSeenAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    /// A session that may only confirm the second factor's enrolment.
    @Field(key: "enrolment_only") var enrolmentOnly: Bool

    init() {}
}

/// Tries to sign in as one login (known or not), counted in the database: 5 wrong ones lock it for 15 minutes.
final class StaffLoginGuard: Model, @unchecked Sendable {
    static let schema = "staff_login_guards"
    @ID(key: .id) var id: UUID?
    /// A keyed hash of the login as typed, so unknown logins are guarded the same way and not stored.
    @Field(key: "login_key") var loginKey: String
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// A risk reviewer's decision on a referred application, stored beside the machine's decision (never over it).
final class ReviewDecision: Model, @unchecked Sendable {
    static let schema = "review_decisions"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "reviewer_login") var reviewerLogin: String
    @Field(key: "decision") var decision: String  // approve | decline
    @OptionalField(key: "credit_limit") var creditLimit: String?
    @OptionalField(key: "annual_rate") var annualRate: String?
    @OptionalField(key: "apr") var apr: String?
    @OptionalField(key: "reason") var reason: String?
    @OptionalField(key: "note") var note: String?
    @Field(key: "needs_confirmation") var needsConfirmation: Bool
    /// awaiting_confirmation | final | confirmed | rejected
    @Field(key: "state") var state: String
    @OptionalField(key: "confirmer_login") var confirmerLogin: String?
    @OptionalField(key: "confirmation_note") var confirmationNote: String?
    @Field(key: "decided_at") var decidedAt: Date
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?

    init() {}

    enum State {
        static let awaitingConfirmation = "awaiting_confirmation"
        static let final = "final"
        static let confirmed = "confirmed"
        static let rejected = "rejected"
    }
}
