import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// The applicant journey, shared by the JSON API and the H5 pages: every rule about order, limits,
/// outside checks, storage and the audit trail lives here once.
struct JourneyService: Sendable {
    let db: Database
    let services: YidaiServices
    let logger: Logger
    let client: ClientInfo

    struct ClientInfo: Sendable {
        let address: String
        let device: String
    }

    static let sessionLifetime: TimeInterval = 24 * 3600
    static let faceMaxAttempts = 3
    static let faceLock: TimeInterval = 24 * 3600
    static let inactivityExpiry: TimeInterval = 30 * 86_400
    static let limitValidity: TimeInterval = 30 * 86_400
    static let lastTouchWindow: TimeInterval = 30 * 86_400

    var cipher: FieldCipher { services.cipher }
    var now: Date { services.clock.now() }
    var audit: AuditTrail { AuditTrail(db: db, services: services) }
    var codes: OneTimeCodes { OneTimeCodes(db: db, services: services) }

    // MARK: - Step 1: phone and SMS code

    func sendSignInCode(_ body: SMSCodeRequest) async throws -> OneTimeCodes.Sent {
        let phone = try Self.phone(body.phone)
        return try await codes.send(to: phone, purpose: .signIn, applicationID: nil, clientAddress: client.address)
    }

    /// Verifies the code, then resumes the phone's open application or starts a new one.
    func signIn(_ body: SignInRequest) async throws -> (token: String, expiresAt: Date, application: LoanApplication) {
        let phone = try Self.phone(body.phone)
        guard let code = body.code, !code.isEmpty else { throw APIError.missing("code") }
        let clientKey = "signin:" + cipher.blindIndex(client.address, purpose: "client")
        if let wait = await services.limiter.attempt(clientKey, rule: RateRules.signInPerClient, now: now) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many sign-in attempts. Try again in \(wait) seconds.", zh: "尝试次数过多，请\(wait)秒后再试。")
        }
        let proof = try await codes.check(code, phone: phone, purpose: .signIn)
        let phoneIndex = cipher.blindIndex(phone.value, purpose: "phone")
        let referral = try await knownManagerCode(body.cm)
        let channel = Self.channel(body.ch)
        let phoneSealed = try cipher.seal(phone.value)
        let token = SecretHash.randomToken()
        let journey = self
        // One transaction: the code is used up only together with the application, its audit entry and the
        // session; the phone's lock keeps two sign-ins at once from starting two applications.
        return try await db.writeTransaction { tx in
            let journey = journey.on(tx)
            try await journey.codes.consume(proof, on: tx)
            try await tx.lock(name: "phone:" + phoneIndex)
            let application: LoanApplication
            if let open = try await journey.openApplication(phoneIndex: phoneIndex) {
                application = open
                if let referral {
                    application.cmLast = referral
                    application.channelLast = channel
                    application.cmLastAt = journey.now
                    try await journey.save(application, action: "referral.touched", details: ["cm": referral, "channel": channel ?? "-"])
                }
            } else {
                application = LoanApplication(phoneIndex: phoneIndex, phoneSealed: phoneSealed, state: ApplicationState.started.rawValue, now: journey.now)
                if let referral {
                    application.cmFirst = referral
                    application.channelFirst = channel
                    application.cmLast = referral
                    application.channelLast = channel
                    application.cmLastAt = journey.now
                }
                try await application.create(on: tx)
                try await journey.audit.record(application: application.id, actor: "applicant", action: "application.started",
                                               details: ["phone": phone.masked, "cm": referral ?? "-", "channel": channel ?? "-", "state": "started"])
            }
            let session = ApplicantSession()
            session.tokenHash = SecretHash.sha256Hex(token)
            session.applicationID = try application.requireID()
            session.phoneIndex = phoneIndex
            session.createdAt = journey.now
            session.expiresAt = journey.now.addingTimeInterval(Self.sessionLifetime)
            try await session.create(on: tx)
            return (token, session.expiresAt, application)
        }
    }

    /// The same service on another database handle (a transaction).
    func on(_ tx: Database) -> JourneyService { JourneyService(db: tx, services: services, logger: logger, client: client) }

    /// The application the signed-in applicant's session was opened for (expired first when it has been idle too
    /// long), or nil when it no longer exists.
    func application(of applicant: SignedInApplicant) async throws -> LoanApplication? {
        guard let application = try await LoanApplication.find(applicant.applicationID, on: db) else { return nil }
        try await expireIfIdle(application)
        return application
    }

    func signOut(_ applicant: SignedInApplicant) async throws {
        guard let session = try await ApplicantSession.find(applicant.sessionID, on: db) else { return }
        session.revokedAt = now
        try await db.writeTransaction { tx in try await session.save(on: tx) }
    }

    fileprivate func openApplication(phoneIndex: String) async throws -> LoanApplication? {
        let candidates = try await LoanApplication.query(on: db)
            .filter(\.$phoneIndex == phoneIndex)
            .sort(\.$lastActivityAt, .descending)
            .all()
        for application in candidates {
            try await expireIfIdle(application)
            let state = try application.applicationState
            if state != .cancelled && state != .expired { return application }
        }
        return nil
    }

    /// 30 days without activity expire an application that has not been paid out (domain.md).
    private func expireIfIdle(_ application: LoanApplication) async throws {
        let state = try application.applicationState
        guard !state.isTerminal, now.timeIntervalSince(application.lastActivityAt) > Self.inactivityExpiry,
              ApplicationStateMachine.canTransition(from: state, to: .expired)
        else { return }
        application.state = ApplicationState.expired.rawValue
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

    // MARK: - Step 2: ID card

    func uploadIDCard(_ application: LoanApplication, front: Data?, back: Data?) async throws -> IDCardReadingView {
        try require(.idCard, application)
        guard let front, !front.isEmpty else { throw APIError.missing("frontImage") }
        guard let back, !back.isEmpty else { throw APIError.missing("backImage") }
        try await limitUploads(application)
        let reading: IDCardReading
        do {
            reading = try await services.providers.ocr.read(front: front, back: back)
        } catch {
            throw APIError(.unprocessableEntity, code: "card_unreadable", message: "Could not read the ID card. Please retake both photos.",
                           messageZh: "无法识别证件，请重新拍摄。", field: "frontImage")
        }
        let view = IDCardReadingView(reading)
        application.ocrSealed = try cipher.seal(String(decoding: try JSONEncoder().encode(view), as: UTF8.self))
        try await save(application, action: "id_card.read", details: ["name": PersonalDataMask.name(reading.name), "idNumber": PersonalDataMask.idNumber(reading.idNumber)])
        return view
    }

    func ocrReading(_ application: LoanApplication) throws -> IDCardReadingView? {
        guard let sealed = application.ocrSealed else { return nil }
        return try JSONDecoder().decode(IDCardReadingView.self, from: Data(try cipher.open(sealed).utf8))
    }

    func confirmIDCard(_ application: LoanApplication, _ body: IDCardConfirmRequest) async throws {
        try require(.idCard, application)
        guard application.ocrSealed != nil else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Upload both sides of the ID card first.", messageZh: "请先上传身份证正反面。", field: "frontImage")
        }
        let name = try Self.personName(body.name)
        let idNumber: ChineseIDNumber
        do { idNumber = try ChineseIDNumber(body.idNumber ?? "") } catch { throw APIError(error) }
        guard let address = body.address?.trimmingCharacters(in: .whitespacesAndNewlines), (5...120).contains(address.count) else {
            throw APIError.invalid("address", "address must be 5 to 120 characters, as printed on the card.", zh: "请填写身份证上的住址（5至120个字）。")
        }
        let validUntil = try Self.validUntil(body.validUntil, today: today)
        let age = idNumber.age(on: today)
        guard age >= 16 else {
            throw APIError.invalid("idNumber", "The birth date in this ID number is not plausible for an applicant.", zh: "身份证号码中的出生日期不符合申请条件。")
        }
        let result = try await providerCall { try await services.providers.registry.verify(name: name, idNumber: idNumber) }
        switch result {
        case .match(let photoReference):
            application.nameSealed = try cipher.seal(name)
            application.idNumberSealed = try cipher.seal(idNumber.value)
            application.idNumberIndex = cipher.blindIndex(idNumber.value, purpose: "id_number")
            application.addressSealed = try cipher.seal(address)
            application.idValidUntil = validUntil
            application.registryPhotoRef = photoReference
            application.idConfirmedAt = now
            try await save(application, action: "id_card.confirmed", details: ["name": PersonalDataMask.name(name), "idNumber": idNumber.masked, "registry": "match"])
        case .nameMismatch, .notFound:
            application.stopStep = JourneyStep.idCard.rawValue
            application.stopReason = "identity_mismatch"
            try await save(application, action: "id_card.registry_refused", details: ["name": PersonalDataMask.name(name), "idNumber": idNumber.masked])
            throw APIError(.unprocessableEntity, code: "identity_mismatch",
                           message: "The citizen registry does not match this name and ID number, so we cannot continue online. Please visit a branch with your ID card.",
                           messageZh: "姓名与身份证号码核查不一致，无法在线继续办理。请携带身份证到网点办理。", field: "name")
        }
    }

    // MARK: - Step 3: face

    func checkFace(_ application: LoanApplication, _ body: FaceCheckRequest) async throws -> (FaceResult, attemptsLeft: Int) {
        try require(.face, application)
        if application.faceLockedUntil != nil {
            // require(_:_:) refused a lock still running; this one has run out, so the applicant starts afresh.
            application.faceLockedUntil = nil
            application.faceAttempts = 0
            application.stopStep = nil
            application.stopReason = nil
        }
        let capture: FaceCapture
        if body.simulate == true {
            guard services.providers.isSandbox else {
                throw APIError.invalid("simulate", "simulate is only available in sandbox mode.", zh: "仅测试环境可模拟。")
            }
            capture = FaceCapture(image: nil, simulated: true)
        } else {
            guard let raw = body.capture, !raw.isEmpty else { throw APIError.missing("capture") }
            guard let data = Data(base64Encoded: raw), !data.isEmpty else {
                throw APIError.invalid("capture", "capture must be base64-encoded image data.", zh: "请重新拍摄。")
            }
            capture = FaceCapture(image: data, simulated: false)
        }
        guard let idRaw = try cipher.openOptional(application.idNumberSealed), let photo = application.registryPhotoRef else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the ID card step first.", messageZh: "请先完成身份证识别。")
        }
        let idNumber = try ChineseIDNumber(idRaw)
        let result = try await providerCall {
            try await services.providers.face.verify(idNumber: idNumber, registryPhotoReference: photo, capture: capture)
        }
        application.faceScore = "\(result.similarity)"
        if result.passed {
            application.faceVerifiedAt = now
            try await save(application, action: "face.verified", details: ["similarity": "\(result.similarity)", "liveness": "passed"])
            return (result, Self.faceMaxAttempts - application.faceAttempts)
        }
        application.faceAttempts += 1
        let left = max(0, Self.faceMaxAttempts - application.faceAttempts)
        if left == 0 {
            application.faceLockedUntil = now.addingTimeInterval(Self.faceLock)
            application.stopStep = JourneyStep.face.rawValue
            application.stopReason = result.livenessPassed ? "face_mismatch" : "liveness_failed"
        }
        try await save(application, action: "face.failed", details: [
            "liveness": result.livenessPassed ? "passed" : "failed", "similarity": "\(result.similarity)", "attempt": String(application.faceAttempts),
        ])
        return (result, left)
    }

    // MARK: - Step 4: bank card (carrier 3 factors, UnionPay 4 factors, SMS confirmation)

    func submitBankCard(_ application: LoanApplication, _ body: BankCardRequest) async throws -> OneTimeCodes.Sent {
        try require(.bankCard, application)
        let card: BankCardNumber
        do { card = try BankCardNumber(body.cardNumber ?? "") } catch { throw APIError(error) }
        let identity = try identity(of: application)
        if application.carrierVerifiedAt == nil {
            let carrier = try await providerCall { try await services.providers.carrier.verify(phone: identity.phone, name: identity.name, idNumber: identity.idNumber) }
            guard carrier == .match else {
                application.stopStep = JourneyStep.bankCard.rawValue
                application.stopReason = "phone_not_owned"
                try await save(application, action: "carrier.refused", details: ["phone": identity.phone.masked])
                throw APIError(.unprocessableEntity, code: "phone_not_owned",
                               message: "The carrier reports that this phone number is registered to someone else, so we cannot continue online.",
                               messageZh: "运营商核验显示该手机号不是您本人实名登记，无法在线继续办理。", field: "phone")
            }
            application.carrierVerifiedAt = now
            try await save(application, action: "carrier.verified", details: ["phone": identity.phone.masked])
        }
        let result = try await providerCall {
            try await services.providers.unionPay.verify(card: card, name: identity.name, idNumber: identity.idNumber, phone: identity.phone)
        }
        switch result {
        case .verified(let bankName, _):
            application.pendingCardSealed = try cipher.seal(card.value)
            application.cardBank = bankName
            try await save(application, action: "bank_card.checked", details: ["card": card.masked, "bank": bankName])
            return try await codes.send(to: identity.phone, purpose: .bankCard, applicationID: application.id, clientAddress: client.address)
        case .notDebitCard:
            throw APIError(.unprocessableEntity, code: "not_debit_card", message: "This is a credit card. Please use a debit card (借记卡) in your own name.",
                           messageZh: "该卡为信用卡，请使用本人名下的借记卡。", field: "cardNumber")
        case .reservedPhoneMismatch:
            throw APIError(.unprocessableEntity, code: "reserved_phone_mismatch",
                           message: "The phone number reserved at the card's bank is not this phone. Use another debit card or update the reserved number at your bank.",
                           messageZh: "该卡在银行预留的手机号与本手机号不一致，请更换银行卡或到银行更新预留手机号。", field: "cardNumber")
        case .mismatch:
            throw APIError(.unprocessableEntity, code: "card_mismatch", message: "UnionPay could not verify this card against your name and ID number.",
                           messageZh: "银行卡信息与您的身份信息不一致，请更换银行卡。", field: "cardNumber")
        }
    }

    func confirmBankCard(_ application: LoanApplication, _ body: CodeRequest) async throws {
        try require(.bankCard, application)
        guard let pending = application.pendingCardSealed else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Submit the bank card number first.", messageZh: "请先填写银行卡号。", field: "cardNumber")
        }
        guard let code = body.code, !code.isEmpty else { throw APIError.missing("code") }
        let identity = try identity(of: application)
        let proof = try await codes.check(code, phone: identity.phone, purpose: .bankCard)
        let card = try BankCardNumber(try cipher.open(pending))
        let state = try application.applicationState
        try Self.transition(from: state, to: .identityVerified)
        application.cardSealed = pending
        application.cardIndex = cipher.blindIndex(card.value, purpose: "card")
        application.cardMasked = card.masked
        application.pendingCardSealed = nil
        application.cardVerifiedAt = now
        application.state = ApplicationState.identityVerified.rawValue
        let codes = self.codes
        try await save(application, action: "bank_card.verified", details: ["card": card.masked, "state": "identity_verified"]) { tx in
            try await codes.consume(proof, on: tx)
        }
    }

    // MARK: - Step 5: credit-report authorization

    func sendAuthorizationCode(_ application: LoanApplication) async throws -> OneTimeCodes.Sent {
        try require(.authorization, application)
        let identity = try identity(of: application)
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
        let identity = try identity(of: application)
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
        let codes = self.codes
        try await save(application, action: "credit_authorization.signed", details: ["version": document.version, "sha256": document.sha256, "smsProof": proof.id.uuidString]) { tx in
            try await codes.consume(proof, on: tx)
        }
        let report = try await providerCall {
            try await services.providers.bureau.report(name: identity.name, idNumber: identity.idNumber, authorizationReference: reference)
        }
        application.bureauReportSealed = try cipher.seal(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
        application.state = ApplicationState.creditAuthorized.rawValue
        try await save(application, action: "credit_report.pulled", details: ["reportId": report.reportId, "state": "credit_authorized"])
    }

    // MARK: - Step 6: about you

    func saveAboutYou(_ application: LoanApplication, _ body: AboutYouRequest) async throws {
        try require(.aboutYou, application)
        let identity = try identity(of: application)
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
        application.aboutYouSealed = try cipher.seal(String(decoding: try JSONEncoder().encode(facts), as: UTF8.self))
        application.infoCompletedAt = now
        application.state = ApplicationState.infoCompleted.rawValue
        try await save(application, action: "about_you.saved", details: facts.auditSummary)
    }

    func aboutYou(_ application: LoanApplication) throws -> AboutYouFacts? {
        guard let sealed = application.aboutYouSealed else { return nil }
        return try JSONDecoder().decode(AboutYouFacts.self, from: Data(try cipher.open(sealed).utf8))
    }

    // MARK: - Step 7: decision and loan request

    func decide(_ application: LoanApplication) async throws {
        try require(.decision, application)
        let id = try application.requireID()
        if let wait = await services.limiter.attempt("decision:\(id)", rule: RateRules.decisionPerApplication, now: now) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many decision requests. Try again in \(wait) seconds.", zh: "请求过于频繁，请稍后再试。")
        }
        let identity = try identity(of: application)
        guard let facts = try aboutYou(application), let reportSealed = application.bureauReportSealed else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the about you step first.", messageZh: "请先补充个人信息。")
        }
        let report = try JSONDecoder().decode(CreditReport.self, from: Data(try cipher.open(reportSealed).utf8))
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
            try await record.create(on: tx)
        }
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

    // MARK: - Shared

    var today: CivilDate { BusinessCalendar.civilDate(services.clock.now()) }

    func progress(_ application: LoanApplication) throws -> ApplicationProgress {
        ApplicationProgress(
            state: try application.applicationState,
            idCardConfirmed: application.idConfirmedAt != nil,
            faceVerified: application.faceVerifiedAt != nil,
            bankCardVerified: application.cardVerifiedAt != nil)
    }

    /// 409 naming the step that comes next when a step is out of order; 409 when the journey was stopped.
    func require(_ step: JourneyStep, _ application: LoanApplication) throws {
        if let stop = application.stopStep {
            if stop == JourneyStep.face.rawValue, let until = application.faceLockedUntil {
                if until > now {
                    throw APIError(.locked, code: "face_locked", message: "Face verification failed 3 times; try again after \(Self.isoTime(until)).",
                                   messageZh: "人脸识别失败次数过多，请24小时后再试。")
                }
            } else {
                throw APIError(.conflict, code: "application_stopped", message: StopMessages.english(application.stopReason),
                               messageZh: StopMessages.chinese(application.stopReason))
            }
        }
        let progress = try progress(application)
        do {
            try ApplicationStateMachine.require(step, progress: progress)
        } catch {
            throw APIError(.conflict, code: error.code, message: error.message, messageZh: error.messageZh)
        }
    }

    /// A guarded transition; a refusal (two requests racing on one application) answers 409, never 500.
    static func transition(from: ApplicationState, to: ApplicationState) throws {
        do { try ApplicationStateMachine.transition(from: from, to: to) } catch {
            throw APIError(.conflict, code: error.code, message: error.message, messageZh: error.messageZh)
        }
    }

    struct Identity {
        let phone: MobileNumber
        let name: String
        let idNumber: ChineseIDNumber
    }

    func identity(of application: LoanApplication) throws -> Identity {
        guard let name = try cipher.openOptional(application.nameSealed), let id = try cipher.openOptional(application.idNumberSealed) else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the ID card step first.", messageZh: "请先完成身份证识别。")
        }
        return Identity(phone: try MobileNumber(try cipher.open(application.phoneSealed)), name: name, idNumber: try ChineseIDNumber(id))
    }

    var store: ApplicationStore { ApplicationStore(db: db, services: services) }

    /// Saves the application, anything `also` writes and its audit entry in one transaction, as a compare-and-set
    /// on the application's version: a request that lost a race gets 409 and leaves nothing behind.
    func save(
        _ application: LoanApplication, action: String, details: [String: String],
        also: (@Sendable (any Database) async throws -> Void)? = nil
    ) async throws {
        try await store.commit(application, actor: "applicant", action: action, details: details, also: also)
    }

    private func limitUploads(_ application: LoanApplication) async throws {
        let id = try application.requireID()
        if let wait = await services.limiter.attempt("upload:\(id)", rule: RateRules.uploadsPerApplication, now: now) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many uploads. Try again in \(wait) seconds.", zh: "上传过于频繁，请稍后再试。")
        }
    }

    /// Outside services fail; the applicant gets a clear retry message and nothing is changed.
    private func providerCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as APIError {
            throw error
        } catch let error as ProviderError {
            logger.warning("Outside service failed: \(error.code)")
            throw APIError(.serviceUnavailable, code: "service_unavailable", message: "A verification service is not available right now. Please try again.",
                           messageZh: "核验服务暂时不可用，请稍后再试。")
        }
    }

    static func phone(_ raw: String?) throws -> MobileNumber {
        guard let raw, !raw.isEmpty else { throw APIError.missing("phone") }
        do { return try MobileNumber(raw) } catch { throw APIError(error) }
    }

    /// The name rule is LendingCore's `PersonName` (2–30 Chinese characters, rare-character blocks, the middle dot).
    static func personName(_ raw: String?) throws -> String {
        guard let raw, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.missing("name") }
        do { return try PersonName(raw).value } catch { throw APIError(error) }
    }

    static func validUntil(_ raw: String?, today: CivilDate) throws -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { throw APIError.missing("validUntil") }
        if raw == "长期" || raw.lowercased() == "long-term" { return "长期" }
        guard let date = CivilDate(iso: raw) else {
            throw APIError.invalid("validUntil", "validUntil must be a date YYYY-MM-DD or 长期.", zh: "有效期格式应为YYYY-MM-DD或“长期”。")
        }
        guard date >= today else {
            throw APIError.invalid("validUntil", "The ID card expired on \(date.iso); an expired card cannot be used.", zh: "身份证已过期，请使用有效证件。")
        }
        return date.iso
    }

    static func isoTime(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: date)
    }
}

