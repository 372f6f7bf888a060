import Fluent
import Vapor

/// The table of contents of every route, and who may call it.
func routes(_ app: Application) throws {
    app.get("health", use: HealthController.health)
    app.get("health", "ready", use: HealthController.ready)
    app.get("metrics", use: MetricsController.metrics)
    app.get("openapi.json", use: OpenAPIController.document)

    // The JSON API. Anyone: SMS codes and sign-in, loan quotes, the contract-signing CA.
    let api = app.grouped("api", "v1")
    try api.register(collection: SignInAPIController())
    try api.register(collection: QuoteController())
    api.get("contract-signing", "ca.pem", use: ContractAPIController.certificateAuthority)
    api.post("leads", use: ManagerAPIController.submitLead)
    // The privacy centre: a person with a fresh SMS code (step-up token), never a journey session.
    try api.register(collection: PrivacyAPIController())

    // The applicant, by bearer session: their own application, contract and loans. No session answers 401; another
    // applicant's application or loan answers 404, exactly like one that does not exist.
    let applicant = api.grouped(ApplicantAuthenticator(.bearer), SignedInApplicant.required)
    try applicant.register(collection: JourneyAPIController())
    try applicant.register(collection: ContractAPIController())
    try applicant.register(collection: LoanServicingController())
    applicant.get("applications", ":applicationID", "messages", use: ManagerAPIController.applicantMessages)
    applicant.post("applications", ":applicationID", "messages", use: ManagerAPIController.applicantSends)

    // The bank's staff. Signing in is open; everything else needs a staff session (StaffAuthenticator), and each
    // group needs an action of the role table (LendingCore `StaffPermissions`): a role without it gets 404, and an
    // application outside the member's scope answers 404 too, exactly like one that does not exist.
    let staffAPI = api.grouped("staff")
    staffAPI.post("sessions", use: StaffAPIController.signIn)
    let staff = staffAPI.grouped(StaffAuthenticator())
    staff.delete("sessions", "current", use: StaffAPIController.signOut)
    staff.post("enrolment", use: StaffAPIController.confirmEnrolment)
    staff.requiring(.listApplications).get("applications", use: StaffAPIController.list)
    staff.requiring(.viewApplication).get("applications", ":applicationID", use: StaffAPIController.detail)
    staff.requiring(.reviewApplication).post("applications", ":applicationID", "review", use: StaffAPIController.review)
    staff.requiring(.confirmReview).post("applications", ":applicationID", "review", "confirmation", use: StaffAPIController.confirm)
    staff.requiring(.revealPersonalData).post("applications", ":applicationID", "reveal", use: StaffAPIController.reveal)
    staff.requiring(.followUpLead).get("leads", use: ManagerAPIController.leads)
    staff.requiring(.followUpLead).patch("leads", ":leadID", use: ManagerAPIController.updateLead)
    staff.requiring(.listApplications).get("customers", use: ManagerAPIController.customers)
    staff.requiring(.nudgeCustomer).post("customers", ":applicationID", "nudge", use: ManagerAPIController.nudge)
    staff.requiring(.messageApplicant).get("applications", ":applicationID", "messages", use: ManagerAPIController.staffMessages)
    staff.requiring(.messageApplicant).post("applications", ":applicationID", "messages", use: ManagerAPIController.staffSends)
    staff.requiring(.viewReports).get("reports", "funnel", use: HeadOfficeAPIController.funnel)
    staff.requiring(.viewReports).get("reports", "daily", use: HeadOfficeAPIController.daily)
    staff.requiring(.viewAuditTrail).get("audit-entries", use: AuditAPIController.entries)
    staff.requiring(.viewAuditTrail).get("audit-entries", "export", use: AuditAPIController.export)
    staff.requiring(.viewAuditTrail).get("audit-verification", use: AuditAPIController.verification)
    staff.requiring(.viewAuditTrail).get("reveals", use: AuditAPIController.reveals)
    staff.requiring(.handlePrivacyRequest).get("privacy-requests", use: ComplianceController.list)
    staff.requiring(.viewDecisionDetails).get("policies", use: HeadOfficeAPIController.listPolicies)
    staff.requiring(.managePolicy).post("policies", use: HeadOfficeAPIController.uploadPolicy)
    staff.requiring(.managePolicy).post("policies", ":versionID", "shadow-replays", use: HeadOfficeAPIController.startReplay)
    staff.requiring(.managePolicy).get("shadow-replays", ":replayID", use: HeadOfficeAPIController.replay)
    staff.requiring(.managePolicy).post("policies", ":versionID", "rollback", use: HeadOfficeAPIController.requestRollback)
    staff.requiring(.managePolicy).post("policy-changes", ":changeID", "confirmation", use: HeadOfficeAPIController.confirmChange)
    staff.requiring(.manageBranches).get("branches", use: HeadOfficeAPIController.branches)
    staff.requiring(.manageBranches).put("branches", ":code", use: HeadOfficeAPIController.updateBranch)
    staff.requiring(.manageStaff).put("members", ":login", use: StaffAPIController.updateMember)
    staff.requiring(.manageStaff).post("members", ":login", "second-factor", "reset", use: StaffAPIController.resetSecondFactor)
    // A customer manager's QR code, mini-program code, posters and landing counts: their own under me/…, any
    // manager's within scope under managers/{code}/… (out of scope answers 404 like an unknown code).
    staff.requiring(.viewMarketingMaterial).get("me", "qr-code.png", use: MarketingAPIController.qrPNG)
    staff.requiring(.viewMarketingMaterial).get("me", "qr-code.svg", use: MarketingAPIController.qrSVG)
    staff.requiring(.viewMarketingMaterial).get("me", "mini-program-code.png", use: MarketingAPIController.miniProgramCode)
    staff.requiring(.viewMarketingMaterial).get("me", "poster.png", use: MarketingAPIController.poster)
    staff.requiring(.viewMarketingMaterial).get("me", "landings", use: MarketingAPIController.landings)
    staff.requiring(.viewMarketingMaterial).get("managers", ":managerCode", "qr-code.png", use: MarketingAPIController.qrPNG)
    staff.requiring(.viewMarketingMaterial).get("managers", ":managerCode", "qr-code.svg", use: MarketingAPIController.qrSVG)
    staff.requiring(.viewMarketingMaterial).get("managers", ":managerCode", "mini-program-code.png", use: MarketingAPIController.miniProgramCode)
    staff.requiring(.viewMarketingMaterial).get("managers", ":managerCode", "poster.png", use: MarketingAPIController.poster)

    if app.yidai.providers.isSandbox {
        try app.register(collection: SandboxController())
        try app.register(collection: SandboxPaymentsController())
    }

    // The H5 pages: every form post carries the CSRF field; the session cookie signs the applicant in.
    // Anyone: the phone page (sign in, or resume when signed in) and signing out.
    let pages = app.grouped(CSRFMiddleware(), ApplicantAuthenticator(.sessionCookie))
    try pages.register(collection: SignInPagesController())
    try pages.register(collection: LeadPagesController())
    try pages.register(collection: PrivacyPagesController())

    // The applicant, by session cookie: their journey (each step only in its turn), contract and loans. Without a
    // session, the phone page; another phone's loan or payment answers 404.
    let applicantPages = pages.grouped(SignedInPages())
    try applicantPages.register(collection: JourneyPagesController())
    try applicantPages.register(collection: ContractPagesController())
    try applicantPages.register(collection: LoanPagesController())
    try applicantPages.register(collection: ConversationPagesController())

    // The staff workbench's pages (/console): its own CSRF group and the staff authenticator, the same role table.
    try app.register(collection: ConsolePagesController())
    try app.register(collection: ManagerConsoleController())
    try app.register(collection: RolloutConsoleController())
    try app.register(collection: ReportsConsoleController())
    try app.register(collection: AuditConsoleController())
    try app.register(collection: ComplianceConsoleController())
    try app.register(collection: PolicyConsoleController())
    // Unknown routes fall through to Vapor's 404, which ErrorRenderingMiddleware renders in the API's error shape.
}

enum HealthController {
    struct Health: Content {
        let status: String
        let database: String
        let sandbox: Bool
    }

    @Sendable static func health(_ req: Request) async throws -> Response {
        do {
            _ = try await PolicyVersion.query(on: req.db).count()
            return try await Health(status: "ok", database: "ok", sandbox: req.yidai.providers.isSandbox).encodeResponse(for: req)
        } catch {
            let response = try await Health(status: "unavailable", database: "unreachable", sandbox: req.yidai.providers.isSandbox).encodeResponse(for: req)
            response.status = .serviceUnavailable
            return response
        }
    }
}

enum OpenAPIController {
    @Sendable static func document(_ req: Request) async throws -> Response {
        let path = req.application.directory.resourcesDirectory + "openapi.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw APIError.notFound("document") }
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}
