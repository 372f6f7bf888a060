import Fluent
import LendingCore
import Vapor

/// The head office's API under /api/v1/staff: rollout branch by branch, and the reports.
enum HeadOfficeAPIController {
    @Sendable static func branches(_ req: Request) async throws -> Rollout.BranchList {
        try await Rollout(db: req.db, services: req.yidai).list()
    }

    @Sendable static func updateBranch(_ req: Request) async throws -> Rollout.BranchView {
        try await Rollout(db: req.db, services: req.yidai).update(req.parameters.get("code"), try req.jsonBody(Rollout.Update.self), actor: try req.staff)
    }
}

/// /console/branches: the admin switches branches online and marks pilots, with a reason.
struct RolloutConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let staff = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator()).requiring(.manageBranches)
        staff.get("branches", use: page)
        staff.post("branches", ":code", use: update)
    }

    struct Context: Encodable {
        let page: ConsoleChrome
        let branches: [Rollout.BranchView]
        let notice: String?
        let error: String?
    }

    func render(_ req: Request, notice: String?, error: String?, status: HTTPStatus = .ok) async throws -> Response {
        let list = try await Rollout(db: req.db, services: req.yidai).list()
        let context = Context(page: ConsolePagesController().chrome(req, "机构上线", try req.staff), branches: list.items, notice: notice, error: error)
        return try await req.renderPage("console/branches", context, status: status)
    }

    func page(_ req: Request) async throws -> Response { try await render(req, notice: nil, error: nil) }

    struct Form: Content {
        var online: String?
        var pilot: String?
        var reason: String?
    }

    func update(_ req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        do {
            let view = try await Rollout(db: req.db, services: req.yidai).update(
                req.parameters.get("code"), .init(online: form.online == "on", pilot: form.pilot == "on", reason: form.reason), actor: try req.staff)
            return try await render(req, notice: "\(view.name)（\(view.code)）已\(view.online ? "上线" : "下线")\(view.pilot ? "，试点" : "")；其下支行同步调整。", error: nil)
        } catch let error as APIError where error.status != .notFound {
            return try await render(req, notice: nil, error: error.messageZh, status: error.status)
        }
    }
}
