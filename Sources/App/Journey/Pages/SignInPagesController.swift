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
        for document in ConsentDocument.all {
            routes.get(document.path.split(separator: "/").map { PathComponent(stringLiteral: String($0)) }) { req in
                try await termsPage(req, document)
            }
        }
    }

    struct PhoneForm: Content {
        var phone: String?
        var code: String?
        var action: String?
        /// The two separate consents (unticked until the applicant ticks them) and the versions they were shown.
        var agreeTerms: String?
        var agreePrivacy: String?
        var termsVersion: String?
        var privacyVersion: String?
    }

    /// The consents the form asks for, in order: the form's tick, the version shown and the field it is shown as.
    static func consents(_ body: PhoneForm) -> [(ConsentDocument, ticked: Bool, shown: String?, field: String)] {
        [
            (.userAgreement, body.agreeTerms == "true", body.termsVersion, "agreeTerms"),
            (.privacyNotice, body.agreePrivacy == "true", body.privacyVersion, "agreePrivacy"),
        ]
    }

    func phonePage(_ req: Request) async throws -> Response {
        let cm = req.query[String.self, at: "cm"]
        let ch = req.query[String.self, at: "ch"]
        let campaign = req.query[String.self, at: "campaign"]
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
        } else if try await !Rollout(db: req.db, services: req.yidai).acceptsNewApplications(throughManager: cm?.uppercased()) {
            response = try await renderComingSoon(req, cm: cm, ch: ch, status: .ok)
        } else {
            response = try await renderPhone(req, form: FormState(), codeSent: false)
        }
        if cm != nil || ch != nil || campaign != nil, let value = Self.referralValue(cm: cm, ch: ch, campaign: campaign) {
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
        var form = FormState(values: [
            "phone": body.phone ?? "", "code": code, "agreeTerms": body.agreeTerms == "true" ? "true" : "",
            "agreePrivacy": body.agreePrivacy == "true" ? "true" : "",
        ])
        let journey = req.journey
        let send = body.action == "send" || (body.action != "signin" && code.isEmpty)
        // Both consents come before the phone number is used at all; each is its own tick and its own record.
        let consents = Self.consents(body)
        for consent in consents where !consent.ticked {
            form.errors[consent.field] = "请阅读并勾选同意《\(consent.0.title)》。"
        }
        if !form.errors.isEmpty {
            return try await renderPhone(req, form: form, codeSent: !send, status: .unprocessableEntity)
        }
        do {
            try await journey.recordConsents(phone: phone, agreed: consents.map { ($0.0, $0.shown) })
        } catch let error as APIError {
            let fields = ["phone": "phone", "user_agreement": "agreeTerms", "privacy_notice": "agreePrivacy"]
            form.record(error, fieldMap: fields, fallbackField: "phone")
            return try await renderPhone(req, form: form, codeSent: !send, status: error.status)
        }
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
                SignInRequest(phone: phone, code: code, cm: referral.cm, ch: referral.ch, campaign: referral.campaign))
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
        } catch let error as APIError where error.code == Rollout.notOnline.code {
            return try await renderComingSoon(req, cm: referral.cm, ch: referral.ch, status: error.status)
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
            page: PageChrome(req: req, step: .phone, title: "手机号验证", signedIn: false, script: "/js/code.js"), form: form,
            codeSent: codeSent,
            testPersons: persons,
            terms: .init(ConsentDocument.userAgreement), privacy: .init(ConsentDocument.privacyNotice))
        return try await req.renderPage("journey/phone", context, status: status)
    }

    struct ComingSoonContext: Encodable {
        let page: PageChrome
        let leadHref: String
    }

    /// 该地区即将开通: the manager's branch is not online yet; the person may leave a lead instead.
    func renderComingSoon(_ req: Request, cm: String?, ch: String?, status: HTTPResponseStatus) async throws -> Response {
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "cm", value: cm ?? ""), URLQueryItem(name: "ch", value: ch ?? "")]
        let context = ComingSoonContext(page: PageChrome(req: req, step: nil, title: "该地区即将开通", signedIn: false), leadHref: "/lead" + (query.string ?? ""))
        return try await req.renderPage("journey/coming-soon", context, status: status)
    }

    /// A consent document in full, on its own page, open to anyone.
    func termsPage(_ req: Request, _ document: ConsentDocument) async throws -> Response {
        let paragraphs = document.text.split(separator: "\n").map { String($0) }.filter { !$0.isEmpty }
        let context = TermsPageContext(
            page: PageChrome(
                req: req, step: nil, title: document.title, signedIn: req.auth.has(SignedInApplicant.self)),
            title: document.title, version: document.version, sha256: document.sha256,
            sections: paragraphs.map { line in
                .init(text: line, isHeading: line.first.map { "一二三四五六七八九十".contains($0) } ?? false)
            })
        return try await req.renderPage("journey/terms", context)
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

    /// `cm~ch~campaign`, each cut to the characters a code, channel or campaign may have.
    static func referralValue(cm: String?, ch: String?, campaign: String? = nil) -> String? {
        func clean(_ s: String?) -> String {
            String((s ?? "").filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.prefix(32))
        }
        let value = clean(cm) + "~" + clean(ch) + (clean(campaign).isEmpty ? "" : "~" + clean(campaign))
        return value == "~" ? nil : value
    }

    static func referral(from cookie: String?) -> (cm: String?, ch: String?, campaign: String?) {
        guard let cookie, cookie.count <= 120 else { return (nil, nil, nil) }
        let parts = cookie.split(separator: "~", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        func part(_ i: Int) -> String? { parts.count > i && !parts[i].isEmpty ? parts[i] : nil }
        return (part(0), part(1), part(2))
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
