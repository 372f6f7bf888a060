import LendingCore
import Vapor

/// The H5 pages of the journey (server-rendered, Chinese, mobile-first), one file per step. Every rule lives in
/// JourneyService; the steps' handlers turn form posts into its requests, show its errors next to the fields, and
/// send the person to the page of the step that comes next (POST → redirect → GET). Each step's pages answer only in
/// that step's turn (`JourneyStepGuard`). Signed-in pages only (routes.swift); step 1, the phone page, is
/// SignInPagesController.
struct JourneyPagesController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let apply = routes.grouped("apply")
        apply.get(use: resume)
        apply.post("cancel", use: cancel)
        try apply.register(collection: IDCardStep())
        try apply.register(collection: FaceStep())
        try apply.register(collection: BankCardStep())
        try apply.register(collection: AuthorizationStep())
        try apply.register(collection: AboutYouStep())
        try apply.register(collection: DecisionStep())
        try apply.register(collection: JourneyEndPages())
    }

    /// Where the person belongs now.
    func resume(_ req: Request) async throws -> Response {
        let session = try req.pageSession
        return req.redirect(to: try JourneyStepGuard.destination(of: session), redirectType: .normal)
    }

    /// The applicant withdraws the application (allowed in any state before disbursement).
    func cancel(_ req: Request) async throws -> Response {
        let session = try req.pageSession
        do {
            try await session.journey.cancel(session.application)
        } catch let error as APIError where error.status == .conflict {
            // Already closed: the resume below shows where it stands.
        }
        return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
    }
}
