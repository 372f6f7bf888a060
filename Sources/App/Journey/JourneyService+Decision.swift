import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// Steps 5 to 7 of the journey: the credit-report authorization and the report, the facts about the applicant, the
/// decision, the loan request, and cancelling.
extension JourneyService {
    // MARK: - Step 5: credit-report authorization

    func sendAuthorizationCode(_ application: LoanApplication) async throws -> OneTimeCodes.Sent {
        try require(.authorization, application)
        let identity = try await identity(of: application)
        return try await codes.send(to: identity.phone, purpose: .creditAuthorization, applicationID: application.id, clientAddress: client.address)
    }

    func signAuthorization(_ application: LoanApplication, _ body: AuthorizationSignRequest) async throws {
        try require(.authorization, application)
        let document = CreditAuthorizationText.current
        guard let version = body.version, !version.isEmpty else { throw APIError.missing("version") }
        guard version == document.version else {
            throw APIError.invalid("version", "The authorization text has changed (current version \(document.version)); read it again before signing.", zh: "授权书已更新，请重新阅读后签署。")
        }
        if let sha = body.sha256, sha.lowercased() != document.sha256 {
            throw APIError.invalid("sha256", "sha256 does not match the current authorization text.", zh: "授权书内容校验不一致，请刷新后重试。")
        }
        guard body.agree == true else {
            throw APIError.invalid("agree", "You must agree to the authorization to continue.", zh: "请阅读并同意授权书。")
        }
        guard let code = body.code, !code.isEmpty else { throw APIError.missing("code") }
        let identity = try await identity(of: application)
        let proof = try await codes.check(code, phone: identity.phone, purpose: .creditAuthorization)
        let state = try application.applicationState
        try Self.transition(from: state, to: .creditAuthorized)
        let reference = "AUTH-" + (try application.requireID().uuidString.prefix(8)) + "-" + document.version
        // The bureau is only called after the authorization is on record (征信业管理条例 art. 18).
        application.authorizationVersion = document.version
        application.authorizationSHA256 = document.sha256
        application.authorizationSignedAt = now
        application.authorizationClient = client.address
        application.authorizationDevice = String(client.device.prefix(200))
        application.authorizationSMSProof = proof.id.uuidString
        try await save(
            application, action: "credit_authorization.signed", details: ["version": document.version, "sha256": document.sha256, "smsProof": proof.id.uuidString],
            consuming: proof)
        let report = try await providerCall("bureau") {
            try await services.providers.bureau.report(name: identity.name, idNumber: identity.idNumber, authorizationReference: reference)
        }
        application.bureauReportSealed = try await vault.seal(String(decoding: try JSONEncoder().encode(report), as: UTF8.self), phoneIndex: application.phoneIndex, as: .general)
        application.state = ApplicationState.creditAuthorized.rawValue
        try await save(application, action: "credit_report.pulled", details: ["reportId": report.reportId, "state": "credit_authorized"])
    }

    // MARK: - Step 6: about you

    func saveAboutYou(_ application: LoanApplication, _ body: AboutYouRequest) async throws {
        try require(.aboutYou, application)
        let identity = try await identity(of: application)
        let facts: AboutYouFacts
        do {
            facts = try AboutYouFacts(
                employer: body.employer, employmentType: body.employmentType, monthlyIncome: body.monthlyIncome, housing: body.housing,
                maritalStatus: body.maritalStatus, education: body.education, loanPurpose: body.loanPurpose,
                contactName: body.emergencyContact?.name, contactRelationship: body.emergencyContact?.relationship,
                contactPhone: body.emergencyContact?.phone, applicantPhone: identity.phone)
        } catch { throw APIError(error) }
        let state = try application.applicationState
        try Self.transition(from: state, to: .infoCompleted)
        application.aboutYouSealed = try await vault.seal(String(decoding: try JSONEncoder().encode(facts), as: UTF8.self), phoneIndex: application.phoneIndex, as: .general)
        application.infoCompletedAt = now
        application.state = ApplicationState.infoCompleted.rawValue
        try await save(application, action: "about_you.saved", details: facts.auditSummary)
    }

    func aboutYou(_ application: LoanApplication) async throws -> AboutYouFacts? {
        guard let sealed = application.aboutYouSealed else { return nil }
        return try JSONDecoder().decode(AboutYouFacts.self, from: Data(try await vault.open(sealed).utf8))
    }

    // MARK: - Step 7: decision and loan request

