import Foundation
import LendingCore
import Vapor

// Request bodies of the journey API. Every field is optional at the decoding level so that a missing
// field gets a clear `missing_field` error naming it, instead of a generic decoding failure.

struct SMSCodeRequest: Content {
    var phone: String?
    /// sign_in (the default) or lead.
    var purpose: String?
}

struct SignInRequest: Content {
    var phone: String?
    var code: String?
    /// Customer-manager code and channel from the QR link (`?cm=SZ-0001&ch=poster`).
    var cm: String?
    var ch: String?
    /// The campaign of the landing (`?campaign=`), kept for the reports.
    var campaign: String?
}

struct IDCardUploadRequest: Content {
    /// Base64 of the photo of the portrait side.
    var frontImage: String?
    /// Base64 of the photo of the national-emblem side.
    var backImage: String?
}

struct IDCardConfirmRequest: Content {
    var name: String?
    var idNumber: String?
    var address: String?
    var validUntil: String?
}

struct FaceCheckRequest: Content {
    /// Base64 of the liveness capture (a frame or short clip); or `simulate: true` in sandbox mode.
    var capture: String?
    var simulate: Bool?
}

struct BankCardRequest: Content {
    var cardNumber: String?
}

struct CodeRequest: Content {
    var code: String?
}

struct AuthorizationSignRequest: Content {
    var version: String?
    var sha256: String?
    var agree: Bool?
    var code: String?
}

struct EmergencyContactInput: Content {
    var name: String?
    var relationship: String?
    var phone: String?
}

struct AboutYouRequest: Content {
    var employer: String?
    var employmentType: String?
    var monthlyIncome: String?
    var housing: String?
    var maritalStatus: String?
    var education: String?
    var loanPurpose: String?
    var emergencyContact: EmergencyContactInput?
}

struct LoanRequestInput: Content {
    var amount: String?
    var termMonths: WholeNumber?
    var method: String?
    var purpose: String?
}

// Responses.

struct SessionResponse: Content {
    let token: String
    let expiresAt: Date
    let application: ApplicationView
}

struct IDCardReadingView: Content {
    let name: String
    let idNumber: String
    let address: String
    let validUntil: String
    let sex: String?
    let birthDate: String?
    // Optional: readings sealed before these were added decode without them.
    var validFrom: String?
    var issuingAuthority: String?
    var ethnicity: String?
    /// How sure the engine was of each field it read (0 to 100), where it says.
    var confidence: [String: Double]?
    /// The fields the applicant should type or check on the confirmation page, and why.
    var needsAttention: [IDCardFieldAttention]?
}

struct IDCardFieldAttention: Content, Equatable {
    /// name, idNumber, address, validUntil or issuingAuthority.
    let field: String
    /// `not_read` (left empty: unreadable, or it failed its checks) or `unsure` (read with little confidence).
    let reason: String
    let message: String
}

struct FaceCheckView: Content {
    let passed: Bool
    let livenessPassed: Bool
    let similarity: String
    let threshold: String
    let attemptsLeft: Int
    let lockedUntil: Date?
    let application: ApplicationView
}

struct AuthorizationDocumentView: Content {
    let version: String
    let title: String
    let text: String
    let sha256: String
}

struct StepView: Content {
    let step: String
    let title: String
    let done: Bool
}

struct StopView: Content {
    let step: String
    let reason: String
    let message: String
    let retryAfter: Date?
}

struct ApplicantView: Content {
    let phone: String
    let name: String?
    let idNumber: String?
    let bankCard: String?
    let bank: String?
}

struct ReasonView: Content {
    let code: String
    let message: String
}

struct DecisionView: Content {
    let outcome: String
    let creditLimit: String?
    let annualRate: String?
    let apr: String?
    let reasons: [ReasonView]
    let decidedAt: Date
    let validUntil: Date?
    let policyVersion: String?
}

struct LoanRequestView: Content {
    let amount: String
    let termMonths: Int
    let method: String
    let purpose: String
    let requestedAt: Date
    let firstPayment: String?
    let totalInterest: String?
    let apr: String?
}

struct ApplicationView: Content {
    let id: UUID
    let state: String
    let stateTitle: String
    let nextStep: String
    let completedSteps: [String]
    let steps: [StepView]
    let stopped: StopView?
    let applicant: ApplicantView
    let decision: DecisionView?
    let loanRequest: LoanRequestView?
    let sandbox: Bool
    let updatedAt: Date
}
