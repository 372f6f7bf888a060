import Fluent
import LendingCore
import Vapor

/// The applicant's pages of the manager's loop: the lead page (`/lead`, open to anyone, linked from the public
/// account's menu and from the "coming soon" page of a branch not online yet) and 联系我的客户经理 (`/messages`,
/// signed in: the application's 云接洽 conversation). Every rule is in `LeadBook` and `Conversation`.
struct LeadPagesController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.get("lead", use: page)
        routes.post("lead", use: post)
    }

    struct LeadForm: Content {
        var name: String?
        var phone: String?
        var smsCode: String?
        var city: String?
        var consent: String?
        var cm: String?
        var ch: String?
        var campaign: String?
        var action: String?
    }

    struct Context: Encodable {
        let page: PageChrome
        let form: FormState
        let cities: [String]
        let consentText: String
        let consentVersion: String
        let codeSent: Bool
        let done: Bool
    }

    func render(_ req: Request, form: FormState, codeSent: Bool = false, done: Bool = false, status: HTTPResponseStatus = .ok) async throws -> Response {
        let cities = try await LeadBook(db: req.db, services: req.yidai).cities()
        let context = Context(
            page: PageChrome(req: req, step: nil, title: "预约客户经理", signedIn: req.auth.get(SignedInApplicant.self) != nil), form: form, cities: cities,
            consentText: LeadConsent.text, consentVersion: LeadConsent.version, codeSent: codeSent, done: done)
        return try await req.renderPage("journey/lead", context, status: status)
    }

    func page(_ req: Request) async throws -> Response {
        var values: [String: String] = [:]
        for key in ["cm", "ch", "campaign"] { values[key] = req.query[String.self, at: key].map { String($0.prefix(32)) } ?? "" }
        return try await render(req, form: FormState(values: values))
    }

    func post(_ req: Request) async throws -> Response {
        let body = try req.content.decode(LeadForm.self)
        var form = FormState(values: [
            "name": body.name ?? "", "phone": body.phone ?? "", "city": body.city ?? "", "cm": body.cm ?? "", "ch": body.ch ?? "",
            "campaign": body.campaign ?? "", "consent": body.consent == "yes" ? "yes" : "",
        ])
        let phone = (body.phone ?? "").filter { !$0.isWhitespace && $0 != "-" }
        let fields = FormState.same("name", "phone", "smsCode", "city", "consent")
        if body.action == "send" {
            do {
                let sent = try await req.journey.sendSignInCode(SMSCodeRequest(phone: phone, purpose: "lead"))
                form.notice = "验证码已发送至\(sent.sentTo)，5分钟内有效。"
                return try await render(req, form: form, codeSent: true)
            } catch let error as APIError {
                form.record(error, fieldMap: fields, fallbackField: "phone")
                return try await render(req, form: form, status: error.status)
            }
        }
        do {
            _ = try await LeadBook(db: req.db, services: req.yidai).submit(
                LeadSubmission(name: body.name, phone: phone, smsCode: body.smsCode, city: body.city, consent: body.consent == "yes",
                               cm: body.cm, ch: body.ch, campaign: body.campaign),
                codes: OneTimeCodes(db: req.db, services: req.yidai))
            return try await render(req, form: FormState(), done: true)
        } catch let error as APIError {
            form.record(error, fieldMap: fields, fallbackField: "smsCode")
            return try await render(req, form: form, codeSent: true, status: error.status)
        }
    }
}

/// 联系我的客户经理: the signed-in applicant's conversation with their manager.
struct ConversationPagesController: RouteCollection {
    static let path = "/messages"

    func boot(routes: RoutesBuilder) throws {
        routes.get("messages", use: page)
        routes.post("messages", use: post)
    }

    struct MessageForm: Content {
        var text: String?
        var consent: String?
        var pickSlot: String?
    }

    struct Context: Encodable {
        struct Message: Encodable {
            let mine: Bool
            let text: String
            let time: String
            let slots: [Slot]
        }
        struct Slot: Encodable {
            let value: String
            let label: String
            let picked: Bool
        }
        let page: PageChrome
        let form: FormState
        let messages: [Message]
        let consented: Bool
        let managerName: String?
        let consentText: String
        let hasManager: Bool
    }

    func render(_ req: Request, form: FormState, status: HTTPResponseStatus = .ok) async throws -> Response {
        let session = try req.pageSession
        let conversation = Conversation(db: req.db, services: req.yidai, application: session.application)
        let list = try await conversation.list()
        let picked = Set(list.items.compactMap(\.pickedSlot))
        var manager: StaffMember?
        if let code = session.application.cmLast { manager = try await StaffMember.query(on: req.db).filter(\.$managerCode == code).first() }
        let context = Context(
            page: session.chrome(req, nil, title: "联系我的客户经理"), form: form,
            messages: list.items.map { m in
                .init(mine: m.from == "applicant", text: m.text, time: PageFormat.shortTime(m.sentAt),
                      slots: (m.slots ?? []).map { .init(value: $0, label: Conversation.slotLabel($0), picked: picked.contains($0)) })
            },
            consented: list.consented, managerName: manager.map { "\($0.displayName)（\($0.managerCode ?? "")）" },
            consentText: ConversationConsentText.text, hasManager: manager != nil)
        return try await req.renderPage("journey/messages", context, status: status)
    }

    func page(_ req: Request) async throws -> Response { try await render(req, form: FormState()) }

    func post(_ req: Request) async throws -> Response {
        let body = try req.content.decode(MessageForm.self)
        let session = try req.pageSession
        do {
            _ = try await Conversation(db: req.db, services: req.yidai, application: session.application).applicantSends(
                MessageIn(text: body.text, consent: body.consent == "yes" ? true : nil, slots: nil, pickSlot: body.pickSlot?.isEmpty == false ? body.pickSlot : nil))
            return req.redirect(to: Self.path, redirectType: .normal)
        } catch let error as APIError {
            var form = FormState(values: ["text": body.text ?? ""])
            form.record(error, fieldMap: FormState.same("text", "consent", "pickSlot"), fallbackField: "text")
            return try await render(req, form: form, status: error.status)
        }
    }
}
