import Fluent
import LendingCore
import Vapor

/// The borrower's contract page ("我的贷款" → 借款合同): the contract's text, the PDF download, signing with an SMS code,
/// and after signing the signed PDF, its signature and the evidence. Signed-in pages only (routes.swift).
struct ContractPagesController: RouteCollection {
    static let page = "/loan/contract"

    func boot(routes: RoutesBuilder) throws {
        let pages = routes.grouped("loan")
        pages.get("contract", use: show)
        pages.post("contract", use: post)
        pages.get("contract.pdf", use: { try await download($0, .pdf) })
        pages.get("contract.p7s", use: { try await download($0, .signature) })
        pages.get("contract", "evidence.json", use: { try await download($0, .evidence) })
        pages.get("contract", "evidence.p7s", use: { try await download($0, .evidenceSignature) })
    }

    struct Form: Content {
        var action: String?
        var agree: String?
        var code: String?
        var sha256: String?
    }

    enum File { case pdf, signature, evidence, evidenceSignature }

    /// The session's application and its contracts.
    private func session(_ req: Request) throws -> (PageSession, ContractService) {
        let session = try req.pageSession
        return (session, ContractService(journey: session.journey, threadPool: req.application.threadPool))
    }

    func show(_ req: Request) async throws -> Response {
        let (s, contracts) = try session(req)
        return try await render(req, s, contracts, form: FormState(), agreed: false, codeSent: false)
    }

    func post(_ req: Request) async throws -> Response {
        let (s, contracts) = try session(req)
        let body = try req.content.decode(Form.self)
        let agreed = body.agree == "true"
        let code = (body.code ?? "").trimmingCharacters(in: .whitespaces)
        var form = FormState(values: ["code": code])
        if body.action == "send" || (body.action != "sign" && code.isEmpty) {
            guard agreed else {
                form.errors["agree"] = "请先阅读合同并勾选“我已阅读并同意”。"
                return try await render(
                    req, s, contracts, form: form, agreed: false, codeSent: false, status: .unprocessableEntity)
            }
            do {
                let sent = try await contracts.sendCode(s.application)
                form.notice = "验证码已发送至\(sent.sentTo)，5分钟内有效。"
                return try await render(req, s, contracts, form: form, agreed: true, codeSent: true)
            } catch let error as APIError {
                form.record(error, fieldMap: [:], fallbackField: "code")
                return try await render(
                    req, s, contracts, form: form, agreed: agreed, codeSent: false, status: error.status)
            }
        }
        do {
            _ = try await contracts.sign(
                s.application, ContractSignRequest(code: code, sha256: body.sha256, agree: agreed))
            return req.redirect(to: Self.page, redirectType: .normal)
        } catch let error as APIError {
            form.values["code"] = ""
            form.record(error, fieldMap: ["agree": "agree", "code": "code"])
            return try await render(req, s, contracts, form: form, agreed: agreed, codeSent: true, status: error.status)
        }
    }

    func download(_ req: Request, _ file: File) async throws -> Response {
        let (s, contracts) = try session(req)
        let stage: ContractService.Stage
        do { stage = try await contracts.current(s.application) } catch let error as APIError
            where error.status == .conflict
        {
            return req.redirect(
                to: try JourneyStepGuard.destination(of: s), redirectType: .normal)
        }
        let p7s = HTTPMediaType(type: "application", subType: "pkcs7-signature")
        switch (file, stage) {
        case (.pdf, _):
            let (data, number) = try await contracts.pdf(stage)
            return ContractAPIController.download(
                data, type: HTTPMediaType(type: "application", subType: "pdf"), fileName: "contract-\(number).pdf")
        case (.signature, .signed(let record, _)):
            return ContractAPIController.download(
                record.signature, type: p7s, fileName: "contract-\(record.contractNumber).p7s")
        case (.evidence, .signed(let record, _)):
            return ContractAPIController.download(
                try await contracts.evidence(of: record), type: .json,
                fileName: "contract-\(record.contractNumber)-evidence.json")
        case (.evidenceSignature, .signed(let record, _)):
            return ContractAPIController.download(
                record.evidenceSignature, type: p7s, fileName: "contract-\(record.contractNumber)-evidence.p7s")
        default:
            return req.redirect(to: Self.page, redirectType: .normal)
        }
    }

    func render(
        _ req: Request, _ s: PageSession, _ contracts: ContractService, form: FormState,
        agreed: Bool,
        codeSent: Bool, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let stage: ContractService.Stage
        do { stage = try await contracts.current(s.application) } catch let error as APIError
            where error.status == .conflict
        {
            return req.redirect(
                to: try JourneyStepGuard.destination(of: s), redirectType: .normal)
        }
        let context = ContractPageContext(
            page: s.chrome(req, nil, title: "借款合同", script: "/js/code.js"), form: form, stage: stage, agreed: agreed, codeSent: codeSent,
            phoneMasked: s.view.applicant.phone)
        return try await req.renderPage("contract/contract", context, status: status)
    }
}

/// What Resources/Views/contract/contract.leaf receives: the contract's content (the same the PDF prints) and the form.
struct ContractPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let contract: ContractContent
    /// The contract's sections with break opportunities in long hashes (a 64-digit hash would widen a phone's page).
    let sections: [ContractContent.Section]
    /// The PDF's SHA-256, breakable for display (the form sends `sha256`).
    let sha256Display: String
    /// "50,000.00元"
    let amount: String
    let sha256: String
    let pdfSize: String
    let signed: Bool
    let signedAt: String?
    let certificateSHA256: String?
    let agreed: Bool
    let codeSent: Bool
    let phoneMasked: String

    init(
        page: PageChrome, form: FormState, stage: ContractService.Stage, agreed: Bool, codeSent: Bool,
        phoneMasked: String
    ) {
        self.page = page
        self.form = form
        self.agreed = agreed
        self.codeSent = codeSent
        self.phoneMasked = phoneMasked
        switch stage {
        case .unsigned(let draft):
            contract = draft.content
            amount = ContractFormat.yuan(draft.content.amount) + "元"
            sha256 = draft.sha256
            pdfSize = Self.size(draft.pdf.count)
            signed = false
            signedAt = nil
            certificateSHA256 = nil
        case .signed(let record, let content):
            contract = content
            amount = ContractFormat.yuan(content.amount) + "元"
            sha256 = record.pdfSHA256
            pdfSize = Self.size(record.pdfBytes)
            signed = true
            signedAt = ContractFormat.time(record.signedAt)
            certificateSHA256 = record.certificateSHA256
        }
        sections = contract.sections.map {
            ContractContent.Section(title: $0.title, paragraphs: $0.paragraphs.map(Self.breakable))
        }
        sha256Display = Self.breakable(sha256)
    }

    /// Inserts a zero-width space every 8 characters of runs of 16+ hex digits: the text reads and copies the same.
    static func breakable(_ text: String) -> String {
        var out = ""
        var run = ""
        func flush() {
            if run.count >= 16 {
                out += stride(from: 0, to: run.count, by: 8).map { start in
                    let a = run.index(run.startIndex, offsetBy: start)
                    let b = run.index(a, offsetBy: min(8, run.count - start))
                    return String(run[a..<b])
                }.joined(separator: "\u{200B}")
            } else {
                out += run
            }
            run = ""
        }
        for ch in text {
            if ch.isHexDigit && ch.isASCII {
                run.append(ch)
            } else {
                flush()
                out.append(ch)
            }
        }
        flush()
        return out
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_000_000 ? String(format: "%.1f MB", Double(bytes) / 1_000_000) : "\(max(1, bytes / 1000)) KB"
    }
}
