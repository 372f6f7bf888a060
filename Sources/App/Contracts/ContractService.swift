import Crypto
import Fluent
import Foundation
import LendingCore
import NIOPosix
import SQLKit
import Vapor

/// The loan contract: generated from the loan request, read by the borrower, signed with an SMS code, sealed by
/// the bank's CMS signature. Shared by the JSON API and the page; the journey's rules (ownership, order, SMS codes,
/// audit trail) are the same as in JourneyService.
struct ContractService {
    let journey: JourneyService
    let threadPool: NIOThreadPool

    var db: Database { journey.db }
    var services: YidaiServices { journey.services }
    var cipher: FieldCipher { services.cipher }
    var vault: PersonVault { PersonVault(db: db, services: services) }
    var now: Date { services.clock.now() }

    /// An unsigned contract as generated now: nothing is stored until it is signed.
    struct Draft: Sendable {
        let content: ContractContent
        let pdf: Data
        let sha256: String
    }

    enum Stage: Sendable {
        case unsigned(Draft)
        case signed(SignedContract, ContractContent)
    }

    // MARK: - Reading

    /// The signed contract when there is one (whatever happened to the application since), else the draft of an
    /// application in loan_requested; 409 before the loan request.
    func current(_ application: LoanApplication) async throws -> Stage {
        if let signed = try await signedContract(of: application) {
            return .signed(signed, try await content(of: signed))
        }
        guard try application.applicationState == .loanRequested else { throw try Self.notYet(application) }
        return .unsigned(try await draft(application))
    }

    func signedContract(of application: LoanApplication) async throws -> SignedContract? {
        try await SignedContract.query(on: db).filter(\.$applicationID == application.requireID()).first()
    }

    func content(of signed: SignedContract) async throws -> ContractContent {
        try JSONDecoder().decode(ContractContent.self, from: Data(try await vault.open(signed.contentSealed).utf8))
    }

    func pdf(of signed: SignedContract) async throws -> Data {
        guard let data = Data(base64Encoded: try await vault.open(signed.pdfSealed)) else {
            throw FieldCipher.CipherError.malformed
        }
        return data
    }

    func evidence(of signed: SignedContract) async throws -> Data {
        Data(try await vault.open(signed.evidenceSealed).utf8)
    }

    /// The PDF of whatever `current` returns: the signed bytes, or the draft's.
    func pdf(_ stage: Stage) async throws -> (data: Data, number: String) {
        switch stage {
        case .unsigned(let draft): (draft.pdf, draft.content.contractNumber)
        case .signed(let record, _): (try await pdf(of: record), record.contractNumber)
        }
    }

    func draft(_ application: LoanApplication) async throws -> Draft {
        let content: ContractContent
        // The plan the borrower signs starts on the business date, as the loan the bank books does.
        let businessDate = try await BusinessDateStore(db: db, clock: services.clock).current()
        do { content = try ContractContent.make(try await facts(application, businessDate: businessDate)) } catch let error as FieldError {
            throw APIError(error)
        }
        let key = try Self.draftKey(content)
        if let stored = try await storedDraft(of: application, key: key) {
            return Draft(content: content, pdf: stored, sha256: Self.sha256Hex(stored))
        }
        let document = content.printable(createdAt: Self.startOfDay(businessDate))
        let pdf: Data
        do {
            pdf = try await threadPool.runIfActive { try PDFRenderer.render(document) }
        } catch {
            journey.logger.error("Contract PDF could not be rendered: \(error)")
            throw APIError(
                .internalServerError, code: "contract_unavailable",
                message: "The contract could not be generated. Please try again later.",
                messageZh: "合同暂时无法生成，请稍后再试。")
        }
        do {
            try await storeDraft(pdf, of: application, key: key)
        } catch {
            // Only a saving: the next reading renders it again.
            journey.logger.warning("Contract draft not stored: \(error)")
        }
        return Draft(content: content, pdf: pdf, sha256: Self.sha256Hex(pdf))
    }

    // MARK: - Drafts rendered once

    /// What a draft's PDF shows: the content (every term, the plan, the parties as printed) and the template.
    static func draftKey(_ content: ContractContent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return sha256Hex(try encoder.encode(content))
    }

    /// The PDF last rendered for this application, if it shows exactly this content.
    func storedDraft(of application: LoanApplication, key: String) async throws -> Data? {
        guard let sql = db as? any SQLDatabase,
            let row = try await sql.raw(
                "SELECT content_key, pdf_sealed FROM contract_drafts WHERE application_id = \(bind: try application.requireID())"
            ).first(),
            try row.decode(column: "content_key", as: String.self) == key
        else { return nil }
        guard let opened = try await vault.openIfKept(try row.decode(column: "pdf_sealed", as: String.self)) else { return nil }
        return Data(base64Encoded: opened)
    }

