import Fluent
import Foundation
import LendingCore
import Vapor

/// What staff change: a reviewer's decision on a referred application and its second confirmation (maker-checker),
/// revealing one personal field with a reason, and the admin's management of staff. Each change is a compare-and-set
/// on the application (or a write transaction) with its audit entry, so two reviewers at once cannot both decide.
struct StaffReviews {
    let applications: StaffApplications
    var db: Database { applications.db }
    var services: YidaiServices { applications.services }
    var principal: StaffPrincipal { applications.principal }
    var now: Date { services.clock.now() }
    var actor: String { "staff:\(principal.login)" }

    static let limitValidity: TimeInterval = 30 * 86_400
    var reviewPolicy: ManualReview.Policy { services.config.reviewPolicy }

    // MARK: - Review

    func review(_ id: UUID?, _ body: ReviewRequest) async throws -> ReviewAnswer {
        let (application, _) = try await applications.find(id, for: .reviewApplication)
        guard let raw = body.decision, !raw.isEmpty else { throw APIError.missing("decision") }
        guard let decision = ManualReview.Decision(rawValue: raw) else {
            throw APIError.invalid("decision", "decision must be approve or decline.", zh: "请选择批准或拒绝。")
        }
        let note = try Self.note(body.note, required: false)
        var approval: ManualReview.Approval?
        var reason: ManualReview.DeclineReason?
        do {
            switch decision {
            case .approve: approval = try ManualReview.approval(creditLimit: body.creditLimit, annualRate: body.annualRate, policy: reviewPolicy)
            case .decline:
                reason = try ManualReview.declineReason(body.reason)
                if reason?.code == "other" { _ = try Self.note(body.note, required: true) }
            }
        } catch let error as FieldError { throw APIError(error) }
        let applicationID = try application.requireID()
        try await requireReferredWithoutPending(application)

        let record = ReviewDecision()
        record.applicationID = applicationID
        record.reviewerLogin = principal.login
        record.decision = decision.rawValue
        record.note = note
        record.decidedAt = now
        var details = ["decision": decision.rawValue, "reviewer": principal.login, "note": note ?? "-"]
        var apr: String?
        if let approval {
            let suggested = try await suggestedLimitFen(applicationID)
            record.creditLimit = Money.string(fen: approval.limitFen)
            record.annualRate = Money.string(approval.annualRatePercent)
            apr = try await Self.apr(limitFen: approval.limitFen, rate: approval.annualRatePercent, db: db, services: services)
            record.apr = apr
            record.needsConfirmation = ManualReview.needsSecondReview(limitFen: approval.limitFen, suggestedLimitFen: suggested, policy: reviewPolicy)
            record.state = record.needsConfirmation ? ReviewDecision.State.awaitingConfirmation : ReviewDecision.State.final
            details["creditLimit"] = record.creditLimit
            details["annualRate"] = record.annualRate
            details["apr"] = apr
            if !record.needsConfirmation { approve(application, record) }
        } else if let reason {
            record.reason = reason.code
            record.needsConfirmation = false
            record.state = ReviewDecision.State.final
            details["reason"] = reason.code
            application.state = ApplicationState.declined.rawValue
            application.decision = ApplicationState.declined.rawValue
            application.decisionReasons = String(decoding: try JSONEncoder().encode([PolicyReason(code: "MANUAL_REVIEW_" + reason.code.uppercased(), message: reason.titleZh)]), as: UTF8.self)
            application.decidedAt = now
        }
        let action = decision == .decline ? "review.declined" : (record.needsConfirmation ? "review.proposed" : "review.approved")
        try await commit(application, action: action, details: details) { tx in try await record.create(on: tx) }
        return ReviewAnswer(state: application.state, pendingConfirmation: record.needsConfirmation, apr: apr)
    }

