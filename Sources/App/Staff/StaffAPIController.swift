import Fluent
import LendingCore
import Vapor

/// The workbench's JSON API under /api/v1/staff. Which role may call what is in routes.swift (the role table's
/// actions on route groups); which applications a member may see is checked by `StaffApplications`.
enum StaffAPIController {
    @Sendable static func signIn(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(StaffSignInRequest.self)
        let result = try await StaffSignIn(db: req.db, services: req.yidai).signIn(login: body.login, password: body.password, totp: body.totp)
        let view = StaffSessionView(
            token: result.token, expiresAt: result.session.expiresAt,
            staff: .init(login: result.member.login, name: result.member.displayName, role: result.member.role, branch: result.member.branchCode),
            enrolment: result.enrolmentURI.map { .init(otpauthUri: $0) })
        return try await view.encodeResponse(status: .created, for: req)
    }

    struct Done: Content {
        let done: String
    }

    @Sendable static func signOut(_ req: Request) async throws -> Done {
        try await StaffSignIn(db: req.db, services: req.yidai).signOut(try req.staff)
        return Done(done: "signed_out")
    }

    struct EnrolmentRequest: Content { var totp: String? }

    @Sendable static func confirmEnrolment(_ req: Request) async throws -> Done {
        let body = try req.jsonBody(EnrolmentRequest.self)
        try await StaffSignIn(db: req.db, services: req.yidai).confirmEnrolment(try req.staff, totp: body.totp)
        return Done(done: "enrolled")
    }

    static func applications(_ req: Request) throws -> StaffApplications {
        StaffApplications(db: req.db, services: req.yidai, principal: try req.staff)
    }

    static func reviews(_ req: Request) throws -> StaffReviews { StaffReviews(applications: try applications(req)) }

    static func id(_ req: Request) -> UUID? { req.parameters.get("applicationID").flatMap(UUID.init(uuidString:)) }

    @Sendable static func list(_ req: Request) async throws -> StaffApplicationListView {
        let page: Int?
        if let raw = req.query[String.self, at: "page"] {
            guard let value = Int(raw) else { throw APIError.invalid("page", "page must be a whole number from 1.", zh: "页码不正确。") }
            page = value
        } else {
            page = nil
        }
        return try await applications(req).list(state: req.query[String.self, at: "state"], branch: req.query[String.self, at: "branch"], page: page)
    }

    @Sendable static func detail(_ req: Request) async throws -> StaffApplicationDetailView {
        try await applications(req).detail(id(req))
    }

    @Sendable static func review(_ req: Request) async throws -> ReviewAnswer {
        try await reviews(req).review(id(req), try req.jsonBody(ReviewRequest.self))
    }

    @Sendable static func confirm(_ req: Request) async throws -> ConfirmationAnswer {
        try await reviews(req).confirm(id(req), try req.jsonBody(ConfirmationRequest.self))
    }

    @Sendable static func reveal(_ req: Request) async throws -> RevealAnswer {
        try await reviews(req).reveal(id(req), try req.jsonBody(RevealRequest.self))
    }

    @Sendable static func updateMember(_ req: Request) async throws -> StaffSessionView.Member {
        try await reviews(req).update(member: req.parameters.get("login"), try req.jsonBody(StaffMemberUpdate.self))
    }

    @Sendable static func resetSecondFactor(_ req: Request) async throws -> Done {
        try await reviews(req).resetSecondFactor(member: req.parameters.get("login"))
        return Done(done: "second_factor_reset")
    }
}