    func storeDraft(_ pdf: Data, of application: LoanApplication, key: String) async throws {
        let sealed = try await vault.seal(pdf.base64EncodedString(), phoneIndex: application.phoneIndex, as: .general)
        let (id, now) = (try application.requireID(), now)
        try await db.writeStatement { sql in
            try await sql.raw("""
                INSERT INTO contract_drafts (application_id, content_key, pdf_sealed, created_at)
                VALUES (\(bind: id), \(bind: key), \(bind: sealed), \(bind: now))
                ON CONFLICT (application_id) DO UPDATE SET content_key = excluded.content_key, pdf_sealed = excluded.pdf_sealed,
                    created_at = excluded.created_at
                """).run()
        }
    }

    func facts(_ application: LoanApplication, businessDate: CivilDate) async throws -> ContractContent.Facts {
        let identity = try await journey.identity(of: application)
        guard application.loanAmount != nil, let purpose = application.loanPurpose, let requestedAt = application.loanRequestedAt else {
            throw try Self.notYet(application)
        }
        // The same terms the booking will use: one builder, a missing field is an error.
        let requested = try LoanTermsBuilder.requestedLoan(application)
        let (amount, term, method, rate) = (requested.principal, requested.termMonths, requested.method, requested.annualRatePercent)
        guard let cardMasked = application.cardMasked, let bank = application.cardBank,
            let version = application.authorizationVersion,
            let authorizationSHA = application.authorizationSHA256, let authorizedAt = application.authorizationSignedAt
        else { throw try Self.notYet(application) }
        return ContractContent.Facts(
            applicationID: try application.requireID(), requestedOn: BusinessCalendar.civilDate(requestedAt),
            businessDate: businessDate,
            borrowerName: identity.name, borrowerIDMasked: identity.idNumber.masked,
            borrowerPhoneMasked: identity.phone.masked,
            amount: amount, termMonths: term, method: method, annualRatePercent: rate, purpose: purpose,
            cardMasked: cardMasked,
            cardBank: bank, authorizationVersion: version, authorizationSHA256: authorizationSHA,
            authorizationSignedAt: authorizedAt)
    }

    // MARK: - Signing

    func sendCode(_ application: LoanApplication) async throws -> OneTimeCodes.Sent {
        try requireSignable(application)
        let identity = try await journey.identity(of: application)
        return try await journey.codes.send(
            to: identity.phone, purpose: .contract, applicationID: application.id, clientAddress: journey.client.address
        )
    }

