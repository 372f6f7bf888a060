import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// Everything Yidai holds about a phone's person, decrypted, grouped as the privacy page shows it. Biometric data is
/// never held (the face check keeps only its result and similarity), so it is not here either.
struct PrivacyData: Content {
    struct Identity: Content {
        let name: String?
        let idNumber: String?
        let address: String?
        let validUntil: String?
    }
    struct Check: Content {
        let check: String
        let titleZh: String
        let result: String
        let at: Date?
    }
    struct BankCard: Content {
        let number: String
        let bank: String?
        let verifiedAt: Date?
    }
    struct Authorization: Content {
        let application: UUID
        let version: String
        let sha256: String?
        let signedAt: Date
        let smsProof: String?
        let client: String?
        let device: String?
    }
    struct Report: Content {
        let application: UUID
        let reportId: String
        let thinFile: Bool
        let accounts: Int
        let currentOverdueAmount: String
        let overdueMonthsLast24: Int
        let inquiriesLast3Months: Int
        let cardUtilization: String
        let monthlyRepayments: String
    }
    struct Facts: Content {
        let application: UUID
        let employer: String
        let employmentType: String
        let monthlyIncome: String
        let housing: String
        let maritalStatus: String
        let education: String
        let loanPurpose: String
        let emergencyContact: [String: String]
    }
    struct ApplicationItem: Content {
        let id: UUID
        let state: String
        let startedAt: Date?
        let decision: String?
        let creditLimit: String?
        let annualRate: String?
        let apr: String?
        let reasons: [String]
        let decidedAt: Date?
        let loanAmount: String?
        let termMonths: Int?
        let purpose: String?
        let privacyState: String?
    }
    struct Installment: Content {
        let number: Int
        let dueDate: String
        let principal: String
        let interest: String
        let penalty: String
        let paid: String
        let status: String
    }
    struct LoanItem: Content {
        let id: UUID
        let application: UUID
        let principal: String
        let annualRate: String
        let termMonths: Int
        let status: String
        let startDate: String
        let installments: [Installment]
    }
    struct PaymentItem: Content {
        let id: UUID
        let kind: String
        let amount: String
        let state: String
        let businessDate: String
        let at: Date
    }
    struct ConsentItem: Content {
        let purpose: String
        let titleZh: String
        let version: String
        let givenAt: Date?
        let withdrawnAt: Date?
        /// The open application that needs this consent: withdrawing it cancels that application.
        let neededBy: UUID?
        let withdrawable: Bool
    }
    struct Message: Content {
        let application: UUID
        let from: String
        let text: String
        let sentAt: Date
    }
    struct Lead: Content {
        let name: String?
        let city: String
        let status: String
        let createdAt: Date
    }
    struct StaffAccess: Content {
        let at: Date
        let staff: String
        let role: String
        let field: String
        let reason: String
        let application: UUID?
    }
    struct Request: Content {
        let id: UUID
        let state: String
        let receivedAt: Date
        let deadline: Date
    }

    let phone: String?
    let identity: Identity?
    let checks: [Check]
    let bankCard: BankCard?
    let creditAuthorizations: [Authorization]
    let creditReports: [Report]
    let facts: [Facts]
    let applications: [ApplicationItem]
    let loans: [LoanItem]
    let payments: [PaymentItem]
    let consents: [ConsentItem]
    let messages: [Message]
    let leads: [Lead]
    let staffAccess: [StaffAccess]
    let erasureRequests: [Request]
    let generatedAt: Date
}

