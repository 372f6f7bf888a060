import Fluent
import Foundation

/// A person who left their name and phone on the lead page (公众号 menu, ads, a manager's poster) to be called.
final class Lead: Model, @unchecked Sendable {
    static let schema = "leads"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "phone_sealed") var phoneSealed: String
    @Field(key: "name_sealed") var nameSealed: String
    @Field(key: "city") var city: String
    /// new | contacted | applying | converted | lost (`LeadStatus`).
    @Field(key: "status") var status: String
    @OptionalField(key: "lost_reason") var lostReason: String?
    /// The manager who follows it up; nil while it waits in its branch's (or the head office's) queue.
    @OptionalField(key: "manager_code") var managerCode: String?
    @Field(key: "branch_code") var branchCode: String
    @OptionalField(key: "cm") var cm: String?
    @OptionalField(key: "channel") var channel: String?
    @OptionalField(key: "campaign") var campaign: String?
    @Field(key: "consent_version") var consentVersion: String
    @Field(key: "consented_at") var consentedAt: Date
    @OptionalField(key: "application_id") var applicationID: UUID?
    /// First contact is due by then (2 working hours after the lead came in).
    @Field(key: "due_by") var dueBy: Date
    @OptionalField(key: "contacted_at") var contactedAt: Date?
    @Field(key: "version") var version: Int
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// One step of a lead's follow-up: the status it moved to, the note written with it, and who did it.
final class LeadEvent: Model, @unchecked Sendable {
    static let schema = "lead_events"
    @ID(key: .id) var id: UUID?
    @Field(key: "lead_id") var leadID: UUID
    @Field(key: "status") var status: String
    @OptionalField(key: "note_sealed") var noteSealed: String?
    @Field(key: "actor") var actor: String
    @Field(key: "at") var at: Date

    init() {}
}

/// A phone that asked for no more marketing (replied 退订, or withdrew the consent): no nudge is ever sent to it.
final class MarketingOptOut: Model, @unchecked Sendable {
    static let schema = "marketing_opt_outs"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "source") var source: String
    @Field(key: "at") var at: Date

    init() {}
}

/// The applicant's consent to talk with their manager in 云接洽, given with the first message.
final class ConversationConsent: Model, @unchecked Sendable {
    static let schema = "conversation_consents"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "text_version") var textVersion: String
    @Field(key: "at") var at: Date

    init() {}
}

/// One message of an application's conversation; the text is sealed at rest.
final class ConversationMessage: Model, @unchecked Sendable {
    static let schema = "conversation_messages"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    /// applicant | manager
    @Field(key: "sender") var sender: String
    @OptionalField(key: "staff_login") var staffLogin: String?
    @Field(key: "text_sealed") var textSealed: String
    /// Call-back times the manager offered, as a JSON array of ISO-8601 times.
    @OptionalField(key: "slots") var slots: String?
    /// The offered time the applicant picked (ISO-8601).
    @OptionalField(key: "picked_slot") var pickedSlot: String?
    @Field(key: "sent_at") var sentAt: Date

    init() {}
}

/// A text message to an applicant about one event (decision ready, reminder…), sent once: the event key is unique.
final class Notification: Model, @unchecked Sendable {
    static let schema = "notifications"
    @ID(key: .id) var id: UUID?
    @Field(key: "event_key") var eventKey: String
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "template") var template: String
    @Field(key: "template_version") var templateVersion: String
    /// service | marketing
    @Field(key: "purpose") var purpose: String
    @Field(key: "text_sealed") var textSealed: String
    /// queued | sent | skipped | failed
    @Field(key: "state") var state: String
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "sent_at") var sentAt: Date?

    init() {}
}

/// The sandbox gateway's outbox in the database, shared by every instance and kept across restarts. Sandbox
/// only; sealed like every other personal value (the phone found by its blind index).
final class SandboxSMSRecord: Model, @unchecked Sendable {
    static let schema = "sandbox_sms"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "phone_sealed") var phoneSealed: String
    @Field(key: "text_sealed") var textSealed: String
    @OptionalField(key: "reference") var reference: String?
    @Field(key: "sent_at") var sentAt: Date
    /// The order the messages were kept in: two messages of the same instant still list newest first.
    @Field(key: "position") var position: Int64

    init() {}
}
