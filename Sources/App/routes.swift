import Fluent
import Vapor

/// The table of contents of every route.
func routes(_ app: Application) throws {
    app.get("health", use: HealthController.health)
    app.get("openapi.json", use: OpenAPIController.document)

    let api = app.grouped("api", "v1")
    try api.register(collection: JourneyAPIController())
    try api.register(collection: QuoteController())
    try api.register(collection: LoanServicingController())
    try api.register(collection: ContractAPIController())

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
    staff.requiring(.manageStaff).put("members", ":login", use: StaffAPIController.updateMember)
    staff.requiring(.manageStaff).post("members", ":login", "second-factor", "reset", use: StaffAPIController.resetSecondFactor)

    if app.yidai.providers.isSandbox {
        try app.register(collection: SandboxController())
        try app.register(collection: SandboxPaymentsController())
    }
    try app.register(collection: JourneyPagesController())
    try app.register(collection: ContractPagesController())
    try app.register(collection: LoanPagesController())
    try app.register(collection: ConsolePagesController())  // /console: the same services, the same role table
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
