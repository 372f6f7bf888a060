import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Vapor

/// Step 1 of the journey: the SMS code, signing in (the phone's open application resumed, or a new one), the signed-in
/// applicant's application (expired when idle too long), signing out, and the customer manager's QR code.
extension JourneyService {
    // MARK: - Step 1: phone and SMS code

    /// A code for signing in (`purpose` absent or `sign_in`) or for the lead page (`lead`); the steps inside an
    /// application send their own codes.
    func sendSignInCode(_ body: SMSCodeRequest) async throws -> OneTimeCodes.Sent {
        let phone = try Self.phone(body.phone)
        let purpose: OneTimeCodes.Purpose
        switch body.purpose?.trimmingCharacters(in: .whitespaces) {
        case nil, "", "sign_in": purpose = .signIn
        case "lead": purpose = .lead
        case "privacy": purpose = .privacy
        case let other?:
            throw APIError.invalid("purpose", "purpose must be sign_in, lead or privacy (not \(other.prefix(40))); the other codes are sent by their own steps.", zh: "验证码用途不正确。")
        }
        return try await codes.send(to: phone, purpose: purpose, applicationID: nil, clientAddress: client.address)
    }

    /// Verifies the code, then resumes the phone's open application or starts a new one.
    func signIn(_ body: SignInRequest) async throws -> (token: String, expiresAt: Date, application: LoanApplication) {
        let phone = try Self.phone(body.phone)
        guard let code = body.code, !code.isEmpty else { throw APIError.missing("code") }
        let clientKey = "signin:" + cipher.blindIndex(client.address, purpose: "client")
        if let wait = try await services.limiter.attempt(clientKey, rule: RateRules.signInPerClient, now: now, on: db) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many sign-in attempts. Try again in \(wait) seconds.", zh: "尝试次数过多，请\(wait)秒后再试。")
        }
        let proof = try await codes.check(code, phone: phone, purpose: .signIn)
        let phoneIndex = cipher.blindIndex(phone.value, purpose: "phone")
        let referral = try await knownManagerCode(body.cm)
        let branchOpen = try await Rollout(db: db, services: services).acceptsNewApplications(throughManager: referral)
        let channel = Self.channel(body.ch)
        let phoneSealed = try await vault.seal(phone.value, phoneIndex: phoneIndex, as: .kept)
        let token = SecretHash.randomToken()
        let journey = self
        // One transaction: the code is used up only together with the application, its audit entry and the
        // session; the phone's lock keeps two sign-ins at once from starting two applications.
        return try await db.writeTransaction { tx in
            let journey = journey.on(tx)
            try await journey.codes.consume(proof, on: tx)
            try await tx.lock(name: "phone:" + phoneIndex)
            let application: LoanApplication
            var started = false
            if let open = try await journey.openApplication(phoneIndex: phoneIndex) {
                application = open
                if let referral {
                    application.cmLast = referral
                    application.channelLast = channel
                    application.cmLastAt = journey.now
                    try await journey.save(application, action: "referral.touched", details: ["cm": referral, "channel": channel ?? "-"])
                }
            } else {
                // A new application through a manager of a branch not online yet: refused (the code stays unused);
                // applications already started are never cut off.
                guard branchOpen else { throw Rollout.notOnline }
                application = LoanApplication(phoneIndex: phoneIndex, phoneSealed: phoneSealed, state: ApplicationState.started.rawValue, now: journey.now)
                application.campaign = body.campaign.flatMap(Self.channel)
                if let referral {
                    application.cmFirst = referral
                    application.channelFirst = channel
                    application.cmLast = referral
                    application.channelLast = channel
                    application.cmLastAt = journey.now
                }
                if let sql = tx as? any SQLDatabase { try await application.insertRow(on: sql) } else { try await application.create(on: tx) }
                started = true
            }
            try await JourneyFunnel.record(application, on: tx, services: journey.services)
            let session = ApplicantSession()
            session.tokenHash = SecretHash.sha256Hex(token)
            session.applicationID = try application.requireID()
            session.phoneIndex = phoneIndex
            session.createdAt = journey.now
            session.expiresAt = journey.now.addingTimeInterval(Self.sessionLifetime)
            try await session.insert(on: tx)
            // The audit entries last: the start, then the phone's leads, if any (on SQLite each holds the lane's head
            // until the commit).
            if started {
                try await journey.audit.record(application: application.id, actor: "applicant", action: "application.started",
                                               details: ["phone": phone.masked, "cm": referral ?? "-", "channel": channel ?? "-", "state": "started"])
            }
            try await LeadBook.applicationStarted(try application.requireID(), phoneIndex: phoneIndex, on: tx, services: journey.services)
            return (token, session.expiresAt, application)
        }
    }

    /// The application the signed-in applicant's session was opened for (expired first when it has been idle too
    /// long), or nil when it no longer exists.
    func application(of applicant: SignedInApplicant, preloaded: LoanApplication? = nil) async throws -> LoanApplication? {
        var application = preloaded?.id == applicant.applicationID ? preloaded : nil
        if application == nil { application = try await LoanApplication.load(applicant.applicationID, on: db) }
        guard let application else { return nil }
        try await expireIfIdle(application)
        return application
    }

    func signOut(_ applicant: SignedInApplicant) async throws {
        guard let session = try await ApplicantSession.find(applicant.sessionID, on: db) else { return }
        session.revokedAt = now
        try await db.writeTransaction { tx in try await session.save(on: tx) }
    }

    fileprivate func openApplication(phoneIndex: String) async throws -> LoanApplication? {
        for application in try await LoanApplication.load(phoneIndex: phoneIndex, on: db) {
            try await expireIfIdle(application)
            let state = try application.applicationState
            if state != .cancelled && state != .expired { return application }
        }
        return nil
    }

    /// End of day records the expiry of every application idle for 30 days (a page view only shows it).
    func expireIdleApplications() async throws -> Int {
        let cutoff = now.addingTimeInterval(-Self.inactivityExpiry)
        let open = ApplicationState.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        let idle = try await LoanApplication.query(on: db).filter(\.$state ~~ open).filter(\.$lastActivityAt < cutoff).all()
        var expired = 0
        for application in idle {
            try await expireIfIdle(application)
            if application.state == ApplicationState.expired.rawValue { expired += 1 }
        }
        return expired
    }

    /// 30 days without activity expire an application that has not been paid out (domain.md).
    private func expireIfIdle(_ application: LoanApplication) async throws {
        let state = try application.applicationState
        guard !state.isTerminal, now.timeIntervalSince(application.lastActivityAt) > Self.inactivityExpiry,
              ApplicationStateMachine.canTransition(from: state, to: .expired)
        else { return }
        application.state = ApplicationState.expired.rawValue
        if readsOnly { return }  // shown as expired; a GET writes nothing
        do {
            try await store.commit(application, actor: "system", action: "application.expired", details: ["from": state.rawValue])
        } catch let error as APIError where error.code == "application_changed" {
            // Someone acted on it at this moment, so it was not idle after all.
            application.state = state.rawValue
        }
    }

    private func knownManagerCode(_ raw: String?) async throws -> String? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces).uppercased(), !raw.isEmpty, raw.count <= 20 else { return nil }
        let staff = try await StaffMember.query(on: db).filter(\.$managerCode == raw).filter(\.$active == true).first()
        return staff == nil ? nil : raw
    }

    static func channel(_ raw: String?) -> String? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty else { return nil }
        let allowed = raw.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return allowed.isEmpty ? nil : String(allowed.prefix(32))
    }

    /// Records a later QR-code touch on an open application (pages keep `cm`/`ch` in a cookie until sign-in).
    func touch(_ application: LoanApplication, cm: String?, ch: String?) async throws {
        guard let code = try await knownManagerCode(cm) else { return }
        application.cmLast = code
        application.channelLast = Self.channel(ch)
        application.cmLastAt = now
        try await save(application, action: "referral.touched", details: ["cm": code, "channel": application.channelLast ?? "-"])
    }
}