    /// Checks the consent, that the borrower saw exactly this PDF (its SHA-256) and the SMS code; then signs the PDF
    /// and the evidence with the bank's key, stores them, and moves the application to contract_signed. Any refusal
    /// changes nothing (but a wrong code counts against the code's five tries).
    func sign(_ application: LoanApplication, _ body: ContractSignRequest) async throws -> SignedContract {
        try requireSignable(application)
        guard body.agree == true else {
            throw APIError.invalid(
                "agree", "Read the contract and agree to it (agree: true) to sign it.", zh: "请阅读并勾选同意《个人借款合同》。")
        }
        guard let submitted = body.sha256?.trimmingCharacters(in: .whitespaces).lowercased(), !submitted.isEmpty else {
            throw APIError.missing("sha256")
        }
        guard let code = body.code, !code.isEmpty else { throw APIError.missing("code") }
        let draft = try await draft(application)
        guard submitted == draft.sha256 else {
            throw APIError(
                .conflict, code: "contract_changed",
                message:
                    "This is not the contract's current SHA-256: the contract has changed since it was shown (a new business day moves the plan's dates). Reload it, read it again and sign.",
                messageZh: "合同内容已更新，请重新阅读后再签署。", field: "sha256")
        }
        let identity = try await journey.identity(of: application)
        let checked = try await journey.codes.check(code, phone: identity.phone, purpose: .contract)
        let proof = checked.id

        // Whole seconds: the CMS signing time (UTCTime) and the evidence then name the same instant.
        let signedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let signer: BankSigningIdentity
        do { signer = try BankSigningIdentity.cached(services.config.signing) } catch {
            journey.logger.critical("Contract signing key unusable: \(error)")
            throw APIError(
                .internalServerError, code: "signing_unavailable",
                message: "The contract cannot be signed right now. Please try again later.",
                messageZh: "暂时无法签署合同，请稍后再试。")
        }
        let pdfSignature = try signer.sign(draft.pdf, at: signedAt)
        let evidence = SigningEvidence(
            application: application, content: draft.content, pdf: draft.pdf, pdfSHA256: draft.sha256,
            identity: identity,
            smsProof: proof, signedAt: signedAt, client: journey.client, signer: signer, pdfSignature: pdfSignature)
        let evidenceJSON = try evidence.canonicalJSON()
        let evidenceSignature = try signer.sign(evidenceJSON, at: signedAt)

        let record = SignedContract()
        record.applicationID = try application.requireID()
        record.contractNumber = draft.content.contractNumber
        record.templateVersion = draft.content.templateVersion
        record.businessDate = draft.content.businessDate
        let sealed = try await vault.seal(
            [String(decoding: try JSONEncoder().encode(draft.content), as: UTF8.self), draft.pdf.base64EncodedString(),
             String(decoding: evidenceJSON, as: UTF8.self)],
            phoneIndex: application.phoneIndex, as: .kept)
        (record.contentSealed, record.pdfSealed, record.evidenceSealed) = (sealed[0], sealed[1], sealed[2])
        record.pdfSHA256 = draft.sha256
        record.pdfBytes = draft.pdf.count
        record.evidenceSHA256 = Self.sha256Hex(evidenceJSON)
        record.signature = pdfSignature
        record.evidenceSignature = evidenceSignature
        record.certificateSHA256 = signer.fingerprintSHA256
        record.smsProof = proof
        record.signedAt = signedAt

        let from = try application.applicationState
        do { try ApplicationStateMachine.transition(from: from, to: .contractSigned) } catch {
            throw try Self.notYet(application)
        }
        application.state = ApplicationState.contractSigned.rawValue
        let codes = journey.codes
        let applicationID = record.applicationID
        let queuedAt = now
        // One transaction: the contract, the used-up code, the queued payout and the audit entry, as a
        // compare-and-set on the application, so a cancel or a second signature at the same moment loses cleanly.
        do {
            try await journey.store.commit(
                application, actor: "applicant", action: "contract.signed",
                details: [
                    "contract": record.contractNumber, "template": record.templateVersion,
                    "sha256": record.pdfSHA256,
                    "evidenceSha256": record.evidenceSHA256, "smsProof": proof.uuidString,
                    "certificate": record.certificateSHA256,
                ]
            ) { tx in
                try await codes.consume(checked, on: tx)
                try await record.create(on: tx)
                try await PayoutJobs.enqueue(applicationID, on: tx, now: queuedAt)
                if let sql = tx as? any SQLDatabase {
                    try await sql.raw("DELETE FROM contract_drafts WHERE application_id = \(bind: applicationID)").run()
                }
            }
        } catch let error as APIError where error.code == "application_changed" {
            if (try? await SignedContract.query(on: db).filter(\.$applicationID == applicationID).first()) != nil {
                throw Self.alreadySigned
            }
            throw error
        }
        services.jobs.signal(kind: PayoutJobs.kind)  // the payout starts now, not at the worker's next tick
        return record
    }

    func requireSignable(_ application: LoanApplication) throws {
        let state = try application.applicationState
        if state == .contractSigned || state == .disbursing || state == .disbursed { throw Self.alreadySigned }
        guard state == .loanRequested else { throw try Self.notYet(application) }
        if let expires = application.limitExpiresAt, expires <= now {
            throw APIError(
                .conflict, code: "limit_expired",
                message: "The approved limit has expired (valid 30 days). Start a new application.",
                messageZh: "额度已过有效期，请重新申请。")
        }
    }

    static let alreadySigned = APIError(
        .conflict, code: "contract_already_signed", message: "The contract has already been signed.",
        messageZh: "合同已签署。")

    static func notYet(_ application: LoanApplication) throws -> APIError {
        let state = try application.applicationState
        if state.isTerminal || state == .cancelled || state == .expired {
            return APIError(
                .conflict, code: "application_closed",
                message: "This application is closed (\(application.state)); there is no contract to sign.",
                messageZh: "该申请已结束，无合同可签署。")
        }
        return APIError(
            .conflict, code: "step_out_of_order",
            message: "The contract is generated once the loan has been requested (state loan_requested).",
            messageZh: "请先提交借款申请，再签署借款合同。")
    }

    static func sha256Hex(_ data: Data) -> String {
        Hex.string(SHA256.hash(data: data))
    }