    func decide(_ application: LoanApplication) async throws {
        try require(.decision, application)
        let id = try application.requireID()
        if let wait = try await services.limiter.attempt("decision:\(id)", rule: RateRules.decisionPerApplication, now: now, on: db) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many decision requests. Try again in \(wait) seconds.", zh: "请求过于频繁，请稍后再试。")
        }
        let identity = try await identity(of: application)
        guard let facts = try await aboutYou(application), let reportSealed = application.bureauReportSealed else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the about you step first.", messageZh: "请先补充个人信息。")
        }
        let report = try JSONDecoder().decode(CreditReport.self, from: Data(try await vault.open(reportSealed).utf8))
        let input = CreditDecisionInput(age: identity.idNumber.age(on: today), facts: facts, report: report)
        let outcome = try await services.policies.decide(input, on: db)
        let state = try application.applicationState
        let target: ApplicationState = switch outcome.decision {
        case "approved": .approved
        case "referred": .referred
        default: .declined
        }
        try Self.transition(from: state, to: target)
        let record = DecisionRecord()
        record.applicationID = id
        record.policyVersion = outcome.policyVersion
        record.policySHA256 = outcome.policySHA256
        record.inputJSON = input.maskedJSON
        record.outputJSON = outcome.outputJSON
        record.traceJSON = outcome.traceJSON
        record.decidedAt = now
        application.state = target.rawValue
        application.decision = outcome.decision
        application.creditLimit = target == .approved ? Money.string(outcome.creditLimit) : nil
        application.annualRate = target == .approved ? Money.string(outcome.annualRate) : nil
        application.apr = target == .approved ? Money.string(outcome.apr) : nil
        application.decisionReasons = String(decoding: try JSONEncoder().encode(outcome.reasons), as: UTF8.self)
        application.decidedAt = now
        application.limitExpiresAt = target == .approved ? now.addingTimeInterval(Self.limitValidity) : nil
        application.policyVersion = outcome.policyVersion
        try await save(application, action: "decision.made", details: [
            "decision": outcome.decision, "creditLimit": application.creditLimit ?? "-", "annualRate": application.annualRate ?? "-",
            "policy": outcome.policyVersion, "reasons": outcome.reasons.map(\.code).joined(separator: ","),
        ]) { tx in
            try await record.insert(on: tx)
        }
        services.metrics.recordDecision(outcome: target.rawValue)
    }

    func requestLoan(_ application: LoanApplication, _ body: LoanRequestInput) async throws -> RepaymentSchedule {
        try require(.loanRequest, application)
        if let expires = application.limitExpiresAt, expires <= now {
            throw APIError(.conflict, code: "limit_expired", message: "The approved limit has expired (valid 30 days). Start a new application.", messageZh: "额度已过有效期，请重新申请。")
        }
        let termMonths = try body.termMonths?.value(field: "termMonths")
        let (offer, schedule) = try await quote(
            application, amount: body.amount, termMonths: termMonths, method: body.method, purpose: body.purpose)
        let state = try application.applicationState
        try Self.transition(from: state, to: .loanRequested)
        application.loanAmount = Money.string(offer.amount)
        application.loanTermMonths = offer.termMonths
        application.loanMethod = offer.method.rawValue
        application.loanPurpose = offer.purpose
        application.loanRequestedAt = now
        application.state = ApplicationState.loanRequested.rawValue
        try await save(application, action: "loan.requested", details: [
            "amount": Money.string(offer.amount), "termMonths": String(offer.termMonths), "method": offer.method.rawValue, "purpose": offer.purpose,
        ])
        return schedule
    }

    /// The offer the applicant chose, checked against the approved limit, and its repayment plan from the business
    /// date: the loan page's live plan and the loan request both come from here (and the plan from `LoanTermsBuilder`).
    func quote(
        _ application: LoanApplication, amount: String?, termMonths: Int?, method: String?, purpose: String?
    ) async throws -> (LoanOffer, RepaymentSchedule) {
        guard let limitText = application.creditLimit, let limit = Money.parse(limitText) else { throw LoanTermsBuilder.missing("creditLimit") }
        guard let rateText = application.annualRate, let rate = Money.parse(rateText) else { throw LoanTermsBuilder.missing("annualRate") }
        let offer: LoanOffer
        do {
            offer = try LoanOfferRules.validate(amount: amount, termMonths: termMonths, method: method, purpose: purpose, creditLimit: limit)
        } catch { throw APIError(error) }
        let requested = try LoanTermsBuilder.offered(offer, annualRatePercent: rate)
        let businessDate = try await BusinessDateStore(db: db, clock: services.clock).current()
        return (offer, try LoanTermsBuilder.schedule(requested, startDate: businessDate))
    }

    /// Cancels the application. After signing only while the payout has not been sent: the queued payout is
    /// withdrawn in the same transaction; once paying out has begun the answer is 409 with a plain message.
    func cancel(_ application: LoanApplication) async throws {
        let state = try application.applicationState
        if state == .disbursing || state == .disbursed {
            throw APIError(.conflict, code: "cannot_cancel",
                           message: "The loan is already being paid out to your card, so the application can no longer be cancelled. You may repay it early once it arrives.",
                           messageZh: "借款已在放款中，无法取消申请。到账后可随时提前还款。")
        }
        do { try ApplicationStateMachine.transition(from: state, to: .cancelled) } catch {
            throw APIError(.conflict, code: "cannot_cancel", message: "An application in state \(state.rawValue) can no longer be cancelled.", messageZh: "当前状态无法取消申请。")
        }
        application.state = ApplicationState.cancelled.rawValue
        let id = try application.requireID()
        let now = self.now
        try await save(application, action: "application.cancelled", details: ["from": state.rawValue]) { tx in
            try await BackgroundJob.query(on: tx).filter(\.$kind == PayoutJobs.kind).filter(\.$reference == id)
                .filter(\.$state == BackgroundJobState.queued)
                .set(\.$state, to: BackgroundJobState.cancelled).set(\.$updatedAt, to: now).update()
        }
    }
}
