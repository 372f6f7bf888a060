import Vapor

/// Step 5 on the pages: read the credit-report authorization, agree, and sign it with an SMS code.
struct AuthorizationStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let step = routes.grouped(JourneyStepGuard(JourneyPaths.authorization))
        step.get("authorization", use: authorizationPage)
        step.post("authorization", use: authorizationPost)
    }

    struct AuthorizationForm: Content {
        var agree: String?
        var code: String?
        var action: String?
        var version: String?
        var sha256: String?
    }

    func authorizationPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        return try await renderAuthorization(req, s, form: FormState(), agreed: false, codeSent: false)
    }

    func authorizationPost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
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
                if let redirect = try s.redirect(after: error, req) { return redirect }
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
            if let redirect = try s.redirect(after: error, req) { return redirect }
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
            page: s.chrome(req, .authorization, script: "/js/code.js"), form: form, title: document.title, version: document.version,
            sha256: document.sha256,
            paragraphs: AuthorizationPageContext.paragraphs(document.text), agreed: agreed, codeSent: codeSent,
            phoneMasked: s.view.applicant.phone)
        return try await req.renderPage("journey/authorization", context, status: status)
    }
}
