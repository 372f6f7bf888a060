import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// Steps 2 to 4 of the journey, who the applicant is: the ID card against the citizen registry, the face against the
/// registry photo, and the debit card (carrier, UnionPay, SMS code).
extension JourneyService {
    // MARK: - Step 2: ID card

    func uploadIDCard(_ application: LoanApplication, front: Data?, back: Data?) async throws -> IDCardReadingView {
        try require(.idCard, application)
        guard let front, !front.isEmpty else { throw APIError.missing("frontImage") }
        guard let back, !back.isEmpty else { throw APIError.missing("backImage") }
        try await limitUploads(application)
        let reading: IDCardReading
        do {
            reading = try await services.metrics.measure(provider: "ocr") { () async throws(ProviderError) -> IDCardReading in
                try await services.providers.ocr.read(front: front, back: back)
            }
        } catch {
            if error == .busy {
                throw APIError(.serviceUnavailable, code: error.code, message: error.message, messageZh: error.messageZh)
            }
            guard ProviderError.photoProblems.contains(error) else {
                // The engine itself failed (no model, out of time): retaking the photos would not help.
                return try await providerCall("ocr") { throw error }
            }
            if error == .unreadable {
                throw APIError(.unprocessableEntity, code: "card_unreadable", message: "Could not read the ID card. Please retake both photos.",
                               messageZh: "无法识别证件，请重新拍摄。", field: "frontImage")
            }
            // A blank photo, both photos of one side, a huge or a damaged file: say which, nothing is recorded.
            throw APIError(.unprocessableEntity, code: error.code, message: error.message, messageZh: error.messageZh, field: "frontImage")
        }
        let view = IDCardReadingView(reading)
        application.ocrSealed = try await vault.seal(String(decoding: try JSONEncoder().encode(view), as: UTF8.self), phoneIndex: application.phoneIndex, as: .general)
        try await save(application, action: "id_card.read", details: ["name": PersonalDataMask.name(reading.name), "idNumber": PersonalDataMask.idNumber(reading.idNumber)])
        return view
    }

    func ocrReading(_ application: LoanApplication) async throws -> IDCardReadingView? {
        guard let sealed = application.ocrSealed else { return nil }
        return try JSONDecoder().decode(IDCardReadingView.self, from: Data(try await vault.open(sealed).utf8))
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
        let result = try await providerCall("registry") { try await services.providers.registry.verify(name: name, idNumber: idNumber) }
        switch result {
        case .match(let photoReference):
            let sealed = try await vault.seal([name, idNumber.value, address], phoneIndex: application.phoneIndex, as: .kept)
            (application.nameSealed, application.idNumberSealed, application.addressSealed) = (sealed[0], sealed[1], sealed[2])
            application.idNumberIndex = cipher.blindIndex(idNumber.value, purpose: "id_number")
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
        guard let idRaw = try await vault.openOptional(application.idNumberSealed), let photo = application.registryPhotoRef else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the ID card step first.", messageZh: "请先完成身份证识别。")
        }
        let idNumber = try ChineseIDNumber(idRaw)
        let result = try await providerCall("face") {
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
        let identity = try await identity(of: application)
        if application.carrierVerifiedAt == nil {
            let carrier = try await providerCall("carrier") { try await services.providers.carrier.verify(phone: identity.phone, name: identity.name, idNumber: identity.idNumber) }
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
        let result = try await providerCall("unionpay") {
            try await services.providers.unionPay.verify(card: card, name: identity.name, idNumber: identity.idNumber, phone: identity.phone)
        }
        switch result {
        case .verified(let bankName, _):
            application.pendingCardSealed = try await vault.seal(card.value, phoneIndex: application.phoneIndex, as: .general)
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
        let identity = try await identity(of: application)
        let proof = try await codes.check(code, phone: identity.phone, purpose: .bankCard)
        let card = try BankCardNumber(try await vault.open(pending))
        let state = try application.applicationState
        try Self.transition(from: state, to: .identityVerified)
        application.cardSealed = try await vault.seal(card.value, phoneIndex: application.phoneIndex, as: .kept)
        application.cardIndex = cipher.blindIndex(card.value, purpose: "card")
        application.cardMasked = card.masked
        application.pendingCardSealed = nil
        application.cardVerifiedAt = now
        application.state = ApplicationState.identityVerified.rawValue
        try await save(application, action: "bank_card.verified", details: ["card": card.masked, "state": "identity_verified"], consuming: proof)
    }

    private func limitUploads(_ application: LoanApplication) async throws {
        let id = try application.requireID()
        if let wait = try await services.limiter.attempt("upload:\(id)", rule: RateRules.uploadsPerApplication, now: now, on: db) {
            throw APIError.tooManyRequests(retryAfter: wait, message: "Too many uploads. Try again in \(wait) seconds.", zh: "上传过于频繁，请稍后再试。")
        }
    }
}

extension IDCardReadingView {
    /// A field read with less confidence than this (0 to 100) is for the applicant to check.
    static let unsureBelow = 85.0

    init(_ reading: IDCardReading) {
        self.init(name: reading.name, idNumber: reading.idNumber, address: reading.address, validUntil: reading.validUntil?.description ?? "",
                  sex: reading.sex?.rawValue, birthDate: reading.birthDate?.iso, validFrom: reading.validFrom?.iso,
                  issuingAuthority: reading.issuingAuthority, ethnicity: reading.ethnicity, confidence: reading.confidence,
                  needsAttention: Self.attention(reading))
    }

    static func attention(_ reading: IDCardReading) -> [IDCardFieldAttention] {
        let fields: [(field: String, value: String, confidenceKey: String, empty: String)] = [
            ("name", reading.name, "name", "未能识别姓名，请填写"),
            ("idNumber", reading.idNumber, "idNumber", "未能识别身份证号码或校验未通过，请填写"),
            ("address", reading.address, "address", "未能识别住址，请填写"),
            ("validUntil", reading.validUntil?.description ?? "", "validity", "未能识别有效期限，请填写"),
            ("issuingAuthority", reading.issuingAuthority, "issuingAuthority", "未能识别签发机关"),
        ]
        return fields.compactMap { f in
            if f.value.isEmpty { return IDCardFieldAttention(field: f.field, reason: "not_read", message: f.empty) }
            if let sure = reading.confidence?[f.confidenceKey], sure < unsureBelow {
                return IDCardFieldAttention(field: f.field, reason: "unsure", message: "识别把握不大，请核对")
            }
            return nil
        }
    }
}
