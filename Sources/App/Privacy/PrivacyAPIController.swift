import Fluent
import Foundation
import Vapor

/// /api/v1/privacy: the person's rights over their data. Everything but the step-up needs its token
/// (`Authorization: Bearer`, 10 minutes); an applicant's journey token is not enough (401 `step_up_required`).
struct PrivacyAPIController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let privacy = routes.grouped("privacy")
        privacy.post("step-up", use: stepUp)
        privacy.get("data", use: data)
        privacy.patch("data", use: correct)
        privacy.post("exports", use: createExport)
        privacy.get("exports", ":exportID", use: export)
        privacy.get("consents", use: consents)
        privacy.delete("consents", ":purpose", use: withdraw)
        privacy.post("erasure-requests", use: requestErasure)
    }

    static func centre(_ req: Request) -> PrivacyCentre { PrivacyCentre(db: req.db, services: req.yidai) }

    static func person(_ req: Request) async throws -> String {
        try await centre(req).person(token: req.headers.bearerAuthorization?.token)
    }

    func stepUp(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(PrivacyCentre.StepUpRequest.self)
        let answer = try await Self.centre(req).stepUp(body, client: req.remoteAddress?.ipAddress ?? "unknown")
        return try await answer.encodeResponse(status: .created, for: req)
    }

    func data(_ req: Request) async throws -> Response {
        let person = try await Self.person(req)
        let response = try await Self.centre(req).data(person).encodeResponse(for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    func correct(_ req: Request) async throws -> PrivacyData {
        let person = try await Self.person(req)
        let centre = Self.centre(req)
        try await centre.correct(person, try req.jsonBody(PrivacyCentre.Correction.self))
        return try await centre.data(person)
    }

    func createExport(_ req: Request) async throws -> Response {
        let person = try await Self.person(req)
        return try await Self.centre(req).createExport(person).encodeResponse(status: .created, for: req)
    }

    func export(_ req: Request) async throws -> Response {
        let person = try await Self.person(req)
        let centre = Self.centre(req)
        let row = try await centre.exportRow(person, id: req.parameters.get("exportID"))
        guard let format = req.query[String.self, at: "format"], !format.isEmpty else {
            return try await PrivacyCentre.exportView(row).encodeResponse(for: req)
        }
        return try await centre.exportFile(row, format: format)
    }

    struct ConsentList: Content { let items: [PrivacyData.ConsentItem] }

    func consents(_ req: Request) async throws -> ConsentList {
        let person = try await Self.person(req)
        return ConsentList(items: try await Self.centre(req).consents(person))
    }

    func withdraw(_ req: Request) async throws -> PrivacyCentre.Withdrawal {
        let person = try await Self.person(req)
        let confirm = req.query[Bool.self, at: "confirm"] ?? ((try? req.content.decode([String: Bool].self))?["confirm"] ?? false)
        return try await Self.centre(req).withdraw(person, purpose: req.parameters.get("purpose"), confirm: confirm)
    }

    func requestErasure(_ req: Request) async throws -> Response {
        let person = try await Self.person(req)
        return try await Self.centre(req).requestErasure(person).encodeResponse(status: .accepted, for: req)
    }
}