extension PrivacyCentre {
    func data(_ phoneIndex: String) async throws -> PrivacyData {
        let applications = try await applications(of: phoneIndex)
        let vault = vault
        var phone: String?
        var identity: PrivacyData.Identity?
        var checks: [PrivacyData.Check] = []
        var card: PrivacyData.BankCard?
        var authorizations: [PrivacyData.Authorization] = []
        var reports: [PrivacyData.Report] = []
        var facts: [PrivacyData.Facts] = []
        for application in applications {
            let id = try application.requireID()
            if phone == nil { phone = try await vault.openIfKept(application.phoneSealed) }
            if identity == nil, application.nameSealed != nil {
                identity = .init(
                    name: try await vault.openIfKept(application.nameSealed), idNumber: try await vault.openIfKept(application.idNumberSealed),
                    address: try await vault.openIfKept(application.addressSealed), validUntil: application.idValidUntil)
                checks = [
                    .init(check: "registry", titleZh: "身份联网核查", result: application.idConfirmedAt == nil ? "pending" : "match", at: application.idConfirmedAt),
                    .init(check: "face", titleZh: "活体检测与人脸比对", result: application.faceVerifiedAt == nil ? "pending" : "passed (similarity \(application.faceScore ?? "-"))",
                          at: application.faceVerifiedAt),
                    .init(check: "carrier", titleZh: "运营商三要素核验", result: application.carrierVerifiedAt == nil ? "pending" : "match", at: application.carrierVerifiedAt),
                    .init(check: "bank_card", titleZh: "银行卡四要素核验", result: application.cardVerifiedAt == nil ? "pending" : "match", at: application.cardVerifiedAt),
                ]
            }
            if card == nil, let number = try await vault.openIfKept(application.cardSealed) {
                card = .init(number: number, bank: application.cardBank, verifiedAt: application.cardVerifiedAt)
            }
            if let version = application.authorizationVersion, let at = application.authorizationSignedAt {
                authorizations.append(.init(application: id, version: version, sha256: application.authorizationSHA256, signedAt: at,
                                            smsProof: application.authorizationSMSProof, client: application.authorizationClient, device: application.authorizationDevice))
            }
            if let text = try await vault.openIfKept(application.bureauReportSealed),
                let report = try? JSONDecoder().decode(CreditReport.self, from: Data(text.utf8))
            {
                reports.append(.init(application: id, reportId: report.reportId, thinFile: report.thinFile, accounts: report.accounts,
                                     currentOverdueAmount: Money.string(report.currentOverdueAmount), overdueMonthsLast24: report.overdueMonthsLast24,
                                     inquiriesLast3Months: report.inquiriesLast3Months, cardUtilization: "\(report.cardUtilization)",
                                     monthlyRepayments: Money.string(report.monthlyRepayments)))
            }
            if let text = try await vault.openIfKept(application.aboutYouSealed),
                let about = try? JSONDecoder().decode(AboutYouFacts.self, from: Data(text.utf8))
            {
                facts.append(.init(application: id, employer: about.employer, employmentType: about.employmentType,
                                   monthlyIncome: Money.string(about.monthlyIncome), housing: about.housing, maritalStatus: about.maritalStatus,
                                   education: about.education, loanPurpose: about.loanPurpose,
                                   emergencyContact: ["name": about.emergencyContact.name, "relationship": about.emergencyContact.relationship,
                                                      "phone": about.emergencyContact.phone]))
            }
        }
        let ids = try applications.map { try $0.requireID() }
        let items = applications.map { a in
            PrivacyData.ApplicationItem(
                id: a.id!, state: a.state, startedAt: a.createdAt, decision: a.decision, creditLimit: a.creditLimit, annualRate: a.annualRate,
                apr: a.apr, reasons: (a.decisionReasons.flatMap { try? JSONDecoder().decode([PolicyReason].self, from: Data($0.utf8)) } ?? []).map(\.message),
                decidedAt: a.decidedAt, loanAmount: a.loanAmount, termMonths: a.loanTermMonths, purpose: a.loanPurpose, privacyState: a.privacyState)
        }
        var loans: [PrivacyData.LoanItem] = []
        for loan in try await Loan.query(on: db).filter(\.$applicationID ~~ ids).all() {
            let rows = try await LoanInstallment.query(on: db).filter(\.$loanID == loan.requireID()).sort(\.$number).all()
            loans.append(.init(
                id: try loan.requireID(), application: loan.applicationID, principal: Money.string(fen: loan.principalFen), annualRate: loan.annualRate,
                termMonths: loan.termMonths, status: loan.status, startDate: loan.startDate,
                installments: rows.map { i in
                    .init(number: i.number, dueDate: i.dueDate, principal: Money.string(fen: i.principalFen), interest: Money.string(fen: i.interestFen),
                          penalty: Money.string(fen: i.penaltyFen), paid: Money.string(fen: i.paidPrincipalFen + i.paidInterestFen + i.paidPenaltyFen),
                          status: i.status)
                }))
        }
        let payments = try await Payment.query(on: db).filter(\.$applicationID ~~ ids).sort(\.$createdAt).all().map { p in
            PrivacyData.PaymentItem(id: p.id!, kind: p.kind, amount: Money.string(fen: p.movedFen ?? p.requestedFen), state: p.state.rawValue,
                                    businessDate: p.businessDate, at: p.completedAt ?? p.createdAt)
        }
        var messages: [PrivacyData.Message] = []
        for row in try await ConversationMessage.query(on: db).filter(\.$applicationID ~~ ids).sort(\.$sentAt).all() {
            guard let text = try await vault.openIfKept(row.textSealed) else { continue }
            messages.append(.init(application: row.applicationID, from: row.sender == "staff" ? "客户经理" : "我", text: text, sentAt: row.sentAt))
        }
        var leads: [PrivacyData.Lead] = []
        for lead in try await Lead.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$createdAt).all() {
            leads.append(.init(name: try await vault.openIfKept(lead.nameSealed), city: lead.city, status: lead.status, createdAt: lead.createdAt))
        }
        let access = try await AuditEntry.query(on: db).filter(\.$action == "personal_data.revealed").filter(\.$applicationID ~~ ids)
            .sort(\.$sequence).all().map { entry -> PrivacyData.StaffAccess in
                let details = (try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8))) ?? [:]
                return .init(at: entry.recordedAt, staff: details["staff"] ?? entry.actor, role: details["role"] ?? "", field: details["field"] ?? "",
                             reason: details["reason"] ?? "", application: entry.applicationID)
            }
        let requests = try await ErasureRequest.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$receivedAt).all().map {
            PrivacyData.Request(id: $0.id!, state: $0.state, receivedAt: $0.receivedAt, deadline: $0.deadline)
        }
        return PrivacyData(
            phone: phone, identity: identity, checks: checks, bankCard: card, creditAuthorizations: authorizations, creditReports: reports,
            facts: facts, applications: items, loans: loans, payments: payments, consents: try await consents(phoneIndex, applications: applications),
            messages: messages, leads: leads, staffAccess: access, erasureRequests: requests, generatedAt: now)
    }

    // MARK: - Consents

    enum Purpose: String, CaseIterable {
        case userAgreement = "user_agreement"
        case privacyNotice = "privacy_notice"
        case creditAuthorization = "credit_authorization"
        case conversation
        case marketing

        var titleZh: String {
            switch self {
            case .userAgreement: "用户服务协议"
            case .privacyNotice: "个人信息处理规则（含敏感个人信息单独同意）"
            case .creditAuthorization: "征信查询授权"
            case .conversation: "云接洽（与客户经理在线沟通）"
            case .marketing: "营销信息（提醒、客户经理回访）"
            }
        }

        /// Whether an application in progress cannot go on without it.
        var neededByOpenApplication: Bool { self != .conversation && self != .marketing }
    }

    func consents(_ phoneIndex: String, applications: [LoanApplication]? = nil) async throws -> [PrivacyData.ConsentItem] {
        var applications = applications ?? []
        if applications.isEmpty { applications = try await self.applications(of: phoneIndex) }
        let open = Self.open(applications)
        var items: [PrivacyData.ConsentItem] = []
        for row in try await Consent.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$givenAt).all() {
            guard let purpose = Purpose(rawValue: row.document) else { continue }
            items.append(.init(purpose: purpose.rawValue, titleZh: purpose.titleZh, version: row.version, givenAt: row.givenAt, withdrawnAt: row.withdrawnAt,
                               neededBy: row.withdrawnAt == nil ? open?.id : nil, withdrawable: row.withdrawnAt == nil))
        }
        for application in applications {
            if let version = application.authorizationVersion, let at = application.authorizationSignedAt {
                let needed = try open?.id == application.id && !application.applicationState.isDecided
                items.append(.init(purpose: Purpose.creditAuthorization.rawValue, titleZh: Purpose.creditAuthorization.titleZh, version: version, givenAt: at,
                                   withdrawnAt: nil, neededBy: needed ? application.id : nil, withdrawable: needed))
            }
        }
        let ids = applications.compactMap(\.id)
        for consent in try await ConversationConsent.query(on: db).filter(\.$applicationID ~~ ids).all() {
            items.append(.init(purpose: Purpose.conversation.rawValue, titleZh: Purpose.conversation.titleZh, version: consent.textVersion,
                               givenAt: consent.at, withdrawnAt: nil, neededBy: nil, withdrawable: true))
        }
        let optedOut = try await MarketingOptOut.query(on: db).filter(\.$phoneIndex == phoneIndex).first()
        let lead = try await Lead.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$createdAt, .descending).first()
        items.append(.init(purpose: Purpose.marketing.rawValue, titleZh: Purpose.marketing.titleZh, version: lead?.consentVersion ?? "—",
                           givenAt: lead?.consentedAt ?? applications.last?.createdAt, withdrawnAt: optedOut?.at, neededBy: nil, withdrawable: optedOut == nil))
        return items
    }

    struct Withdrawal: Content {
        let purpose: String
        let withdrawnAt: Date
        /// The application cancelled because it needed the consent.
        let cancelledApplication: UUID?
    }

    /// Withdraws a consent at once. One that the application in progress needs is withdrawn only with `confirm`,
    /// because the application is then cancelled (409 `confirmation_required` explains it first).
    func withdraw(_ phoneIndex: String, purpose raw: String?, confirm: Bool) async throws -> Withdrawal {
        guard let raw, let purpose = Purpose(rawValue: raw) else {
            throw APIError(.notFound, code: "not_found", message: "No consent purpose \(raw ?? ""): one of \(Purpose.allCases.map(\.rawValue).joined(separator: ", ")).",
                           messageZh: "没有该项授权。", field: "purpose")
        }
        let applications = try await applications(of: phoneIndex)
        let open = Self.open(applications)
        let services = services
        let at = now
        var cancelledID: UUID?
        if purpose.neededByOpenApplication, let open, let state = try? open.applicationState,
            purpose != .creditAuthorization || (open.authorizationSignedAt != nil && !state.isDecided)
        {
            guard confirm else {
                throw APIError(.conflict, code: "confirmation_required",
                               message: "Your application in progress needs this consent: withdrawing it cancels the application. Send confirm=true to go ahead.",
                               messageZh: "撤回该授权后，您正在办理的借款申请将被取消。确认撤回请再次提交。", field: "confirm")
            }
            let journey = JourneyService(db: db, services: services, logger: Logger(label: "yidai.privacy"), client: .init(address: "privacy", device: "privacy"))
            try await journey.cancel(open)
            cancelledID = open.id
        }
        let cancelled = cancelledID
        try await db.writeTransaction { tx in
            switch purpose {
            case .marketing:
                try await MarketingOptOuts.record(phoneIndex: phoneIndex, source: "privacy_centre", on: tx, services: services)
                // No manager calls back about a lead any more: open leads close as lost, with the reason.
                if let sql = tx as? any SQLDatabase {
                    try await sql.raw("""
                        UPDATE leads SET status = 'lost', lost_reason = '撤回营销授权', updated_at = \(bind: at), version = version + 1
                        WHERE phone_index = \(bind: phoneIndex) AND status IN ('new', 'contacted')
                        """).run()
                }
            case .conversation:
                try await ConversationConsent.query(on: tx).filter(\.$applicationID ~~ applications.compactMap(\.id)).delete()
            case .userAgreement, .privacyNotice:
                try await Consent.query(on: tx).filter(\.$phoneIndex == phoneIndex).filter(\.$document == purpose.rawValue).filter(\.$withdrawnAt == nil)
                    .set(\.$withdrawnAt, to: at).update()
            case .creditAuthorization:
                break  // The authorization lives on its application: cancelling the application ended its use.
            }
            try await AuditTrail(db: tx, services: services).record(
                application: cancelled, actor: "applicant", action: "privacy.consent_withdrawn",
                details: ["purpose": purpose.rawValue, "cancelled": cancelled?.uuidString ?? "-"])
        }
        return Withdrawal(purpose: purpose.rawValue, withdrawnAt: at, cancelledApplication: cancelled)
    }
}