enum StopMessages {
    static func english(_ reason: String?) -> String {
        switch reason {
        case "identity_mismatch": "The citizen registry did not confirm this identity, so the application cannot continue online."
        case "liveness_failed", "face_mismatch": "Face verification failed 3 times; try again after 24 hours."
        case "phone_not_owned": "This phone number is not registered to the applicant, so the application cannot continue online."
        default: "This application cannot continue online."
        }
    }

    static func chinese(_ reason: String?) -> String {
        switch reason {
        case "identity_mismatch": "身份信息核查未通过，无法在线继续办理。请携带身份证到网点办理。"
        case "liveness_failed", "face_mismatch": "人脸识别失败次数过多，请24小时后再试。"
        case "phone_not_owned": "该手机号不是您本人实名登记，无法在线继续办理。"
        default: "该申请无法在线继续办理。"
        }
    }
}

/// The bank's calendar: civil dates in China Standard Time.
enum BusinessCalendar {
    static let timeZone = TimeZone(identifier: "Asia/Shanghai")!

    static func civilDate(_ date: Date) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return CivilDate(year: c.year!, month: c.month!, day: c.day!)!
    }
}

extension IDCardReadingView {
    init(_ reading: IDCardReading) {
        self.init(name: reading.name, idNumber: reading.idNumber, address: reading.address, validUntil: reading.validUntil?.description ?? "",
                  sex: reading.sex?.rawValue, birthDate: reading.birthDate?.iso)
    }
}
