import LendingCore
import Providers
import Vapor

/// Step 1 of the journey on the pages, open to anyone: the phone page (send the SMS code, sign in, or resume when
/// already signed in), where a customer manager's QR code lands (`?cm=&ch=`, kept in a cookie until sign-in), and
/// signing out.
struct SignInPagesController: RouteCollection {
    static let referralCookie = "yd_ref"
    static let referralLifetime = 1800

    func boot(routes: RoutesBuilder) throws {
        routes.get(use: phonePage)
        routes.post(use: phonePost)
        routes.post("sign-out", use: signOut)
    }

    struct PhoneForm: Content {
        var phone: String?
        var code: String?
        var action: String?
    }

    func phonePage(_ req: Request) async throws -> Response {
        let cm = req.query[String.self, at: "cm"]
        let ch = req.query[String.self, at: "ch"]
        // A landing through a manager's code, poster or campaign link is counted (no personal data; see LandingCounter);
        // a HEAD (link previews, monitors) is not.
        if req.method == .GET, let landing = LandingCounter.landing(cm: cm, ch: ch, campaign: req.query[String.self, at: "campaign"]) {
            do {
                try await LandingCounter(db: req.db, clock: req.yidai.clock).record(landing)
            } catch {
                req.logger.warning("landing not counted: \(String(reflecting: error))")
            }
        }
        let response: Response
        let journey = req.journey
        if let applicant = req.auth.get(SignedInApplicant.self),
            let application = try await journey.application(of: applicant)
        {
            if cm != nil { try await journey.touch(application, cm: cm, ch: ch) }
            response = req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } else {
            response = try await renderPhone(req, form: FormState(), codeSent: false)
        }
        if cm != nil || ch != nil, let value = Self.referralValue(cm: cm, ch: ch) {
            response.cookies[Self.referralCookie] = HTTPCookies.Value(
                string: value, maxAge: Self.referralLifetime, path: "/", isSecure: PageCookies.secure(for: req),
                isHTTPOnly: true, sameSite: .lax)
        }
        return response
    }

    func phonePost(_ req: Request) async throws -> Response {
        let body = try req.content.decode(PhoneForm.self)
        let phone = (body.phone ?? "").filter { !$0.isWhitespace && $0 != "-" }
        let code = (body.code ?? "").trimmingCharacters(in: .whitespaces)
        var form = FormState(values: ["phone": body.phone ?? "", "code": code])
        let journey = req.journey
        let send = body.action == "send" || (body.action != "signin" && code.isEmpty)
        if send {
            do {
                let sent = try await journey.sendSignInCode(SMSCodeRequest(phone: phone))
                form.notice = "验证码已发送至\(sent.sentTo)，5分钟内有效。"
                return try await renderPhone(req, form: form, codeSent: true)
            } catch let error as APIError {
                form.record(error, fieldMap: FormState.same("phone", "code"), fallbackField: "code")
                return try await renderPhone(req, form: form, codeSent: false, status: error.status)
            }
        }
        let referral = Self.referral(from: req.cookies[Self.referralCookie]?.string)
        do {
            let (token, _, _) = try await journey.signIn(
                SignInRequest(phone: phone, code: code, cm: referral.cm, ch: referral.ch))
            let response = req.redirect(to: JourneyPaths.resume, redirectType: .normal)
            response.cookies[ApplicantAuthenticator.sessionCookie] = HTTPCookies.Value(
                string: token, maxAge: Int(JourneyService.sessionLifetime), path: "/",
                isSecure: PageCookies.secure(for: req),
                isHTTPOnly: true, sameSite: .lax)
            if referral.cm != nil || referral.ch != nil {
                response.cookies[Self.referralCookie] = HTTPCookies.Value(
                    string: "", maxAge: 0, path: "/", isHTTPOnly: true, sameSite: .lax)
            }
            return response
        } catch let error as APIError {
            form.values["code"] = ""
            form.record(error, fieldMap: FormState.same("phone", "code"))
            return try await renderPhone(req, form: form, codeSent: true, status: error.status)
        }
    }

    func renderPhone(_ req: Request, form: FormState, codeSent: Bool, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let sandbox = req.yidai.providers.isSandbox
        let persons =
            sandbox
            ? SandboxPersona.all.map {
                PhonePageContext.TestPerson(
                    key: $0.key, name: $0.name, phone: $0.phone.value, expectedEnd: Self.expectedEndZh($0.key))
            }
            : []
        let context = PhonePageContext(
            page: PageChrome(req: req, step: .phone, title: "手机号验证", signedIn: false), form: form, codeSent: codeSent,
            testPersons: persons)
        return try await req.renderPage("journey/phone", context, status: status)
    }

    func signOut(_ req: Request) async throws -> Response {
        if let applicant = req.auth.get(SignedInApplicant.self) {
            try await req.journey.signOut(applicant)
        }
        let response = req.redirect(to: JourneyPaths.phone, redirectType: .normal)
        response.cookies[ApplicantAuthenticator.sessionCookie] = HTTPCookies.Value(
            string: "", maxAge: 0, path: "/", isHTTPOnly: true, sameSite: .lax)
        return response
    }

    /// `cm~ch`, each cut to the characters a code or channel may have.
    static func referralValue(cm: String?, ch: String?) -> String? {
        func clean(_ s: String?) -> String {
            String((s ?? "").filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.prefix(32))
        }
        let value = clean(cm) + "~" + clean(ch)
        return value == "~" ? nil : value
    }

    static func referral(from cookie: String?) -> (cm: String?, ch: String?) {
        guard let cookie, cookie.count <= 80 else { return (nil, nil) }
        let parts = cookie.split(separator: "~", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let cm = parts.first.flatMap { $0.isEmpty ? nil : $0 }
        let ch = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
        return (cm, ch)
    }

    static func expectedEndZh(_ key: String) -> String {
        switch key {
        case "P01": "全部通过，获批较高额度"
        case "P02": "征信白户，小额或人工审核"
        case "P03": "联网核查姓名不符，止于身份核验"
        case "P04": "活体检测失败，3次后锁定24小时"
        case "P05": "人脸比对不通过"
        case "P06": "手机号非本人实名，止于银行卡"
        case "P07": "银行卡预留手机号不符，换卡可通过"
        case "P08": "年龄21岁，未通过"
        case "P09": "年龄56岁，未通过"
        case "P10": "当前逾期，未通过"
        case "P11": "查询过多，转人工审核"
        default: ""
        }
    }
}
