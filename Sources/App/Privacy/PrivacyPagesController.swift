import Fluent
import Foundation
import LendingCore
import Vapor

/// /privacy (个人信息查询与删除), linked from every page's footer: the same `PrivacyCentre` as the API, server-rendered.
/// Signing in always takes a fresh SMS code, even inside a journey session, because the page shows data unmasked;
/// the step-up token lives in an HttpOnly cookie scoped to /privacy for its 10 minutes.
struct PrivacyPagesController: RouteCollection {
    static let cookie = "yd_privacy"

    func boot(routes: RoutesBuilder) throws {
        let privacy = routes.grouped("privacy")
        privacy.get(use: page)
        privacy.post("step-up", use: stepUp)
        privacy.post("export", use: export)
        privacy.get("exports", ":exportID", ":format", use: download)
        privacy.post("correct", use: correct)
        privacy.post("consents", ":purpose", use: withdraw)
        privacy.post("erase", use: erase)
        privacy.post("sign-out", use: signOut)
    }

    struct Context: Encodable {
        struct Row: Encodable {
            let label: String
            let value: String
        }
        struct Section: Encodable {
            let id: String
            let title: String
            let rows: [Row]
            let empty: String?
        }
        struct Consent: Encodable {
            let purpose: String
            let title: String
            let version: String
            let given: String
            let withdrawn: String?
            let withdrawable: Bool
        }
        let page: PageChrome
        let form: FormState
        let signedIn: Bool
        let codeSent: Bool
        let sections: [Section]
        let consents: [Consent]
        let canCorrect: Bool
        let address: String
        /// The facts as given (for correcting the employer, income and emergency contact), when there are any.
        let facts: PrivacyData.Facts?
        let relationships: [Choice]
        let export: PrivacyCentre.ExportView?
        let confirmPurpose: String?
        let confirmTitle: String?
        let confirmText: String?
        let confirmErase: Bool
        let eraseExplanation: String?
        let erasure: String?
    }

    struct Extra {
        var codeSent = false
        var export: PrivacyCentre.ExportView?
        var confirmPurpose: String?
        var confirmText: String?
        var confirmErase = false
        var eraseExplanation: String?
        var erasure: String?
    }

    func person(_ req: Request) async -> String? {
        try? await PrivacyCentre(db: req.db, services: req.yidai).person(token: req.cookies[Self.cookie]?.string)
    }

