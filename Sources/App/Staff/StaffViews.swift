import Foundation
import Vapor

/// What the workbench's API answers. Personal data is masked unless revealed through `/reveal`.
struct StaffSessionView: Content {
    struct Member: Content {
        let login: String
        let name: String
        let role: String
        let branch: String
    }

    let token: String
    let expiresAt: Date
    let staff: Member
    /// Present for a member without a second factor: scan it into an authenticator app, then POST /staff/enrolment.
    let enrolment: Enrolment?

    struct Enrolment: Content {
        let otpauthUri: String
    }
}

struct StaffSignInRequest: Content {
    var login: String?
    var password: String?
    var totp: String?
}

struct StaffApplicationListView: Content {
    struct Item: Content {
        let id: UUID
        let state: String
        let createdAt: Date
        let branch: String?
        let manager: String?
        let applicant: Applicant
        let pendingConfirmation: Bool
        let referredAt: Date?
        let dueBy: Date?
        let overdue: Bool
    }

    struct Applicant: Content {
        let name: String
        let phone: String
    }

    let items: [Item]
    let total: Int
    let page: Int
    let pageSize: Int
}

struct StaffApplicationDetailView: Content {
    struct Applicant: Content {
        let name: String
        let phone: String
        let idNumber: String
        let age: Int?
    }

    struct Reason: Content {
        let code: String
        let message: String
    }

    struct Decision: Content {
        let outcome: String
        let policyVersion: String
        let decidedAt: Date
        let reasons: [Reason]
        let debtToIncome: String?
        let monthlyIncome: String?
        let monthlyRepayments: String?
        let inquiriesLast3Months: Int?
        let overdueMonthsLast24: Int?
        let currentOverdueAmount: String?
        let suggestedLimit: String?
        let trace: [String]
    }

    struct Bureau: Content {
        let reportId: String
        let thinFile: Bool
        let accounts: Int
        let currentOverdueAmount: String
        let overdueMonthsLast24: Int
        let inquiriesLast3Months: Int
        let cardUtilization: String
        let monthlyRepayments: String
    }

    struct IdentityChecks: Content {
        let registry: String
        let idConfirmedAt: Date?
        let faceSimilarity: String?
        let faceVerifiedAt: Date?
        let carrierVerifiedAt: Date?
        let card: String?
        let cardBank: String?
        let cardVerifiedAt: Date?
    }

    struct Facts: Content {
        let employmentType: String
        let monthlyIncome: String
        let housing: String
        let maritalStatus: String
        let education: String
        let loanPurpose: String
    }

    struct Review: Content {
        let decision: String
        let reviewer: String
        let creditLimit: String?
        let annualRate: String?
        let apr: String?
        let reason: String?
        let note: String?
        let state: String
        let confirmer: String?
        let confirmationNote: String?
        let decidedAt: Date
    }

    let id: UUID
    let state: String
    let createdAt: Date
    let branch: String?
    let manager: String?
    let applicant: Applicant
    let pendingConfirmation: Bool
    let referredAt: Date?
    let dueBy: Date?
    let overdue: Bool
    let decision: Decision?
    let bureau: Bureau?
    let identityChecks: IdentityChecks
    let facts: Facts?
    let reviews: [Review]
    let offer: Offer?

    struct Offer: Content {
        let creditLimit: String
        let annualRate: String
        let apr: String
        let validUntil: Date?
    }
}

struct ReviewRequest: Content {
    var decision: String?
    var creditLimit: String?
    var annualRate: String?
    var reason: String?
    var note: String?
}

struct ReviewAnswer: Content {
    let state: String
    let pendingConfirmation: Bool
    let apr: String?
}

struct ConfirmationRequest: Content {
    var confirm: Bool?
    var note: String?
}

struct ConfirmationAnswer: Content {
    let state: String
}

struct RevealRequest: Content {
    var field: String?
    var reason: String?
}

struct RevealAnswer: Content {
    let value: String
}

struct StaffMemberUpdate: Content {
    var active: Bool?
}
