import Fluent
import LendingCore
import Providers
import Vapor

/// The lead page's API (anyone), the applicant's side of 云接洽, and the managers' leads, customers, nudges and
/// conversations under /api/v1/staff. Which role may call what is in routes.swift; scope per record in `ManagerDesk`.
enum ManagerAPIController {
    // MARK: Anyone

    @Sendable static func submitLead(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(LeadSubmission.self)
        let receipt = try await LeadBook(db: req.db, services: req.yidai).submit(body, codes: OneTimeCodes(db: req.db, services: req.yidai))
        return try await receipt.encodeResponse(status: .created, for: req)
    }

    // MARK: The applicant

    @Sendable static func applicantMessages(_ req: Request) async throws -> MessageListView {
        try await Conversation(db: req.db, services: req.yidai, application: try await req.ownedApplication()).list()
    }

    @Sendable static func applicantSends(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(MessageIn.self)
        let message = try await Conversation(db: req.db, services: req.yidai, application: try await req.ownedApplication()).applicantSends(body)
        return try await message.encodeResponse(status: .created, for: req)
    }

    // MARK: Staff

    static func desk(_ req: Request) throws -> ManagerDesk { ManagerDesk(db: req.db, services: req.yidai, principal: try req.staff) }

    @Sendable static func leads(_ req: Request) async throws -> LeadListView {
        try await desk(req).leads(status: req.query[String.self, at: "status"])
    }

    @Sendable static func updateLead(_ req: Request) async throws -> LeadListView.Item {
        try await desk(req).update(lead: req.parameters.get("leadID"), try req.jsonBody(LeadUpdate.self))
    }

    @Sendable static func customers(_ req: Request) async throws -> CustomerListView {
        try await desk(req).customers(state: req.query[String.self, at: "state"])
    }

    @Sendable static func nudge(_ req: Request) async throws -> Response {
        let answer = try await desk(req).nudge(StaffAPIController.id(req))
        return try await answer.encodeResponse(status: .accepted, for: req)
    }

    static func staffConversation(_ req: Request) async throws -> Conversation {
        let (application, _) = try await desk(req).applications.find(StaffAPIController.id(req), for: .messageApplicant)
        return Conversation(db: req.db, services: req.yidai, application: application)
    }

    @Sendable static func staffMessages(_ req: Request) async throws -> MessageListView {
        try await staffConversation(req).list()
    }

    @Sendable static func staffSends(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(MessageIn.self)
        let message = try await staffConversation(req).managerSends(body, staff: try req.staff)
        return try await message.encodeResponse(status: .created, for: req)
    }
}