    func render(_ req: Request, form: FormState = FormState(), extra: Extra = Extra(), status: HTTPStatus = .ok) async throws -> Response {
        let centre = PrivacyCentre(db: req.db, services: req.yidai)
        let person = await person(req)
        var sections: [Context.Section] = []
        var consents: [Context.Consent] = []
        var canCorrect = false
        var address = ""
        var facts: PrivacyData.Facts?
        var open: LoanApplication?
        if let person {
            let data = try await centre.data(person)
            sections = Self.sections(data)
            consents = data.consents.map {
                .init(purpose: $0.purpose, title: $0.titleZh, version: $0.version, given: PrivacyCentre.time($0.givenAt),
                      withdrawn: $0.withdrawnAt.map(PrivacyCentre.time), withdrawable: $0.withdrawable)
            }
            open = PrivacyCentre.open(try await centre.applications(of: person))
            canCorrect = open.map { (try? $0.applicationState.isDecided) == false && $0.addressSealed != nil } ?? false
            address = data.identity?.address ?? ""
            if canCorrect, let open, let current = data.facts.first(where: { $0.application == open.id }) { facts = current }
        }
        let context = Context(
            page: PageChrome(req: req, step: nil, title: "个人信息查询与删除", signedIn: req.auth.get(SignedInApplicant.self) != nil), form: form,
            signedIn: person != nil, codeSent: extra.codeSent, sections: sections, consents: consents, canCorrect: canCorrect, address: address,
            facts: facts, relationships: Choice.list(AboutYouFacts.relationships, selected: form.values["contactRelationship"] ?? facts?.emergencyContact["relationship"]),
            export: extra.export, confirmPurpose: extra.confirmPurpose,
            confirmTitle: extra.confirmPurpose.flatMap { PrivacyCentre.Purpose(rawValue: $0)?.titleZh }, confirmText: extra.confirmText,
            confirmErase: extra.confirmErase, eraseExplanation: extra.eraseExplanation, erasure: extra.erasure)
        let response = try await req.renderPage("journey/privacy", context, status: status)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    static func sections(_ data: PrivacyData) -> [Context.Section] {
        typealias Row = Context.Row
        let t = PrivacyCentre.time
        var sections: [Context.Section] = []
        sections.append(.init(id: "identity", title: "身份信息", rows: data.identity.map { id in
            [Row(label: "手机号", value: data.phone ?? "—"), Row(label: "姓名", value: id.name ?? "—"), Row(label: "身份证号", value: id.idNumber ?? "—"),
             Row(label: "地址", value: id.address ?? "—"), Row(label: "有效期至", value: id.validUntil ?? "—")]
        } ?? (data.phone.map { [Row(label: "手机号", value: $0)] } ?? []), empty: "我们没有保存您的身份信息。"))
        sections.append(.init(id: "checks", title: "核验结果（不保存人脸图像）", rows: data.checks.map { Row(label: $0.titleZh, value: "\($0.result) · \(t($0.at))") },
                              empty: "尚无核验记录。"))
        sections.append(.init(id: "card", title: "银行卡", rows: data.bankCard.map { [Row(label: "卡号", value: $0.number), Row(label: "银行", value: $0.bank ?? "—")] } ?? [],
                              empty: "未绑定银行卡。"))
        sections.append(.init(id: "authorization", title: "征信查询授权", rows: data.creditAuthorizations.map {
            Row(label: "版本 \($0.version)", value: "签署于 \(t($0.signedAt)) · 短信凭证 \($0.smsProof ?? "—")")
        }, empty: "未签署征信授权。"))
        sections.append(.init(id: "report", title: "征信报告摘要", rows: data.creditReports.flatMap {
            [Row(label: "报告编号", value: $0.reportId), Row(label: "账户数", value: String($0.accounts)), Row(label: "当前逾期金额", value: $0.currentOverdueAmount + " 元"),
             Row(label: "近24个月逾期月数", value: String($0.overdueMonthsLast24)), Row(label: "近3个月查询次数", value: String($0.inquiriesLast3Months))]
        }, empty: "未查询征信。"))
        sections.append(.init(id: "facts", title: "您填写的信息", rows: data.facts.flatMap {
            [Row(label: "工作单位", value: $0.employer), Row(label: "月收入", value: $0.monthlyIncome + " 元"),
             Row(label: "紧急联系人", value: "\($0.emergencyContact["name"] ?? "") \($0.emergencyContact["phone"] ?? "")")]
        }, empty: "尚未填写。"))
        sections.append(.init(id: "applications", title: "申请与审批结果", rows: data.applications.map {
            Row(label: t($0.startedAt), value: ([ApplicationState(rawValue: $0.state)?.titleZh ?? $0.state] + $0.reasons).joined(separator: "；"))
        }, empty: "没有申请。"))
        sections.append(.init(id: "loans", title: "借款与还款", rows: data.loans.map {
            Row(label: "借款 \($0.principal) 元", value: "\($0.termMonths)期 · 年利率\($0.annualRate)% · \(LoanStatus(rawValue: $0.status)?.labelZh ?? $0.status)")
        } + data.payments.map { Row(label: "\($0.kind == "disbursement" ? "放款" : "还款") \($0.amount) 元", value: "\($0.businessDate) · \($0.state)") },
                              empty: "没有借款。"))
        sections.append(.init(id: "messages", title: "与客户经理的消息", rows: data.messages.map { Row(label: "\($0.from) · \(t($0.sentAt))", value: $0.text) },
                              empty: "没有消息。"))
        sections.append(.init(id: "access", title: "银行工作人员查看您完整信息的记录", rows: data.staffAccess.map {
            Row(label: "\(t($0.at)) · \($0.staff)", value: "查看\(AuditConsoleController.fieldNames[$0.field] ?? $0.field)：\($0.reason)")
        }, empty: "没有工作人员查看过您的完整信息。"))
        if !data.erasureRequests.isEmpty {
            sections.append(.init(id: "requests", title: "删除请求", rows: data.erasureRequests.map {
                Row(label: "提交于 \(t($0.receivedAt))", value: "\($0.state == "accepted" ? "处理中" : "已处理") · 答复期限 \(t($0.deadline))")
            }, empty: nil))
        }
        return sections
    }

    func page(_ req: Request) async throws -> Response { try await render(req) }

    struct StepUpForm: Content {
        var phone: String?
        var smsCode: String?
        var action: String?
    }

    func stepUp(_ req: Request) async throws -> Response {
        let body = try req.content.decode(StepUpForm.self)
        let phone = (body.phone ?? "").filter { !$0.isWhitespace && $0 != "-" }
        var form = FormState(values: ["phone": phone])
        let fields = FormState.same("phone", "smsCode")
        if body.action == "send" {
            do {
                let sent = try await req.journey.sendSignInCode(SMSCodeRequest(phone: phone, purpose: "privacy"))
                form.notice = "验证码已发送至\(sent.sentTo)，5分钟内有效。"
                return try await render(req, form: form, extra: Extra(codeSent: true))
            } catch let error as APIError {
                form.record(error, fieldMap: fields, fallbackField: "phone")
                return try await render(req, form: form, status: error.status)
            }
        }
        do {
            let answer = try await PrivacyCentre(db: req.db, services: req.yidai).stepUp(
                .init(phone: phone, smsCode: body.smsCode), client: req.remoteAddress?.ipAddress ?? "unknown")
            let response = req.redirect(to: "/privacy")
            response.cookies[Self.cookie] = HTTPCookies.Value(
                string: answer.token, expires: answer.expiresAt, maxAge: Int(PrivacyCentre.sessionLifetime), domain: nil, path: "/privacy",
                isSecure: PageCookies.secure(for: req), isHTTPOnly: true, sameSite: .strict)
            return response
        } catch let error as APIError {
            form.record(error, fieldMap: fields, fallbackField: "smsCode")
            return try await render(req, form: form, extra: Extra(codeSent: true), status: error.status)
        }
    }

    /// Every action below needs the step-up; without it the page asks for the code again.
    func signedIn(_ req: Request) async -> String? { await person(req) }

    func export(_ req: Request) async throws -> Response {
        guard let person = await signedIn(req) else { return req.redirect(to: "/privacy") }
        let view = try await PrivacyCentre(db: req.db, services: req.yidai).createExport(person)
        var form = FormState()
        form.notice = "副本已生成，24小时内可下载。"
        return try await render(req, form: form, extra: Extra(export: view))
    }

    func download(_ req: Request) async throws -> Response {
        guard let person = await signedIn(req) else { return req.redirect(to: "/privacy") }
        let centre = PrivacyCentre(db: req.db, services: req.yidai)
        let row = try await centre.exportRow(person, id: req.parameters.get("exportID"))
        return try await centre.exportFile(row, format: req.parameters.get("format") ?? "")
    }

    struct CorrectForm: Content {
        var address: String?
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

    func correct(_ req: Request) async throws -> Response {
        guard let person = await signedIn(req) else { return req.redirect(to: "/privacy") }
        let body = try req.content.decode(CorrectForm.self)
        var form = FormState(values: [
            "address": body.address ?? "", "employer": body.employer ?? "", "monthlyIncome": body.monthlyIncome ?? "",
            "contactName": body.contactName ?? "", "contactRelationship": body.contactRelationship ?? "", "contactPhone": body.contactPhone ?? "",
        ])
        let facts = body.employer.map { _ in
            AboutYouRequest(employer: body.employer, employmentType: body.employmentType, monthlyIncome: body.monthlyIncome, housing: body.housing,
                            maritalStatus: body.maritalStatus, education: body.education, loanPurpose: body.loanPurpose,
                            emergencyContact: .init(name: body.contactName, relationship: body.contactRelationship, phone: body.contactPhone))
        }
        do {
            try await PrivacyCentre(db: req.db, services: req.yidai).correct(person, .init(address: body.address, aboutYou: facts))
            form.notice = facts == nil ? "地址已更正。" : "信息已更正。"
            return try await render(req, form: form)
        } catch let error as APIError {
            form.record(error, fieldMap: [
                "address": "address", "employer": "employer", "monthlyIncome": "monthlyIncome", "emergencyContact.name": "contactName",
                "emergencyContact.relationship": "contactRelationship", "emergencyContact.phone": "contactPhone",
            ], fallbackField: facts == nil ? "address" : "employer")
            return try await render(req, form: form, status: error.status)
        }
    }

    struct ConfirmForm: Content { var confirm: String? }

    func withdraw(_ req: Request) async throws -> Response {
        guard let person = await signedIn(req) else { return req.redirect(to: "/privacy") }
        let purpose = req.parameters.get("purpose")
        let confirm = (try? req.content.decode(ConfirmForm.self))?.confirm == "yes"
        var form = FormState()
        do {
            let done = try await PrivacyCentre(db: req.db, services: req.yidai).withdraw(person, purpose: purpose, confirm: confirm)
            form.notice = done.cancelledApplication == nil ? "已撤回该授权。" : "已撤回该授权，正在办理的申请已取消。"
            return try await render(req, form: form)
        } catch let error as APIError where error.code == "confirmation_required" {
            return try await render(req, extra: Extra(confirmPurpose: purpose, confirmText: error.messageZh))
        } catch let error as APIError {
            form.formError = error.messageZh
            return try await render(req, form: form, status: error.status)
        }
    }

    func erase(_ req: Request) async throws -> Response {
        guard let person = await signedIn(req) else { return req.redirect(to: "/privacy") }
        let centre = PrivacyCentre(db: req.db, services: req.yidai)
        guard (try? req.content.decode(ConfirmForm.self))?.confirm == "yes" else {
            return try await render(req, extra: Extra(confirmErase: true, eraseExplanation: try await centre.explanation(person)))
        }
        let request = try await centre.requestErasure(person)
        var form = FormState()
        form.notice = "已收到您的删除请求，我们将在 \(PrivacyCentre.time(request.deadline)) 前处理完毕。"
        return try await render(req, form: form, extra: Extra(erasure: request.explanation))
    }

    func signOut(_ req: Request) async throws -> Response {
        let response = req.redirect(to: "/privacy")
        response.cookies[Self.cookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/privacy", isHTTPOnly: true, sameSite: .strict)
        return response
    }
}
