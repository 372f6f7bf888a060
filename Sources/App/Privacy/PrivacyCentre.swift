import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// The person's side of PIPL arts. 44–47 for everything held under their phone: see it (unmasked, after a fresh SMS
/// code), copy it (JSON and PDF, 24 hours), correct what may be corrected, withdraw consents, and ask for erasure.
/// Every step is audited, in the transaction of what it changes.
struct PrivacyCentre {
    let db: Database
    let services: YidaiServices
    var now: Date { services.clock.now() }
    var cipher: FieldCipher { services.cipher }
    var vault: PersonVault { PersonVault(db: db, services: services) }

    static let sessionLifetime: TimeInterval = 600
    /// From the retention rules: a copy is downloadable for 24 hours.
    static let exportLifetime = TimeInterval((RetentionRules.rules.first { $0.data == "export" }?.keepHours ?? 24) * 3600)
    /// PIPL art. 50: requests are answered within 15 working days.
    static let answerWorkingDays = 15

    // MARK: - Step-up

    struct StepUpRequest: Content {
        var phone: String?
        var smsCode: String?
    }

    struct StepUpAnswer: Content {
        let token: String
        let expiresAt: Date
    }

    func stepUp(_ body: StepUpRequest, client: String) async throws -> StepUpAnswer {
        let phone = try JourneyService.phone(body.phone)
        guard let code = body.smsCode?.trimmingCharacters(in: .whitespaces), !code.isEmpty else { throw APIError.missing("smsCode") }
        let codes = OneTimeCodes(db: db, services: services)
        let proof = try await codes.check(code, phone: phone, purpose: .privacy, field: "smsCode")
        let token = SecretHash.randomToken()
        let session = PrivacySession()
        session.tokenHash = SecretHash.sha256Hex(token)
        session.phoneIndex = cipher.blindIndex(phone.value, purpose: "phone")
        session.createdAt = now
        session.expiresAt = now.addingTimeInterval(Self.sessionLifetime)
        let services = services
        try await db.writeTransaction { tx in
            try await codes.consume(proof, on: tx)
            try await session.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "applicant", action: "privacy.stepped_up", details: ["phone": phone.masked, "client": client])
        }
        return StepUpAnswer(token: token, expiresAt: session.expiresAt)
    }

    /// The phone a step-up token proves, or 401: a journey token, an expired or an unknown one are not enough.
    func person(token raw: String?) async throws -> String {
        guard let raw, !raw.isEmpty,
            let session = try await PrivacySession.query(on: db).filter(\.$tokenHash == SecretHash.sha256Hex(raw)).first(),
            session.expiresAt > now
        else {
            throw APIError(.unauthorized, code: "step_up_required",
                           message: "The privacy centre needs a fresh SMS code: POST /api/v1/privacy/step-up with a code sent for purpose privacy (valid 10 minutes).",
                           messageZh: "查看个人信息需要重新验证手机号。")
        }
        return session.phoneIndex
    }

    // MARK: - Applications of the person

    func applications(of phoneIndex: String) async throws -> [LoanApplication] {
        try await LoanApplication.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$lastActivityAt, .descending).all()
    }

    /// The application still in progress (not decided-and-closed), if any: what withdrawing a consent would cancel.
    static func open(_ applications: [LoanApplication]) -> LoanApplication? {
        applications.first { app in
            guard let state = try? app.applicationState else { return false }
            return !state.isTerminal && state != .disbursing && app.privacyState == nil
        }
    }

    // MARK: - Correct

    struct Correction: Content {
        var address: String?
        var aboutYou: AboutYouRequest?
    }

    /// The address, the facts and the emergency contact, while the application is not decided; the identity itself
    /// only by repeating the ID-card step.
    func correct(_ phoneIndex: String, _ body: Correction) async throws {
        guard body.address != nil || body.aboutYou != nil else {
            throw APIError.invalid("address", "Send address or aboutYou (the facts and the emergency contact) to correct.", zh: "请填写要更正的内容。")
        }
        let applications = try await applications(of: phoneIndex)
        guard let application = Self.open(applications), let state = try? application.applicationState, !state.isDecided else {
            throw APIError(.conflict, code: "nothing_to_correct",
                           message: "Only an application that is not decided yet can be corrected here; a decided one is kept as it was decided. Your name and ID number change only by repeating the ID card step.",
                           messageZh: "仅可更正尚未审批的申请；姓名和身份证号需重新进行身份证识别。")
        }
        var changed: [String] = []
        if let raw = body.address {
            let address = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (6...100).contains(address.count) else { throw APIError.invalid("address", "address must be 6 to 100 characters.", zh: "地址应为6至100个字。") }
            guard application.addressSealed != nil else {
                throw APIError(.conflict, code: "step_out_of_order", message: "There is no address yet: complete the ID card step first.", messageZh: "请先完成身份证识别。", field: "address")
            }
            application.addressSealed = try await vault.seal(address, phoneIndex: phoneIndex, as: .kept)
            changed.append("address")
        }
        if let about = body.aboutYou {
            guard application.aboutYouSealed != nil else {
                throw APIError(.conflict, code: "step_out_of_order", message: "There are no facts yet: complete the about-you step first.", messageZh: "请先补充个人信息。", field: "aboutYou")
            }
            let journey = JourneyService(db: db, services: services, logger: Logger(label: "yidai.privacy"), client: .init(address: "privacy", device: "privacy"))
            let identity = try await journey.identity(of: application)
            let facts: AboutYouFacts
            do {
                facts = try AboutYouFacts(
                    employer: about.employer, employmentType: about.employmentType, monthlyIncome: about.monthlyIncome, housing: about.housing,
                    maritalStatus: about.maritalStatus, education: about.education, loanPurpose: about.loanPurpose,
                    contactName: about.emergencyContact?.name, contactRelationship: about.emergencyContact?.relationship,
                    contactPhone: about.emergencyContact?.phone, applicantPhone: identity.phone)
            } catch { throw APIError(error) }
            application.aboutYouSealed = try await vault.seal(String(decoding: try JSONEncoder().encode(facts), as: UTF8.self), phoneIndex: phoneIndex, as: .general)
            changed.append("aboutYou")
        }
        try await ApplicationStore(db: db, services: services).commit(
            application, actor: "applicant", action: "privacy.corrected", details: ["fields": changed.joined(separator: ",")])
    }

    // MARK: - Erasure requests

    struct ErasureView: Content {
        let id: UUID
        let state: String
        let receivedAt: Date
        /// The legal answer-by date (15 working days).
        let deadline: Date
        /// What will happen, in plain Chinese.
        let explanation: String
    }

    /// One open request per person: a second one (or two at the same moment) answers with the first.
    func requestErasure(_ phoneIndex: String) async throws -> ErasureView {
        let applications = try await applications(of: phoneIndex)
        var masked = "—"
        if let first = applications.first, let phone = try await vault.openIfKept(first.phoneSealed) { masked = PersonalDataMask.phone(phone) }
        let candidate = ErasureRequest()
        candidate.id = RandomID.uuid()
        candidate.phoneIndex = phoneIndex
        candidate.phoneMasked = masked
        candidate.state = "accepted"
        candidate.receivedAt = now
        candidate.deadline = BusinessHours.addingWorkingDays(Self.answerWorkingDays, to: now)
        candidate.version = 0
        let services = services
        let phoneMasked = masked
        let request = try await db.writeTransaction { tx -> ErasureRequest in
            try await tx.lock(name: "erasure:" + phoneIndex)
            if let pending = try await ErasureRequest.query(on: tx).filter(\.$phoneIndex == phoneIndex).filter(\.$state == "accepted").first() {
                return pending
            }
            try await candidate.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "applicant", action: "privacy.erasure_requested",
                details: ["request": candidate.id!.uuidString, "phone": phoneMasked, "deadline": ISO8601DateFormatter().string(from: candidate.deadline)])
            return candidate
        }
        return try view(request, explanation: try await explanation(phoneIndex))
    }

    func view(_ request: ErasureRequest, explanation: String) throws -> ErasureView {
        ErasureView(id: try request.requireID(), state: request.state, receivedAt: request.receivedAt, deadline: request.deadline, explanation: explanation)
    }

    func explanation(_ phoneIndex: String) async throws -> String {
        let borrower = try await Loan.query(on: db).filter(\.$phoneIndex == phoneIndex).count() > 0
        return borrower
            ? "您有借款记录：依照《反洗钱法》及借款合同，身份识别资料、借款合同与交易记录须保存至借款结清后5年，届时销毁；在此之前仅作合规保存，不再用于营销或审批。其余信息将在15个工作日内删除。"
            : "我们将在15个工作日内删除您的全部个人信息（加密数据的密钥一并销毁），删除后无法恢复。"
    }
}

/// Working days for legal deadlines: Monday to Friday (public holidays are not modelled yet).
enum BusinessHours {
    static func addingWorkingDays(_ days: Int, to date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        var current = date
        var left = days
        while left > 0 {
            current = calendar.date(byAdding: .day, value: 1, to: current)!
            let weekday = calendar.component(.weekday, from: current)
            if weekday != 1 && weekday != 7 { left -= 1 }
        }
        return current
    }
}
