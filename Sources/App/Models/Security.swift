import Fluent
import Foundation

/// A one-time SMS code, stored only as a salted HMAC.
final class OneTimeCode: Model, @unchecked Sendable {
    static let schema = "one_time_codes"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "purpose") var purpose: String
    @OptionalField(key: "application_id") var applicationID: UUID?
    @Field(key: "code_hash") var codeHash: String
    @Field(key: "salt") var salt: String
    @Field(key: "failed_attempts") var failedAttempts: Int
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "consumed_at") var consumedAt: Date?
    @Field(key: "sent_at") var sentAt: Date
    @OptionalField(key: "client_index") var clientIndex: String?

    init() {}
}

/// An applicant's signed-in session; the token itself is never stored, only its SHA-256.
final class ApplicantSession: Model, @unchecked Sendable {
    static let schema = "applicant_sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
}

/// One append-only, hash-chained entry of the audit trail.
final class AuditEntry: Model, @unchecked Sendable {
    static let schema = "audit_entries"
    @ID(key: .id) var id: UUID?
    @Field(key: "sequence") var sequence: Int
    @OptionalField(key: "application_id") var applicationID: UUID?
    @Field(key: "actor") var actor: String
    @Field(key: "action") var action: String
    @Field(key: "details") var details: String
    @Field(key: "recorded_at") var recordedAt: Date
    @Field(key: "previous_hash") var previousHash: String
    @Field(key: "entry_hash") var entryHash: String
    /// The key of the key ring whose HMAC `entryHash` is; nil for entries written before keyed hashes.
    @OptionalField(key: "key_id") var keyID: String?
    /// The entry's lane of the chain and its place there (1, 2, 3…): `previousHash` is its lane predecessor's hash.
    @Field(key: "lane") var lane: Int
    @Field(key: "lane_position") var lanePosition: Int

    init() {}
}

/// A signed checkpoint of the audit chain's head: the database can no longer lose its tail unnoticed.
final class AuditAnchor: Model, @unchecked Sendable {
    static let schema = "audit_anchors"
    @ID(key: .id) var id: UUID?
    @Field(key: "sequence") var sequence: Int
    @Field(key: "entry_hash") var entryHash: String
    @Field(key: "entry_count") var entryCount: Int
    @Field(key: "reason") var reason: String
    @Field(key: "anchored_at") var anchoredAt: Date
    /// Base64 of the bank's detached CMS signature over `AuditAnchoring.statement(...)`.
    @Field(key: "signature") var signature: String
    @Field(key: "certificate_sha256") var certificateSHA256: String
    /// Every lane's head the anchor signed (`AuditAnchoring.Lanes`); nil for an anchor signed before lanes (of lane 1).
    @OptionalField(key: "lanes") var lanes: String?

    init() {}
}

/// Durable background work: a row per job, claimed by compare-and-set so one instance of a fleet runs it.
final class BackgroundJob: Model, @unchecked Sendable {
    static let schema = "jobs"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    @Field(key: "reference") var reference: UUID
    @Field(key: "state") var state: String  // queued | done | failed
    @Field(key: "attempts") var attempts: Int
    @Field(key: "run_after") var runAfter: Date
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// The credit decision as the auditor needs it: which policy version decided, on what (masked) input, with what trace.
final class DecisionRecord: Model, @unchecked Sendable {
    static let schema = "decision_records"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "policy_version") var policyVersion: String
    @Field(key: "policy_sha256") var policySHA256: String
    @Field(key: "input_json") var inputJSON: String
    @Field(key: "output_json") var outputJSON: String
    @Field(key: "trace_json") var traceJSON: String
    @Field(key: "decided_at") var decidedAt: Date

    init() {}
}

/// A published, immutable version of the credit policy (a JDM graph folder).
final class PolicyVersion: Model, @unchecked Sendable {
    static let schema = "policy_versions"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "version") var version: Int
    @Field(key: "sha256") var sha256: String
    @Field(key: "files_json") var filesJSON: String
    @Field(key: "entry_file") var entryFile: String
    @Field(key: "published_by") var publishedBy: String
    @Field(key: "published_at") var publishedAt: Date
    @Field(key: "active") var active: Bool
    /// candidate (uploaded, waiting for a second risk person) | published; nil for versions published from the
    /// command line before maker-checker existed (published).
    @OptionalField(key: "state") var state: String?
    @OptionalField(key: "approved_by") var approvedBy: String?
    @OptionalField(key: "approved_at") var approvedAt: Date?

    init() {}
}

final class Branch: Model, @unchecked Sendable {
    static let schema = "branches"
    @ID(key: .id) var id: UUID?
    @Field(key: "code") var code: String
    @Field(key: "name") var name: String
    @OptionalField(key: "parent_code") var parentCode: String?
    @Field(key: "level") var level: String
    @Field(key: "online_enabled") var onlineEnabled: Bool
    @Field(key: "pilot") var pilot: Bool
    /// The city this branch serves for leads (深圳, 武汉, 上海); sub-branches inherit their branch's.
    @OptionalField(key: "city") var city: String?

    init() {}
}

final class StaffMember: Model, @unchecked Sendable {
    static let schema = "staff"
    @ID(key: .id) var id: UUID?
    @Field(key: "login") var login: String
    @Field(key: "display_name") var displayName: String
    @Field(key: "role") var role: String
    @Field(key: "branch_code") var branchCode: String
    @OptionalField(key: "manager_code") var managerCode: String?
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "active") var active: Bool
    /// The TOTP secret (RFC 6238), sealed like every other secret; confirmed once `totpEnrolledAt` is set.
    @OptionalField(key: "totp_secret_sealed") var totpSecretSealed: String?
    @OptionalField(key: "totp_enrolled_at") var totpEnrolledAt: Date?
    /// The last 30-second step whose code was accepted: a code is never accepted twice.
    @OptionalField(key: "totp_last_step") var totpLastStep: Int64?
    /// When this manager was last given a lead by round-robin (the longest-waiting active manager is next).
    @OptionalField(key: "last_lead_at") var lastLeadAt: Date?

    init() {}
}
