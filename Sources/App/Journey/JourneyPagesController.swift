import Fluent
import LendingCore
import Providers
import Vapor

/// The H5 pages of the journey (server-rendered, Chinese, mobile-first). Every rule lives in JourneyService;
/// these handlers turn form posts into its requests, show its errors next to the fields, and send the person
/// to the page of the step that comes next (POST → redirect → GET). Signed-in pages only (routes.swift).
struct JourneyPagesController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let apply = routes.grouped("apply")
        apply.get(use: resume)
        apply.get("id-card", use: step(JourneyPaths.idCard, idCardPage))
        apply.post("id-card", "sample", use: step(JourneyPaths.idCard, idCardSample))
        apply.post("id-card", "confirm", use: step(JourneyPaths.idCard, idCardConfirm))
        apply.get("face", use: step(JourneyPaths.face, facePage))
        apply.get("bank-card", use: step(JourneyPaths.bankCard, bankCardPage))
        apply.post("bank-card", use: step(JourneyPaths.bankCard, bankCardPost))
        apply.post("bank-card", "confirm", use: step(JourneyPaths.bankCard, bankCardConfirm))
        apply.get("authorization", use: step(JourneyPaths.authorization, authorizationPage))
        apply.post("authorization", use: step(JourneyPaths.authorization, authorizationPost))
        apply.get("about-you", use: step(JourneyPaths.aboutYou, aboutYouPage))
        apply.post("about-you", use: step(JourneyPaths.aboutYou, aboutYouPost))
        apply.get("result", use: step(JourneyPaths.result, resultPage))
        apply.post("result", use: step(JourneyPaths.result, resultPost))
        apply.get("loan", use: step(JourneyPaths.loan, loanPage))
        apply.post("loan", use: step(JourneyPaths.loan, loanPost))
        apply.get("done", use: step(JourneyPaths.done, donePage))
        apply.get("stopped", use: step(JourneyPaths.stopped, stoppedPage))
        apply.post("cancel", use: cancel)

        // Photo uploads need a bigger body limit than the other forms.
        apply.photoUpload("id-card", use: step(JourneyPaths.idCard, idCardUpload))
        apply.photoUpload("face", use: step(JourneyPaths.face, facePost))
    }

    // MARK: - Where the person belongs

    /// The page of the step that comes next for this application.
    static func destination(_ application: LoanApplication, journey: JourneyService) throws -> String {
        if let stop = application.stopStep {
            if stop == JourneyStep.face.rawValue, let until = application.faceLockedUntil, until <= journey.now {
                return JourneyPaths.face
            }
            return JourneyPaths.stopped
        }
        switch try application.applicationState {
        case .cancelled, .expired: return JourneyPaths.stopped
        case .referred, .declined: return JourneyPaths.result
        case .loanRequested, .contractSigned, .disbursed: return JourneyPaths.done
        default: break
        }
        switch try journey.progress(application).nextStep {
        case .phone, .idCard: return JourneyPaths.idCard
        case .face: return JourneyPaths.face
        case .bankCard: return JourneyPaths.bankCard
        case .authorization: return JourneyPaths.authorization
        case .aboutYou: return JourneyPaths.aboutYou
        case .decision, .loanRequest: return JourneyPaths.result
        case .done: return JourneyPaths.done
        }
    }

    /// Wraps a page handler: a page that is not (or no longer) this person's current one → the right page. The loan
    /// page belongs to an approved application's result.
    func step(_ path: String, _ handler: @escaping @Sendable (Request, PageSession) async throws -> Response)
        -> @Sendable (Request) async throws -> Response
    {
        { req in
            let session = try req.pageSession
            let destination = try Self.destination(session.application, journey: session.journey)
            let approved = try session.application.applicationState == .approved
            let allowed =
                destination == path || (path == JourneyPaths.loan && destination == JourneyPaths.result && approved)
            guard allowed else { return req.redirect(to: destination, redirectType: .normal) }
            return try await handler(req, session)
        }
    }

    /// The applicant withdraws the application (allowed in any state before disbursement).
    func cancel(_ req: Request) async throws -> Response {
        let session = try req.pageSession
        do {
            try await session.journey.cancel(session.application)
        } catch let error as APIError where error.status == .conflict {
            // Already closed: the resume below shows where it stands.
        }
        return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
    }

    func resume(_ req: Request) async throws -> Response {
        let session = try req.pageSession
        let destination = try Self.destination(session.application, journey: session.journey)
        return req.redirect(to: destination, redirectType: .normal)
    }

    /// After a service error: a step out of order or a stopped journey goes to the right page;
    /// anything else is shown on the form (nil).
    func redirectAfter(_ error: APIError, _ req: Request, _ s: PageSession) throws -> Response? {
        if s.application.stopStep != nil || (error.status == .conflict && error.code != "limit_expired") {
            return req.redirect(to: try Self.destination(s.application, journey: s.journey), redirectType: .normal)
        }
        return nil
    }

    // MARK: - 2 ID card

    struct IDCardUploadForm: Content {
        var frontImage: File?
        var backImage: File?
    }

    struct SampleForm: Content {
        var person: String?
    }

    struct IDCardConfirmForm: Content {
        var name: String?
        var idNumber: String?
        var address: String?
        var validUntil: String?
    }

    static let idCardFields = FormState.same("frontImage", "backImage")
    static let confirmFields = FormState.same("name", "idNumber", "address", "validUntil")

    func idCardPage(_ req: Request, _ s: PageSession) async throws -> Response {
        if req.query[String.self, at: "retake"] != "1", let reading = try s.journey.ocrReading(s.application) {
            let form = FormState(values: [
                "name": reading.name, "idNumber": reading.idNumber, "address": reading.address,
                "validUntil": reading.validUntil,
            ])
            return try await renderConfirm(req, s, form: form)
        }
        return try await renderUpload(req, s, form: FormState())
    }

    func idCardUpload(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(IDCardUploadForm.self)
        var form = FormState()
        do {
            for (field, file) in [("frontImage", body.frontImage), ("backImage", body.backImage)] {
                if let file, file.data.readableBytes > 5 * 1024 * 1024 {
                    throw APIError(
                        .payloadTooLarge, code: "image_too_large", message: "\(field) must be at most 5 MB.",
                        messageZh: "图片过大（不超过5MB），请重新拍摄。", field: field)
                }
            }
            _ = try await s.journey.uploadIDCard(
                s.application, front: body.frontImage.map { Data($0.data.readableBytesView) },
                back: body.backImage.map { Data($0.data.readableBytesView) })
            return req.redirect(to: JourneyPaths.idCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            form.record(error, fieldMap: Self.idCardFields)
            return try await renderUpload(req, s, form: form, status: error.status)
        }
    }

    func idCardSample(_ req: Request, _ s: PageSession) async throws -> Response {
        guard s.journey.services.providers.isSandbox else { throw APIError.notFound("page") }
        let person = try req.content.decode(SampleForm.self).person ?? ""
        guard let front = SandboxCards.image(person: person, side: .front),
            let back = SandboxCards.image(person: person, side: .back)
        else {
            var form = FormState()
            form.formError = "没有这张测试样卡。"
            return try await renderUpload(req, s, form: form, status: .unprocessableEntity)
        }
        do {
            _ = try await s.journey.uploadIDCard(s.application, front: front, back: back)
            return req.redirect(to: JourneyPaths.idCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: Self.idCardFields)
            return try await renderUpload(req, s, form: form, status: error.status)
        }
    }

    func idCardConfirm(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(IDCardConfirmForm.self)
        let form0 = FormState(values: [
            "name": body.name ?? "", "idNumber": body.idNumber ?? "", "address": body.address ?? "",
            "validUntil": body.validUntil ?? "",
        ])
        do {
            let request = IDCardConfirmRequest(
                name: body.name, idNumber: body.idNumber.map { $0.filter { !$0.isWhitespace }.uppercased() },
                address: body.address,
                validUntil: body.validUntil)
            try await s.journey.confirmIDCard(s.application, request)
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            var form = form0
            form.record(error, fieldMap: Self.confirmFields)
            return try await renderConfirm(req, s, form: form, status: error.status)
        }
    }

    func renderUpload(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let samples =
            s.view.sandbox
            ? SandboxCards.persons.map { key in
                IDCardUploadPageContext.SampleCard(
                    key: key, name: SandboxPersona.forKey(key)?.name ?? "", front: "/sandbox/cards/\(key)-front.png")
            }
            : []
        let context = IDCardUploadPageContext(
            page: s.chrome(req, .idCard), form: form, samples: samples, hasReading: s.application.ocrSealed != nil)
        return try await req.renderPage("journey/id-card", context, status: status)
    }

    func renderConfirm(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let context = IDCardConfirmPageContext(page: s.chrome(req, .idCard, title: "核对身份证信息"), form: form)
        return try await req.renderPage("journey/id-card-confirm", context, status: status)
    }

    // MARK: - 3 face

    struct FaceForm: Content {
        var capture: String?
        var simulate: String?
        var photo: File?
    }

    func facePage(_ req: Request, _ s: PageSession) async throws -> Response {
        try await renderFace(req, s, form: FormState())
    }

    func facePost(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(FaceForm.self)
        var form = FormState()
        var request = FaceCheckRequest(capture: nil, simulate: body.simulate == "true" ? true : nil)
        if request.simulate == nil {
            if let photo = body.photo, photo.data.readableBytes > 0 {
                request.capture = Data(photo.data.readableBytesView).base64EncodedString()
            } else if let capture = body.capture, !capture.isEmpty {
                request.capture =
                    capture.hasPrefix("data:") ? String(capture.drop(while: { $0 != "," }).dropFirst()) : capture
            }
        }
        do {
            let (result, left) = try await s.journey.checkFace(s.application, request)
            if result.passed || left == 0 { return req.redirect(to: JourneyPaths.resume, redirectType: .normal) }
            form.formError =
                (result.livenessPassed
                    ? "人脸比对未通过，请确认由本人操作后重试。"
                    : "活体检测未通过，请正对屏幕、保持光线充足，按提示眨眼后重试。") + "还可尝试\(left)次。"
            return try await renderFace(req, s, form: form, status: .unprocessableEntity)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            if error.status == .locked { return req.redirect(to: JourneyPaths.stopped, redirectType: .normal) }
            form.record(error, fieldMap: ["capture": "capture", "simulate": "capture"], fallbackField: "capture")
            return try await renderFace(req, s, form: form, status: error.status)
        }
    }

    func renderFace(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let max = JourneyService.faceMaxAttempts
        let lockOver = s.application.faceLockedUntil.map { $0 <= s.journey.now } ?? false
        let used = lockOver ? 0 : s.application.faceAttempts
        let context = FacePageContext(
            page: s.chrome(req, .face, script: "/js/camera.js"), form: form, attemptsLeft: Swift.max(0, max - used),
            maxAttempts: max,
            failedBefore: used > 0)
        return try await req.renderPage("journey/face", context, status: status)
    }

    // MARK: - 4 bank card

    struct BankCardForm: Content {
        var cardNumber: String?
        var action: String?
    }

    struct CodeForm: Content {
        var code: String?
    }

    func bankCardPage(_ req: Request, _ s: PageSession) async throws -> Response {
        try await renderBankCard(req, s, form: FormState(), changing: req.query[String.self, at: "change"] == "1")
    }

    func bankCardPost(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(BankCardForm.self)
        var typed = body.cardNumber ?? ""
        if body.action == "resend", let pending = s.application.pendingCardSealed {
            typed = try s.journey.cipher.open(pending)
        }
        var form = FormState(values: ["cardNumber": typed])
        do {
            _ = try await s.journey.submitBankCard(
                s.application, BankCardRequest(cardNumber: typed.filter { $0.isNumber }))
            return req.redirect(to: JourneyPaths.bankCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            if body.action == "resend" {
                form.record(error, fieldMap: [:], fallbackField: "code")
                return try await renderBankCard(req, s, form: form, changing: false, status: error.status)
            }
            form.record(error, fieldMap: FormState.same("cardNumber"), fallbackField: "cardNumber")
            return try await renderBankCard(req, s, form: form, changing: true, status: error.status)
        }
    }

    func bankCardConfirm(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(CodeForm.self)
        do {
            try await s.journey.confirmBankCard(
                s.application, CodeRequest(code: body.code?.trimmingCharacters(in: .whitespaces)))
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: ["code": "code", "cardNumber": "code"], fallbackField: "code")
            return try await renderBankCard(req, s, form: form, changing: false, status: error.status)
        }
    }

    func renderBankCard(
        _ req: Request, _ s: PageSession, form: FormState, changing: Bool, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let pending = try s.journey.cipher.openOptional(s.application.pendingCardSealed)
        let stage = pending != nil && !changing ? "code" : "card"
        var cards: [BankCardPageContext.TestCard] = []
        if s.view.sandbox, let identity = try? s.journey.identity(of: s.application) {
            let persona = SandboxPersona.forIDNumber(identity.idNumber)
            if let listed = persona.debitCard, listed != persona.verifiableDebitCard {
                cards.append(.init(number: listed.value, note: "本人名下借记卡（预留手机号不一致，将被拒绝）"))
            }
            cards.append(.init(number: persona.verifiableDebitCard.value, note: "本人名下借记卡（可通过）"))
            cards.append(.init(number: SandboxPersona.creditCard.value, note: "信用卡（将被拒绝，仅支持借记卡）"))
        }
        let context = BankCardPageContext(
            page: s.chrome(req, .bankCard), form: form, stage: stage, cardMasked: pending.map(PersonalDataMask.card),
            bank: s.application.cardBank,
            phoneMasked: s.view.applicant.phone, testCards: cards)
        return try await req.renderPage("journey/bank-card", context, status: status)
    }

    // MARK: - 5 credit authorization

    struct AuthorizationForm: Content {
        var agree: String?
        var code: String?
        var action: String?
        var version: String?
        var sha256: String?
    }

    func authorizationPage(_ req: Request, _ s: PageSession) async throws -> Response {
        try await renderAuthorization(req, s, form: FormState(), agreed: false, codeSent: false)
    }

    func authorizationPost(_ req: Request, _ s: PageSession) async throws -> Response {
        let body = try req.content.decode(AuthorizationForm.self)
        let agreed = body.agree == "true"
        let code = (body.code ?? "").trimmingCharacters(in: .whitespaces)
        var form = FormState(values: ["code": code])
        let send = body.action == "send" || (body.action != "sign" && code.isEmpty)
        if send {
            guard agreed else {
                form.errors["agree"] = "请先阅读并勾选“我已阅读并同意”。"
                return try await renderAuthorization(
                    req, s, form: form, agreed: false, codeSent: false, status: .unprocessableEntity)
            }
            do {
                let sent = try await s.journey.sendAuthorizationCode(s.application)
                form.notice = "验证码已发送至\(sent.sentTo)，5分钟内有效。"
                return try await renderAuthorization(req, s, form: form, agreed: agreed, codeSent: true)
            } catch let error as APIError {
                if let redirect = try redirectAfter(error, req, s) { return redirect }
                form.record(error, fieldMap: [:], fallbackField: "code")
                return try await renderAuthorization(
                    req, s, form: form, agreed: agreed, codeSent: false, status: error.status)
            }
        }
        do {
            try await s.journey.signAuthorization(
                s.application,
                AuthorizationSignRequest(version: body.version, sha256: body.sha256, agree: agreed, code: code))
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            form.values["code"] = ""
            form.record(error, fieldMap: ["agree": "agree", "code": "code"])
            return try await renderAuthorization(
                req, s, form: form, agreed: agreed, codeSent: true, status: error.status)
        }
    }

    func renderAuthorization(
        _ req: Request, _ s: PageSession, form: FormState, agreed: Bool, codeSent: Bool,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let document = CreditAuthorizationText.current
        let context = AuthorizationPageContext(
            page: s.chrome(req, .authorization), form: form, title: document.title, version: document.version,
            sha256: document.sha256,
            paragraphs: AuthorizationPageContext.paragraphs(document.text), agreed: agreed, codeSent: codeSent,
            phoneMasked: s.view.applicant.phone)
        return try await req.renderPage("journey/authorization", context, status: status)
    }

    // MARK: - 6 about you

    struct AboutYouForm: Content {
        var employer: String?
        var employmentType: String?
        var monthlyIncome: String?
        var housing: String?
        var maritalStatus: String?
        var education: String?
        var loanPurpose: String?
        var contactName: String?
        var contactRelationship: String?
        var contactPhone: String?
    }

    static let aboutYouFields: [String: String] = {
        var map = FormState.same(
            "employer", "employmentType", "monthlyIncome", "housing", "maritalStatus", "education", "loanPurpose")
        map["emergencyContact.name"] = "contactName"
        map["emergencyContact.relationship"] = "contactRelationship"
        map["emergencyContact.phone"] = "contactPhone"
        map["emergencyContact"] = "contactName"
        return map
    }()

    func aboutYouPage(_ req: Request, _ s: PageSession) async throws -> Response {
        try await renderAboutYou(req, s, form: FormState())
    }

    func aboutYouPost(_ req: Request, _ s: PageSession) async throws -> Response {
        let b = try req.content.decode(AboutYouForm.self)
        var form = FormState(values: [
            "employer": b.employer ?? "", "employmentType": b.employmentType ?? "",
            "monthlyIncome": b.monthlyIncome ?? "", "housing": b.housing ?? "",
            "maritalStatus": b.maritalStatus ?? "", "education": b.education ?? "", "loanPurpose": b.loanPurpose ?? "",
            "contactName": b.contactName ?? "",
            "contactRelationship": b.contactRelationship ?? "", "contactPhone": b.contactPhone ?? "",
        ])
        let income = b.monthlyIncome.map { $0.filter { $0 != "," && !$0.isWhitespace } }
        let request = AboutYouRequest(
            employer: b.employer, employmentType: b.employmentType, monthlyIncome: income, housing: b.housing,
            maritalStatus: b.maritalStatus,
            education: b.education, loanPurpose: b.loanPurpose,
            emergencyContact: EmergencyContactInput(
                name: b.contactName, relationship: b.contactRelationship,
                phone: b.contactPhone.map { $0.filter { !$0.isWhitespace && $0 != "-" } }))
        do {
            try await s.journey.saveAboutYou(s.application, request)
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            form.record(error, fieldMap: Self.aboutYouFields)
            return try await renderAboutYou(req, s, form: form, status: error.status)
        }
    }

    func renderAboutYou(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let v = form.values
        let context = AboutYouPageContext(
            page: s.chrome(req, .aboutYou), form: form,
            employmentTypes: Choice.list(AboutYouFacts.employmentTypes, selected: v["employmentType"]),
            housingTypes: Choice.list(AboutYouFacts.housingTypes, selected: v["housing"]),
            maritalStatuses: Choice.list(AboutYouFacts.maritalStatuses, selected: v["maritalStatus"]),
            educationLevels: Choice.list(AboutYouFacts.educationLevels, selected: v["education"]),
            purposes: Choice.list(LoanOfferRules.purposes.map { ($0.code, $0.titleZh) }, selected: v["loanPurpose"]),
            relationships: Choice.list(AboutYouFacts.relationships, selected: v["contactRelationship"]))
        return try await req.renderPage("journey/about-you", context, status: status)
    }

    // MARK: - 7 result, loan request, done

    func resultPage(_ req: Request, _ s: PageSession) async throws -> Response {
        try await renderResult(req, s, form: FormState())
    }

    func resultPost(_ req: Request, _ s: PageSession) async throws -> Response {
        guard try s.application.applicationState == .infoCompleted else {
            return req.redirect(to: JourneyPaths.result, redirectType: .normal)
        }
        do {
            try await s.journey.decide(s.application)
            return req.redirect(to: JourneyPaths.result, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try redirectAfter(error, req, s) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: [:])
            return try await renderResult(req, s, form: form, status: error.status)
        }
    }

    func renderResult(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let state = try s.application.applicationState
        let outcome: String =
            switch state {
            case .approved: "approved"
            case .referred: "referred"
            case .declined: "declined"
            default: "pending"
            }
        let decision = s.view.decision
        var reasons = decision?.reasons.map(\.message).filter { !$0.isEmpty } ?? []
        if outcome == "declined" && reasons.isEmpty { reasons = ["您的申请暂不符合我行的审批条件。"] }
        let title: String =
            switch outcome {
            case "approved": "审批通过"
            case "referred": "人工审核中"
            case "declined": "审批结果"
            default: "智能核额"
            }
        let context = ResultPageContext(
            page: s.chrome(req, .decision, title: title), form: form, outcome: outcome,
            creditLimit: decision?.creditLimit.map(PageFormat.wholeYuan),
            annualRate: decision.map { PageFormat.percent($0.annualRate) },
            apr: decision.map { PageFormat.percent($0.apr) }, validUntil: decision?.validUntil.map(PageFormat.date),
            reasons: reasons,
            canRequestLoan: outcome == "approved")
        return try await req.renderPage("journey/result", context, status: status)
    }

    struct LoanForm: Content {
        var amount: String?
        var termMonths: String?
        var method: String?
        var purpose: String?
        var action: String?
    }

    static let loanFields: [String: String] = [
        "amount": "amount", "termMonths": "termMonths", "method": "method", "purpose": "purpose",
    ]

    func loanPage(_ req: Request, _ s: PageSession) async throws -> Response {
        let limit = Money.parse(s.application.creditLimit ?? "") ?? 0
        let purpose = (try? s.journey.aboutYou(s.application))?.loanPurpose ?? LoanOfferRules.purposes[0].code
        let values = [
            "amount": Money.string(limit).replacingOccurrences(of: ".00", with: ""), "termMonths": "12",
            "method": RepaymentMethod.equalInstallment.rawValue, "purpose": purpose,
        ]
        return try await renderLoan(req, s, form: FormState(values: values), quote: try? await quote(values, s))
    }

    func loanPost(_ req: Request, _ s: PageSession) async throws -> Response {
        let b = try req.content.decode(LoanForm.self)
        let amount = (b.amount ?? "").filter { $0 != "," && !$0.isWhitespace }
        var form = FormState(values: [
            "amount": b.amount ?? "", "termMonths": b.termMonths ?? "", "method": b.method ?? "",
            "purpose": b.purpose ?? "",
        ])
        var clean = form.values
        clean["amount"] = amount
        if b.action == "submit" {
            do {
                _ = try await s.journey.requestLoan(
                    s.application,
                    LoanRequestInput(
                        amount: amount, termMonths: b.termMonths.flatMap { Int($0) }.map(WholeNumber.init), method: b.method,
                        purpose: b.purpose))
                return req.redirect(to: JourneyPaths.done, redirectType: .normal)
            } catch let error as APIError {
                if let redirect = try redirectAfter(error, req, s) { return redirect }
                form.record(error, fieldMap: Self.loanFields)
                return try await renderLoan(req, s, form: form, quote: try? await quote(clean, s), status: error.status)
            }
        }
        do {
            let quote = try await quote(clean, s)
            return try await renderLoan(req, s, form: form, quote: quote)
        } catch let error as APIError {
            form.record(error, fieldMap: Self.loanFields)
            return try await renderLoan(req, s, form: form, quote: nil, status: error.status)
        }
    }

    /// The repayment plan for what the person chose: the journey's own quote (limit, rate, business date).
    func quote(_ values: [String: String], _ s: PageSession) async throws -> QuoteView {
        let (_, schedule) = try await s.journey.quote(
            s.application, amount: values["amount"], termMonths: values["termMonths"].flatMap { Int($0) },
            method: values["method"], purpose: values["purpose"])
        return QuoteView(schedule)
    }

    func renderLoan(
        _ req: Request, _ s: PageSession, form: FormState, quote: QuoteView?, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let v = form.values
        let methods = RepaymentMethod.allCases.map {
            LoanPageContext.MethodChoice(
                value: $0.rawValue, label: PageFormat.methodTitle($0), hint: PageFormat.methodHint($0),
                selected: v["method"] == $0.rawValue)
        }
        let context = LoanPageContext(
            page: s.chrome(req, .loanRequest, script: "/js/loan.js"), form: form,
            creditLimit: PageFormat.wholeYuan(s.application.creditLimit ?? "0"),
            annualRate: PageFormat.percent(s.application.annualRate), apr: PageFormat.percent(s.application.apr),
            validUntil: s.application.limitExpiresAt.map(PageFormat.date),
            terms: LoanOfferRules.termChoices.map {
                Choice(value: String($0), label: "\($0)个月", selected: v["termMonths"] == String($0))
            },
            methods: methods,
            purposes: Choice.list(LoanOfferRules.purposes.map { ($0.code, $0.titleZh) }, selected: v["purpose"]),
            quote: quote)
        return try await req.renderPage("journey/loan", context, status: status)
    }

    func donePage(_ req: Request, _ s: PageSession) async throws -> Response {
        guard let loan = s.view.loanRequest else { return req.redirect(to: JourneyPaths.result, redirectType: .normal) }
        let context = DonePageContext(
            page: s.chrome(req, .done, title: "申请已提交"),
            stateTitle: try s.application.applicationState.titleZh,
            amount: PageFormat.yuan(loan.amount), termMonths: loan.termMonths,
            method: PageFormat.methodTitle(try StoredValues.decode(loan.method, "repayment method")),
            purpose: PageFormat.purposeTitle(loan.purpose),
            firstPayment: loan.firstPayment.map(PageFormat.yuan),
            totalInterest: loan.totalInterest.map(PageFormat.yuan),
            apr: loan.apr.map { PageFormat.percent($0) }, bankCard: s.view.applicant.bankCard,
            bank: s.view.applicant.bank,
            requestedAt: PageFormat.time(loan.requestedAt))
        return try await req.renderPage("journey/done", context)
    }

    func stoppedPage(_ req: Request, _ s: PageSession) async throws -> Response {
        let app = s.application
        let state = try app.applicationState
        let heading: String
        let message: String
        var detail: String?
        var retryAt: String?
        var canRestart = false
        switch app.stopReason {
        case "identity_mismatch":
            heading = "身份核验未通过"
            message = StopMessages.chinese(app.stopReason)
            detail = "为保障您的资金安全，您填写的姓名与身份证号码须与公安部公民身份信息一致。如您的证件信息有变更，请携带本人有效身份证件到我行任一网点办理。"
        case "liveness_failed", "face_mismatch":
            heading = "人脸识别暂时无法继续"
            message = StopMessages.chinese(app.stopReason)
            detail = "请在光线充足的环境下，由本人正对手机完成识别。"
            retryAt = app.faceLockedUntil.map(PageFormat.time)
        case "phone_not_owned":
            heading = "手机号核验未通过"
            message = StopMessages.chinese(app.stopReason)
            detail = "请使用您本人实名登记的手机号重新申请，或携带身份证到我行网点办理。"
        default:
            if state == .expired {
                heading = "申请已过期"
                message = "您的申请超过30天未操作，已自动失效。"
            } else if state == .cancelled {
                heading = "申请已取消"
                message = "您已取消本次申请。"
            } else {
                heading = "申请无法继续"
                message = StopMessages.chinese(app.stopReason)
            }
            detail = "如仍有资金需求，您可以重新发起申请。"
            canRestart = state == .expired || state == .cancelled
        }
        let context = StoppedPageContext(
            page: s.chrome(req, nil, title: heading), heading: heading, message: message, detail: detail,
            retryAt: retryAt, canRestart: canRestart)
        return try await req.renderPage("journey/stopped", context)
    }
}
