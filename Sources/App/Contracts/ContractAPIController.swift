import Fluent
import LendingCore
import Vapor

/// The contract as a JSON API under /api/v1 for the signed-in applicant: read, download (PDF, signature, evidence),
/// request the SMS code, sign; and, open to anyone, the bank's CA certificate for offline verification (routes.swift).
/// (The page is ContractPagesController.)
struct ContractAPIController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let application = routes.grouped("applications", ":applicationID")
        application.get("contract", use: show)
        application.get("contract.pdf", use: pdf)
        application.get("contract.p7s", use: signature)
        application.get("contract", "evidence.json", use: evidence)
        application.get("contract", "evidence.p7s", use: evidenceSignature)
        application.post("contract", "sms-code", use: sendCode)
        application.post("contract", "sign", use: sign)
    }

    func show(_ req: Request) async throws -> ContractView {
        let application = try await req.ownedApplication()
        let contracts = req.contracts
        return ContractView(try await contracts.current(application), applicationID: try application.requireID())
    }

    func pdf(_ req: Request) async throws -> Response {
        let application = try await req.ownedApplication()
        let contracts = req.contracts
        let (data, number) = try await contracts.pdf(try await contracts.current(application))
        return Self.download(
            data, type: HTTPMediaType(type: "application", subType: "pdf"), fileName: "contract-\(number).pdf")
    }

    func signature(_ req: Request) async throws -> Response {
        let record = try await signedRecord(req)
        return Self.download(
            record.signature, type: HTTPMediaType(type: "application", subType: "pkcs7-signature"),
            fileName: "contract-\(record.contractNumber).p7s")
    }

    func evidence(_ req: Request) async throws -> Response {
        let record = try await signedRecord(req)
        return Self.download(
            try await req.contracts.evidence(of: record), type: .json,
            fileName: "contract-\(record.contractNumber)-evidence.json")
    }

    func evidenceSignature(_ req: Request) async throws -> Response {
        let record = try await signedRecord(req)
        return Self.download(
            record.evidenceSignature, type: HTTPMediaType(type: "application", subType: "pkcs7-signature"),
            fileName: "contract-\(record.contractNumber)-evidence.p7s")
    }

    func sendCode(_ req: Request) async throws -> Response {
        let application = try await req.ownedApplication()
        let sent = try await req.contracts.sendCode(application)
        return try await sent.encodeResponse(status: .accepted, for: req)
    }

    func sign(_ req: Request) async throws -> ContractView {
        let application = try await req.ownedApplication()
        let body = try req.content.decode(ContractSignRequest.self)
        let contracts = req.contracts
        let record = try await contracts.sign(application, body)
        return ContractView(
            .signed(record, try await contracts.content(of: record)), applicationID: try application.requireID())
    }

    /// The bank's CA certificate (PEM): what `openssl cms -verify -CAfile` and `yidai contract verify --ca` trust.
    @Sendable static func certificateAuthority(_ req: Request) async throws -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "application", subType: "x-pem-file")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"yidai-contract-ca.pem\"")
        return Response(status: .ok, headers: headers, body: .init(string: req.yidai.config.signing.caPEM))
    }

    private func signedRecord(_ req: Request) async throws -> SignedContract {
        let application = try await req.ownedApplication()
        guard let record = try await req.contracts.signedContract(of: application) else {
            throw APIError(
                .conflict, code: "contract_not_signed",
                message: "The contract has not been signed yet, so there is no signature.",
                messageZh: "合同尚未签署。")
        }
        return record
    }

    static func download(_ data: Data, type: HTTPMediaType, fileName: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = type
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(fileName)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "X-Content-SHA256", value: ContractService.sha256Hex(data))
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

extension Request {
    var contracts: ContractService { ContractService(journey: journey, threadPool: application.threadPool) }
}

/// The contract as the API shows it: the terms, the text, the plan, the PDF's SHA-256 and where to download.
struct ContractView: Content {
    struct Party: Content {
        let name: String
        let idNumber: String?
    }

    struct Card: Content {
        let masked: String
        let bank: String
    }

    struct Authorization: Content {
        let version: String
        let sha256: String
        let signedAt: String
    }

    struct Signing: Content {
        let signedAt: Date
        let smsProof: UUID
        let evidenceSHA256: String
        let certificateSHA256: String
    }

    struct Links: Content {
        let pdf: String
        let signature: String?
        let evidence: String?
        let evidenceSignature: String?
        let certificateAuthority: String
    }

    let applicationID: UUID
    let state: String
    let contractNumber: String
    let templateVersion: String
    let title: String
    let businessDate: String
    let sha256: String
    let pdfBytes: Int
    let lender: Party
    let borrower: Party
    let amount: String
    let amountInWords: String
    let termMonths: Int
    let method: String
    let methodTitle: String
    let annualRate: String
    let apr: String
    let penaltyRate: String
    let purpose: String
    let purposeTitle: String
    let totalInterest: String
    let totalPayment: String
    let disbursementCard: Card
    let creditAuthorization: Authorization
    let sections: [ContractContent.Section]
    let plan: [ContractContent.PlanRow]
    let planNote: String
    let signing: Signing?
    let links: Links

    init(_ stage: ContractService.Stage, applicationID: UUID) {
        let content: ContractContent
        let sha: String
        let bytes: Int
        switch stage {
        case .unsigned(let draft):
            content = draft.content
            sha = draft.sha256
            bytes = draft.pdf.count
            signing = nil
        case .signed(let record, let stored):
            content = stored
            sha = record.pdfSHA256
            bytes = record.pdfBytes
            signing = Signing(
                signedAt: record.signedAt, smsProof: record.smsProof, evidenceSHA256: record.evidenceSHA256,
                certificateSHA256: record.certificateSHA256)
        }
        let base = "/api/v1/applications/\(applicationID.uuidString)/"
        let signed = signing != nil
        self.applicationID = applicationID
        state = signed ? "signed" : "unsigned"
        contractNumber = content.contractNumber
        templateVersion = content.templateVersion
        title = content.title
        businessDate = content.businessDate
        sha256 = sha
        pdfBytes = bytes
        lender = Party(name: content.lender, idNumber: nil)
        borrower = Party(name: PersonalDataMask.name(content.borrowerName), idNumber: content.borrowerIDMasked)
        amount = content.amount
        amountInWords = content.amountInWords
        termMonths = content.termMonths
        method = content.method
        methodTitle = content.methodTitle
        annualRate = content.annualRate
        apr = content.apr
        penaltyRate = content.penaltyRate
        purpose = content.purpose
        purposeTitle = content.purposeTitle
        totalInterest = content.totalInterest
        totalPayment = content.totalPayment
        disbursementCard = Card(masked: content.cardMasked, bank: content.cardBank)
        creditAuthorization = Authorization(
            version: content.authorizationVersion, sha256: content.authorizationSHA256,
            signedAt: content.authorizationSignedAt)
        sections = content.sections
        plan = content.plan
        planNote = content.planNote
        links = Links(
            pdf: base + "contract.pdf", signature: signed ? base + "contract.p7s" : nil,
            evidence: signed ? base + "contract/evidence.json" : nil,
            evidenceSignature: signed ? base + "contract/evidence.p7s" : nil,
            certificateAuthority: "/api/v1/contract-signing/ca.pem")
    }
}