    func confirm(_ id: UUID?, _ body: ConfirmationRequest) async throws -> ConfirmationAnswer {
        let (application, _) = try await applications.find(id, for: .confirmReview)
        guard let confirm = body.confirm else { throw APIError.missing("confirm") }
        let note = try Self.note(body.note, required: !confirm)
        let applicationID = try application.requireID()
        guard application.state == ApplicationState.referred.rawValue,
            let pending = try await ReviewDecision.query(on: db).filter(\.$applicationID == applicationID)
                .filter(\.$state == ReviewDecision.State.awaitingConfirmation).first()
        else {
            throw APIError(.conflict, code: "nothing_to_confirm", message: "This application has no decision awaiting a second review (it is \(application.state)).",
                           messageZh: "该申请没有待复核的审批决定。")
        }
        guard ManualReview.mayConfirm(maker: pending.reviewerLogin, confirmer: principal.login) else {
            throw APIError(.conflict, code: "own_decision", message: "A second reviewer must confirm this decision; nobody confirms their own.",
                           messageZh: "不能复核自己做出的审批决定，请由另一位审核员复核。")
        }
        pending.confirmerLogin = principal.login
        pending.confirmationNote = note
        pending.confirmedAt = now
        pending.state = confirm ? ReviewDecision.State.confirmed : ReviewDecision.State.rejected
        if confirm { approve(application, pending) }
        try await commit(
            application, action: confirm ? "review.confirmed" : "review.confirmation_rejected",
            details: ["maker": pending.reviewerLogin, "confirmer": principal.login, "creditLimit": pending.creditLimit ?? "-", "note": note ?? "-"]
        ) { tx in try await pending.save(on: tx) }
        return ConfirmationAnswer(state: application.state)
    }

    /// The approved offer goes on the application as an automatic approval would: limit, rate, APR, 30 days.
    private func approve(_ application: LoanApplication, _ record: ReviewDecision) {
        application.state = ApplicationState.approved.rawValue
        application.decision = ApplicationState.approved.rawValue
        application.creditLimit = record.creditLimit
        application.annualRate = record.annualRate
        application.apr = record.apr
        application.decidedAt = now
        application.limitExpiresAt = now.addingTimeInterval(Self.limitValidity)
    }

    private func requireReferredWithoutPending(_ application: LoanApplication) async throws {
        guard application.state == ApplicationState.referred.rawValue else {
            throw APIError(.conflict, code: "not_referred",
                           message: "Only a referred application can be reviewed; this one is \(application.state).",
                           messageZh: "该申请不在人工审核中（当前：\(ApplicationStateText.chinese(application.state))）。")
        }
        if let pending = try await ReviewDecision.query(on: db).filter(\.$applicationID == application.requireID())
            .filter(\.$state == ReviewDecision.State.awaitingConfirmation).first()
        {
            throw Self.decidedBy(pending)
        }
    }

    static func decidedBy(_ review: ReviewDecision) -> APIError {
        let what = review.decision == "approve" ? "approved \(review.creditLimit ?? "") yuan at \(review.annualRate ?? "")%" : "declined (\(review.reason ?? ""))"
        return APIError(.conflict, code: "already_decided",
                        message: "\(review.reviewerLogin) has already \(what)\(review.state == ReviewDecision.State.awaitingConfirmation ? ", awaiting a second review" : "").",
                        messageZh: "\(review.reviewerLogin)已做出审批决定\(review.state == ReviewDecision.State.awaitingConfirmation ? "，待复核" : "")。")
    }

    /// The change, its review row and its audit entry as one compare-and-set; losing a race answers 409 with the winner.
    private func commit(
        _ application: LoanApplication, action: String, details: [String: String], also: @escaping @Sendable (any Database) async throws -> Void
    ) async throws {
        do {
            try await ApplicationStore(db: db, services: services).commit(application, actor: actor, action: action, details: details, also: also)
        } catch let error as APIError where error.code == "application_changed" {
            let id = try application.requireID()
            if let winner = try await ReviewDecision.query(on: db).filter(\.$applicationID == id).sort(\.$decidedAt, .descending).first() {
                throw Self.decidedBy(winner)
            }
            throw error
        }
    }

    func suggestedLimitFen(_ id: UUID) async throws -> Int64? {
        guard let record = try await DecisionRecord.query(on: db).filter(\.$applicationID == id).sort(\.$decidedAt, .descending).first(),
            let text = StaffApplications.decisionView(record).suggestedLimit, let value = Money.parse(text)
        else { return nil }
        return Money.fen(exactly: value)
    }

    /// The APR (IRR) of the offer, as everywhere else: the whole limit over 12 months in equal installments.
    static func apr(limitFen: Int64, rate: Decimal, db: Database, services: YidaiServices) async throws -> String {
        let date = try await BusinessDateStore(db: db, clock: services.clock).current()
        let terms = LoanTerms(principal: Money.decimal(fen: limitFen), annualRatePercent: rate, termMonths: 12, method: .equalInstallment, startDate: date)
        let schedule = try withFieldErrors(status: .unprocessableEntity) { try LoanCalculator.schedule(for: terms) }
        return Money.string(schedule.apr)
    }

