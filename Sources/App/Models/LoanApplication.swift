import Fluent
import Foundation
import LendingCore

/// One application for a personal loan, from the first SMS code to the loan request.
/// Personal data is stored sealed (`…Sealed`, AES-GCM with key id) and looked up by blind index (`…Index`).
final class LoanApplication: Model, @unchecked Sendable {
    static let schema = "applications"

    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "phone_sealed") var phoneSealed: String
    @Field(key: "state") var state: String
    /// Bumped by every saved change; a save that finds another version lost a race (compare-and-set).
    @Field(key: "version") var version: Int
    @OptionalField(key: "stop_step") var stopStep: String?
    @OptionalField(key: "stop_reason") var stopReason: String?

    // Where the applicant came from (customer manager code + channel): first and last touch.
    @OptionalField(key: "cm_first") var cmFirst: String?
    @OptionalField(key: "channel_first") var channelFirst: String?
    @OptionalField(key: "cm_last") var cmLast: String?
    @OptionalField(key: "channel_last") var channelLast: String?
    @OptionalField(key: "cm_last_at") var cmLastAt: Date?
    /// The campaign of the landing that brought the applicant (`?campaign=`), for the reports.
    @OptionalField(key: "campaign") var campaign: String?
    /// nil while the person's data is in use; `locked` after an erasure request kept what law requires (used for nothing,
    /// seen only by compliance and the auditor); `erased` once it is destroyed.
    @OptionalField(key: "privacy_state") var privacyState: String?

    // ID card: what OCR read (pending confirmation), then the confirmed identity.
    @OptionalField(key: "ocr_sealed") var ocrSealed: String?
    @OptionalField(key: "name_sealed") var nameSealed: String?
    @OptionalField(key: "id_number_sealed") var idNumberSealed: String?
    @OptionalField(key: "id_number_index") var idNumberIndex: String?
    @OptionalField(key: "address_sealed") var addressSealed: String?
    @OptionalField(key: "id_valid_until") var idValidUntil: String?
    @OptionalField(key: "registry_photo_ref") var registryPhotoRef: String?
    @OptionalField(key: "id_confirmed_at") var idConfirmedAt: Date?

    // Face: liveness + comparison with the registry photo.
    @Field(key: "face_attempts") var faceAttempts: Int
    @OptionalField(key: "face_locked_until") var faceLockedUntil: Date?
    @OptionalField(key: "face_score") var faceScore: String?
    @OptionalField(key: "face_verified_at") var faceVerifiedAt: Date?

    // Bank card: carrier (3 factors) and UnionPay (4 factors) checks, confirmed by SMS.
    @OptionalField(key: "pending_card_sealed") var pendingCardSealed: String?
    @OptionalField(key: "card_sealed") var cardSealed: String?
    @OptionalField(key: "card_index") var cardIndex: String?
    @OptionalField(key: "card_masked") var cardMasked: String?
    @OptionalField(key: "card_bank") var cardBank: String?
    @OptionalField(key: "carrier_verified_at") var carrierVerifiedAt: Date?
    @OptionalField(key: "card_verified_at") var cardVerifiedAt: Date?

    // Credit-report authorization (征信授权) and the report it allowed.
    @OptionalField(key: "authorization_version") var authorizationVersion: String?
    @OptionalField(key: "authorization_sha256") var authorizationSHA256: String?
    @OptionalField(key: "authorization_signed_at") var authorizationSignedAt: Date?
    @OptionalField(key: "authorization_client") var authorizationClient: String?
    @OptionalField(key: "authorization_device") var authorizationDevice: String?
    @OptionalField(key: "authorization_sms_proof") var authorizationSMSProof: String?
    @OptionalField(key: "bureau_report_sealed") var bureauReportSealed: String?

    // About you (补充信息), sealed as one JSON document.
    @OptionalField(key: "about_you_sealed") var aboutYouSealed: String?
    @OptionalField(key: "info_completed_at") var infoCompletedAt: Date?

    // Decision.
    @OptionalField(key: "decision") var decision: String?
    @OptionalField(key: "credit_limit") var creditLimit: String?
    @OptionalField(key: "annual_rate") var annualRate: String?
    @OptionalField(key: "apr") var apr: String?
    @OptionalField(key: "decision_reasons") var decisionReasons: String?
    @OptionalField(key: "decided_at") var decidedAt: Date?
    @OptionalField(key: "limit_expires_at") var limitExpiresAt: Date?
    @OptionalField(key: "policy_version") var policyVersion: String?

    // Loan request.
    @OptionalField(key: "loan_amount") var loanAmount: String?
    @OptionalField(key: "loan_term_months") var loanTermMonths: Int?
    @OptionalField(key: "loan_method") var loanMethod: String?
    @OptionalField(key: "loan_purpose") var loanPurpose: String?
    @OptionalField(key: "loan_requested_at") var loanRequestedAt: Date?

    @Field(key: "last_activity_at") var lastActivityAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    /// The state as read by `LoanApplication.load` (not a column): the state the row still has when a save's
    /// compare-and-set on the version succeeds, so the store needs no second statement to learn it.
    var loadedState: String?
    /// The funnel position as read by `load` (`JourneyFunnel.position`; not a column).
    var loadedFunnel: String?

    init() {}

    init(id: UUID? = nil, phoneIndex: String, phoneSealed: String, state: String, now: Date) {
        self.id = id
        self.phoneIndex = phoneIndex
        self.phoneSealed = phoneSealed
        self.state = state
        self.faceAttempts = 0
        self.version = 0
        self.lastActivityAt = now
    }
}

extension LoanApplication {
    /// The stored state, decoded: an unknown value is a 500 `corrupt_state`, never another state.
    var applicationState: ApplicationState {
        get throws { try StoredValues.decode(state, "application state") }
    }
}

extension LoanApplication {
    /// Where the application stands in the journey, from what it records: one reading for the pages, the API, the
    /// managers' lists and the funnel.
    var progress: ApplicationProgress {
        get throws {
            ApplicationProgress(
                state: try applicationState, idCardConfirmed: idConfirmedAt != nil, faceVerified: faceVerifiedAt != nil,
                bankCardVerified: cardVerifiedAt != nil, authorizationSigned: authorizationSignedAt != nil, infoCompleted: infoCompletedAt != nil)
        }
    }
}
