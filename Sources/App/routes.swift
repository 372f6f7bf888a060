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

    if app.yidai.providers.isSandbox {
        try app.register(collection: SandboxController())
        try app.register(collection: SandboxPaymentsController())
    }
    try app.register(collection: JourneyPagesController())
    try app.register(collection: ContractPagesController())
    try app.register(collection: LoanPagesController())
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