    static func note(_ raw: String?, required: Bool) throws -> String? {
        let note = raw?.trimmingCharacters(in: .whitespacesAndNewlines)
        if required, note?.isEmpty ?? true { throw APIError.invalid("note", "Write a note saying why.", zh: "请填写说明。") }
        guard let note, !note.isEmpty else { return nil }
        guard note.count <= 500 else { throw APIError.invalid("note", "note is at most 500 characters.", zh: "说明不超过500字。") }
        return note
    }

    // MARK: - Reveal

    static let revealable = ["name", "idNumber", "phone"]

    /// One personal field in full, for a stated reason; the reveal itself is in the audit trail (who, whose, what, why).
    func reveal(_ id: UUID?, _ body: RevealRequest) async throws -> RevealAnswer {
        let (application, _) = try await applications.find(id, for: .revealPersonalData)
        // After an erasure request the person's data is used for nothing: kept only for compliance and the auditor.
        guard application.privacyState == nil else {
            throw APIError(.conflict, code: "personal_data_locked",
                           message: "The person asked for their data to be erased: it is locked (kept only as the law requires) or destroyed, and cannot be shown.",
                           messageZh: "客户已申请删除个人信息，相关信息已锁定或删除，不能查看。")
        }
        guard let field = body.field, !field.isEmpty else { throw APIError.missing("field") }
        guard Self.revealable.contains(field) else {
            throw APIError.invalid("field", "field must be one of name, idNumber, phone.", zh: "只能查看姓名、身份证号或手机号。")
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard reason.count >= 4 else {
            throw APIError.invalid("reason", "State why you need to see this (at least 4 characters).", zh: "请说明查看原因（至少4个字）。")
        }
        guard reason.count <= 200 else { throw APIError.invalid("reason", "reason is at most 200 characters.", zh: "原因不超过200字。") }
        let cipher = services.cipher
        let sealed: String? =
            switch field {
            case "name": application.nameSealed
            case "idNumber": application.idNumberSealed
            default: application.phoneSealed
            }
        guard let sealed else {
            throw APIError(.conflict, code: "not_provided", message: "The applicant has not given this yet.", messageZh: "申请人尚未提供该信息。", field: "field")
        }
        let value = try await PersonVault(db: db, services: services).open(sealed)
        try await AuditTrail(db: db, services: services).record(
            application: application.id, actor: actor, action: "personal_data.revealed",
            details: ["field": field, "reason": reason, "staff": principal.login, "role": principal.role.rawValue])
        return RevealAnswer(value: value)
    }

    // MARK: - Staff management (admin)

    /// Disables or enables a member; disabling ends every session of theirs at once.
    func update(member login: String?, _ body: StaffMemberUpdate) async throws -> StaffSessionView.Member {
        guard let member = try await StaffMember.query(on: db).filter(\.$login == (login ?? "").lowercased()).first() else {
            throw APIError.notFound("staff member")
        }
        guard let active = body.active else { throw APIError.missing("active") }
        let now = now
        let id = try member.requireID()
        let services = services
        let actor = actor
        member.active = active
        try await db.writeTransaction { tx in
            try await member.save(on: tx)
            if !active { try await StaffSession.query(on: tx).filter(\.$staffID == id).filter(\.$revokedAt == nil).set(\.$revokedAt, to: now).update() }
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: actor, action: active ? "staff.enabled" : "staff.disabled", details: ["login": member.login])
        }
        return .init(login: member.login, name: member.displayName, role: member.role, branch: member.branchCode)
    }

    /// Clears a member's second factor (a lost phone): their sessions end, and the next sign-in enrols anew.
    func resetSecondFactor(member login: String?) async throws {
        guard let member = try await StaffMember.query(on: db).filter(\.$login == (login ?? "").lowercased()).first() else {
            throw APIError.notFound("staff member")
        }
        let now = now
        let id = try member.requireID()
        let services = services
        let actor = actor
        try await db.writeTransaction { tx in
            try await StaffMember.query(on: tx).filter(\.$id == id).set(\.$totpSecretSealed, to: nil).set(\.$totpEnrolledAt, to: nil).update()
            try await StaffSession.query(on: tx).filter(\.$staffID == id).filter(\.$revokedAt == nil).set(\.$revokedAt, to: now).update()
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: actor, action: "staff.second_factor_reset", details: ["login": member.login])
        }
    }
}