    /// 00:00 of a business date in China Standard Time: the PDF's creation date, fixed for the day.
    static func startOfDay(_ date: CivilDate) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        return calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day))
            ?? Date(timeIntervalSince1970: 0)
    }
}

struct ContractSignRequest: Content {
    var code: String?
    var sha256: String?
    var agree: Bool?
}

/// What 电子签名法 art. 13 asks a reliable signature to show, kept with the contract and signed by the bank
/// (evidence.p7s): which document (SHA-256), who signed (references to the identity checks), how (SMS proof,
/// consent), when, from where (address, device), and the bank's signature over the PDF (its SHA-256).
struct SigningEvidence: Codable, Sendable {
    struct Document: Codable, Sendable {
        let contractNumber: String
        let templateVersion: String
        let businessDate: String
        let fileName: String
        let sha256: String
        let bytes: Int
    }

    struct IDCardCheck: Codable, Sendable {
        let confirmedAt: String
        let idNumberMasked: String
        let registryCheck: String
        let registryPhotoReference: String
    }

    struct FaceCheck: Codable, Sendable {
        let verifiedAt: String
        let liveness: String
        let similarity: String
    }

    struct CardCheck: Codable, Sendable {
        let verifiedAt: String
        let cardMasked: String
        let bank: String
        let checks: String
    }

    struct Signer: Codable, Sendable {
        let nameMasked: String
        let phoneMasked: String
        let idCard: IDCardCheck
        let face: FaceCheck
        let bankCard: CardCheck
    }

    struct SMSProof: Codable, Sendable {
        let oneTimeCodeID: String
        let purpose: String
        let sentTo: String
        let verifiedAt: String
    }

    struct Client: Codable, Sendable {
        let address: String
        let device: String
    }

    struct BankSignature: Codable, Sendable {
        let certificateSubject: String
        let certificateSHA256: String
        let format: String
        let contractSignatureSHA256: String
    }

    var evidenceVersion = "YD-SIGN-EVIDENCE-1"
    let applicationID: String
    let document: Document
    let signer: Signer
    let consent: String
    let sms: SMSProof
    let signedAt: String
    let client: Client
    let bankSignature: BankSignature

    init(
        application: LoanApplication, content: ContractContent, pdf: Data, pdfSHA256: String,
        identity: JourneyService.Identity,
        smsProof: UUID, signedAt: Date, client: JourneyService.ClientInfo, signer: BankSigningIdentity,
        pdfSignature: Data
    ) {
        func iso(_ date: Date?) -> String { date.map { JourneyService.isoTime($0) } ?? "-" }
        applicationID = application.id?.uuidString ?? "-"
        document = Document(
            contractNumber: content.contractNumber, templateVersion: content.templateVersion,
            businessDate: content.businessDate,
            fileName: "contract-\(content.contractNumber).pdf", sha256: pdfSHA256, bytes: pdf.count)
        self.signer = Signer(
            nameMasked: PersonalDataMask.name(identity.name), phoneMasked: identity.phone.masked,
            idCard: IDCardCheck(
                confirmedAt: iso(application.idConfirmedAt), idNumberMasked: identity.idNumber.masked,
                registryCheck: "match", registryPhotoReference: application.registryPhotoRef ?? "-"),
            face: FaceCheck(
                verifiedAt: iso(application.faceVerifiedAt), liveness: "passed",
                similarity: application.faceScore ?? "-"),
            bankCard: CardCheck(
                verifiedAt: iso(application.cardVerifiedAt), cardMasked: application.cardMasked ?? "-",
                bank: application.cardBank ?? "-",
                checks: "carrier three-factor, UnionPay four-factor, SMS code"))
        consent = "借款人勾选“我已阅读并同意《个人借款合同》”（合同编号 \(content.contractNumber)），并以发送至 \(identity.phone.masked) 的短信验证码确认签署。"
        sms = SMSProof(
            oneTimeCodeID: smsProof.uuidString, purpose: OneTimeCodes.Purpose.contract.rawValue,
            sentTo: identity.phone.masked,
            verifiedAt: iso(signedAt))
        self.signedAt = iso(signedAt)
        self.client = Client(address: client.address, device: String(client.device.prefix(300)))
        bankSignature = BankSignature(
            certificateSubject: signer.certificate.subject.description, certificateSHA256: signer.fingerprintSHA256,
            format: "CMS SignedData (RFC 5652), detached, SHA-256, DER",
            contractSignatureSHA256: ContractService.sha256Hex(pdfSignature))
    }

    /// Sorted keys, no escaped slashes: the exact bytes that evidence.p7s signs.
    func canonicalJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return try encoder.encode(self)
    }
}
