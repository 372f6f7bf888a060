import Fluent
import Foundation
import LendingCore
import Vapor

enum ConsolePaths {
    static let root = "/console"
    static let signIn = "/console/sign-in"
    static let enrol = "/console/enrol"
    static let queue = "/console/queue"
    static func application(_ id: UUID) -> String { "/console/applications/\(id.uuidString.lowercased())" }
}

/// /console: the bank's workbench in the browser, server-rendered, no JavaScript needed. The same services and
/// role table as the staff API: sign-in with the second factor, the review queue, an application with its decision
/// form, the second review, and revealing one field with a reason.
struct ConsolePagesController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let pages = routes.grouped("console").grouped(CSRFMiddleware())
        pages.get(use: root)
        pages.get("sign-in", use: signInPage)
        pages.post("sign-in", use: signIn)
        let staff = pages.grouped(StaffAuthenticator())
        staff.get("enrol", use: enrolPage)
        staff.post("enrol", use: enrol)
        staff.post("sign-out", use: signOut)
        staff.requiring(.listApplications).get("queue", use: queue)
        staff.requiring(.viewApplication).get("applications", ":applicationID", use: application)
        staff.requiring(.reviewApplication).post("applications", ":applicationID", "review", use: review)
        staff.requiring(.confirmReview).post("applications", ":applicationID", "confirmation", use: confirm)
        staff.requiring(.revealPersonalData).post("applications", ":applicationID", "reveal", use: reveal)
        // 我的推广码 (ConsoleMarketingPages): the page, and the same images as the API for the signed-in cookie.
        staff.requiring(.viewMarketingMaterial).get("marketing", use: ConsoleMarketingPages.page)
        staff.requiring(.viewMarketingMaterial).get("marketing", ":managerCode", "qr-code.png", use: MarketingAPIController.qrPNG)
        staff.requiring(.viewMarketingMaterial).get("marketing", ":managerCode", "qr-code.svg", use: MarketingAPIController.qrSVG)
        staff.requiring(.viewMarketingMaterial).get("marketing", ":managerCode", "mini-program-code.png", use: MarketingAPIController.miniProgramCode)
        staff.requiring(.viewMarketingMaterial).get("marketing", ":managerCode", "poster.png", use: MarketingAPIController.poster)
    }

    // MARK: - Sign-in

    func root(_ req: Request) async throws -> Response {
        guard let principal = try await StaffAuthenticator.principal(for: req) else { return req.redirect(to: ConsolePaths.signIn) }
        if principal.enrolmentOnly { return req.redirect(to: ConsolePaths.enrol) }
        let canList = StaffPermissions.scope(for: principal.role, action: .listApplications) != StaffPermissions.Scope.none
        return try await canList ? req.redirect(to: ConsolePaths.queue) : render(req, "console/home", ConsoleHomeContext(page: chrome(req, "工作台", principal)))
    }

    func signInPage(_ req: Request) async throws -> Response {
        try await render(req, "console/sign-in", ConsoleSignInContext(page: chrome(req, "员工登录", nil), form: FormState()))
    }

    struct SignInForm: Content {
        var login: String?
        var password: String?
        var totp: String?
    }

    func signIn(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SignInForm.self)
        var state = FormState(values: ["login": form.login ?? ""])
        do {
            let result = try await StaffSignIn(db: req.db, services: req.yidai).signIn(login: form.login, password: form.password, totp: form.totp)
            let response = req.redirect(to: result.enrolmentURI == nil ? ConsolePaths.queue : ConsolePaths.enrol)
            response.cookies[StaffAuthenticator.cookieName] = HTTPCookies.Value(
                string: result.token, expires: result.session.expiresAt, maxAge: nil, domain: nil, path: "/console",
                isSecure: PageCookies.secure(for: req), isHTTPOnly: true, sameSite: .strict)
            if let uri = result.enrolmentURI { response.cookies["yd_staff_enrol"] = .init(string: uri, path: "/console/enrol", isSecure: PageCookies.secure(for: req), isHTTPOnly: true, sameSite: .strict) }
            return response
        } catch let error as APIError {
            state.formError = error.messageZh
            return try await render(req, "console/sign-in", ConsoleSignInContext(page: chrome(req, "员工登录", nil), form: state), status: error.status)
        }
    }

    func enrolPage(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let uri = req.cookies["yd_staff_enrol"]?.string
        let response = try await render(
            req, "console/enrol", ConsoleEnrolContext(page: chrome(req, "绑定动态验证码", principal), otpauthURI: uri, form: FormState()))
        // Shown once: the secret leaves with this page.
        response.cookies["yd_staff_enrol"] = Self.cleared(path: ConsolePaths.enrol)
        return response
    }

    func enrol(_ req: Request) async throws -> Response {
        let principal = try req.staff
        struct Form: Content { var totp: String? }
        let form = try req.content.decode(Form.self)
        do {
            try await StaffSignIn(db: req.db, services: req.yidai).confirmEnrolment(principal, totp: form.totp)
            return req.redirect(to: ConsolePaths.root)
        } catch let error as APIError {
            var state = FormState()
            state.formError = error.messageZh
            return try await render(req, "console/enrol", ConsoleEnrolContext(page: chrome(req, "绑定动态验证码", principal), otpauthURI: nil, form: state), status: error.status)
        }
    }

    func signOut(_ req: Request) async throws -> Response {
        try await StaffSignIn(db: req.db, services: req.yidai).signOut(try req.staff)
        let response = req.redirect(to: ConsolePaths.signIn)
        response.cookies[StaffAuthenticator.cookieName] = Self.cleared(path: ConsolePaths.root)
        return response
    }

    // MARK: - Queue and application

    func queue(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let state = req.query[String.self, at: "state"] ?? "referred"
        let branch = req.query[String.self, at: "branch"]
        let page = req.query[String.self, at: "page"].flatMap { Int($0) }
        let service = StaffApplications(db: req.db, services: req.yidai, principal: principal)
        let list = try await service.list(state: state == "all" ? nil : state, branch: branch, page: page)
        let org = try await service.organisation()
        let context = ConsoleQueueContext(
            page: chrome(req, "审核队列", principal), state: state, branch: branch ?? "", list: list, names: org.managerName,
            branches: try await Branch.query(on: req.db).sort(\.$code).all().map { .init(code: $0.code, name: $0.name) }, now: req.yidai.clock.now())
        return try await render(req, "console/queue", context)
    }

    func application(_ req: Request) async throws -> Response {
        try await renderApplication(req, form: FormState(), revealed: nil)
    }

    func renderApplication(_ req: Request, form: FormState, revealed: ConsoleApplicationContext.Revealed?, preview: ConsoleApplicationContext.Preview? = nil, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.staff
        let service = StaffApplications(db: req.db, services: req.yidai, principal: principal)
        let detail = try await service.detail(StaffAPIController.id(req))
        let context = ConsoleApplicationContext(
            page: chrome(req, "申请详情", principal), detail: detail, form: form, revealed: revealed, preview: preview,
            canReview: StaffPermissions.scope(for: principal.role, action: .reviewApplication) != StaffPermissions.Scope.none
                && detail.state == ApplicationState.referred.rawValue && !detail.pendingConfirmation,
            canConfirm: StaffPermissions.scope(for: principal.role, action: .confirmReview) != StaffPermissions.Scope.none
                && detail.pendingConfirmation && detail.reviews.last?.reviewer != principal.login,
            ownPending: detail.pendingConfirmation && detail.reviews.last?.reviewer == principal.login,
            canReveal: StaffPermissions.scope(for: principal.role, action: .revealPersonalData) != StaffPermissions.Scope.none,
            declineReasons: ManualReview.declineReasons.map { .init(code: $0.code, title: $0.titleZh) },
            policy: .init(maxLimit: Money.string(fen: req.yidai.config.reviewPolicy.maximumLimitFen),
                          minRate: Money.string(req.yidai.config.reviewPolicy.minimumRatePercent),
                          maxRate: Money.string(req.yidai.config.reviewPolicy.maximumRatePercent),
                          secondReviewAbove: Money.string(fen: req.yidai.config.reviewPolicy.secondReviewAboveFen)))
        return try await render(req, "console/application", context, status: status)
    }

    struct ReviewForm: Content {
        var decision: String?
        var creditLimit: String?
        var annualRate: String?
        var reason: String?
        var note: String?
        var step: String?
    }

    /// Approve shows the APR first (step "preview") and decides only on "confirm"; decline decides at once.
    func review(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let form = try req.content.decode(ReviewForm.self)
        var state = FormState(values: [
            "decision": form.decision ?? "", "creditLimit": form.creditLimit ?? "", "annualRate": form.annualRate ?? "",
            "reason": form.reason ?? "", "note": form.note ?? "",
        ])
        let reviews = StaffReviews(applications: StaffApplications(db: req.db, services: req.yidai, principal: principal))
        let body = ReviewRequest(decision: form.decision, creditLimit: form.creditLimit, annualRate: form.annualRate, reason: form.reason, note: form.note)
        do {
            if form.decision == "approve" && form.step != "confirm" {
                let approval = try withFieldErrors(status: .unprocessableEntity) {
                    try ManualReview.approval(creditLimit: form.creditLimit, annualRate: form.annualRate, policy: req.yidai.config.reviewPolicy)
                }
                let apr = try await StaffReviews.apr(limitFen: approval.limitFen, rate: approval.annualRatePercent, db: req.db, services: req.yidai)
                let suggested = try await reviews.suggestedLimitFen(StaffAPIController.id(req)!)
                let preview = ConsoleApplicationContext.Preview(
                    creditLimit: Money.string(fen: approval.limitFen), annualRate: Money.string(approval.annualRatePercent), apr: apr,
                    needsSecondReview: ManualReview.needsSecondReview(
                        limitFen: approval.limitFen, suggestedLimitFen: suggested, policy: req.yidai.config.reviewPolicy))
                return try await renderApplication(req, form: state, revealed: nil, preview: preview)
            }
            _ = try await reviews.review(StaffAPIController.id(req), body)
            return req.redirect(to: ConsolePaths.application(StaffAPIController.id(req)!))
        } catch let error as APIError {
            state.record(error, fieldMap: Dictionary(uniqueKeysWithValues: ["decision", "creditLimit", "annualRate", "reason", "note"].map { ($0, $0) }))
            return try await renderApplication(req, form: state, revealed: nil, status: error.status)
        }
    }

    struct ConfirmForm: Content {
        var confirm: String?
        var note: String?
    }

    func confirm(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let form = try req.content.decode(ConfirmForm.self)
        let reviews = StaffReviews(applications: StaffApplications(db: req.db, services: req.yidai, principal: principal))
        do {
            _ = try await reviews.confirm(StaffAPIController.id(req), ConfirmationRequest(confirm: form.confirm.map { $0 == "yes" }, note: form.note))
            return req.redirect(to: ConsolePaths.application(StaffAPIController.id(req)!))
        } catch let error as APIError {
            var state = FormState(values: ["confirmNote": form.note ?? ""])
            state.record(error, fieldMap: ["note": "confirmNote"])
            return try await renderApplication(req, form: state, revealed: nil, status: error.status)
        }
    }

    struct RevealForm: Content {
        var field: String?
        var reason: String?
    }

    func reveal(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let form = try req.content.decode(RevealForm.self)
        let reviews = StaffReviews(applications: StaffApplications(db: req.db, services: req.yidai, principal: principal))
        do {
            let answer = try await reviews.reveal(StaffAPIController.id(req), RevealRequest(field: form.field, reason: form.reason))
            let label = ["name": "姓名", "idNumber": "身份证号", "phone": "手机号"][form.field ?? ""] ?? ""
            return try await renderApplication(req, form: FormState(), revealed: .init(label: label, value: answer.value))
        } catch let error as APIError {
            var state = FormState(values: ["revealReason": form.reason ?? "", "revealField": form.field ?? ""])
            state.record(error, fieldMap: ["reason": "revealReason", "field": "revealField"])
            return try await renderApplication(req, form: state, revealed: nil, status: error.status)
        }
    }

    /// A cookie that the browser drops at once (on the same path it was set for).
    static func cleared(path: String) -> HTTPCookies.Value {
        HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: path, isHTTPOnly: true, sameSite: .strict)
    }

    // MARK: - Rendering

    func chrome(_ req: Request, _ title: String, _ principal: StaffPrincipal?) -> ConsoleChrome {
        ConsoleChrome(
            title: title, csrf: req.csrfToken, sandbox: req.yidai.providers.isSandbox, staffName: principal?.name,
            staffLogin: principal?.login, roleTitle: principal.map { ConsoleLabels.role($0.role) }, branch: principal?.branchCode,
            canList: principal.map { StaffPermissions.scope(for: $0.role, action: .listApplications) != StaffPermissions.Scope.none } ?? false,
            canFollowLeads: principal.map { StaffPermissions.scope(for: $0.role, action: .followUpLead) != StaffPermissions.Scope.none } ?? false,
            canManageBranches: principal.map { StaffPermissions.scope(for: $0.role, action: .manageBranches) != StaffPermissions.Scope.none } ?? false,
            canViewReports: principal.map { StaffPermissions.scope(for: $0.role, action: .viewReports) != StaffPermissions.Scope.none } ?? false,
            canViewPolicies: principal.map { StaffPermissions.scope(for: $0.role, action: .viewDecisionDetails) != StaffPermissions.Scope.none } ?? false,
            canMarket: principal.map { StaffPermissions.scope(for: $0.role, action: .viewMarketingMaterial) != StaffPermissions.Scope.none } ?? false,
            canViewAudit: principal.map { StaffPermissions.scope(for: $0.role, action: .viewAuditTrail) != StaffPermissions.Scope.none } ?? false,
            canHandlePrivacy: principal.map { StaffPermissions.scope(for: $0.role, action: .handlePrivacyRequest) != StaffPermissions.Scope.none } ?? false)
    }

    func render(_ req: Request, _ template: String, _ context: some Encodable, status: HTTPStatus = .ok) async throws -> Response {
        try await req.renderPage(template, context, status: status)
    }
}
