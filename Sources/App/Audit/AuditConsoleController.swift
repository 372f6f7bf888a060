import Fluent
import Foundation
import LendingCore
import Vapor

/// The auditor's view in the API (/api/v1/staff/audit-…) and the workbench (/console/audit): see `AuditBrowser`.
/// Every route reads; none takes a body; all need `viewAuditTrail` (the auditor's, bank-wide).
enum AuditAPIController {
    static func browser(_ req: Request) throws -> AuditBrowser { AuditBrowser(db: req.db, services: req.yidai, principal: try req.staff) }

    @Sendable static func entries(_ req: Request) async throws -> AuditBrowser.Page {
        try await browser(req).page(try AuditBrowser.filter(req))
    }

    @Sendable static func export(_ req: Request) async throws -> Response {
        try await browser(req).export(try AuditBrowser.filter(req), format: req.query[String.self, at: "format"] ?? "json")
    }

    @Sendable static func verification(_ req: Request) async throws -> AuditBrowser.VerificationView {
        try await browser(req).verify()
    }

    @Sendable static func reveals(_ req: Request) async throws -> AuditBrowser.RevealList {
        try await browser(req).reveals(try AuditBrowser.filter(req))
    }
}

struct AuditConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let staff = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator()).requiring(.viewAuditTrail)
        staff.get("audit", use: page)
        staff.get("audit", "export", use: AuditAPIController.export)
        staff.get("audit", "reveals", use: reveals)
    }

    struct Row: Encodable {
        let sequence: Int
        let time: String
        let actor: String
        let action: String
        let application: String?
        let applicationHref: String?
        let details: String
        let hash: String
        /// The entry's lane of the chain and its place there.
        let lane: Int
        let lanePosition: Int
    }

    struct Context: Encodable {
        let page: ConsoleChrome
        let application: String
        let actor: String
        let action: String
        let from: String
        let to: String
        let rows: [Row]
        let olderHref: String?
        let verifyHref: String
        let csvHref: String
        let jsonHref: String
        let verification: AuditBrowser.VerificationView?
        let verifiedAt: String?
        let error: String?
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = BusinessCalendar.timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func href(_ path: String, _ items: [URLQueryItem]) -> String {
        var components = URLComponents()
        components.path = path
        components.queryItems = items.isEmpty ? nil : items
        return components.string ?? path
    }

    func page(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let browser = AuditBrowser(db: req.db, services: req.yidai, principal: principal)
        var filter = AuditBrowser.Filter()
        var error: String?
        var rows: [Row] = []
        var older: String?
        var verification: AuditBrowser.VerificationView?
        var status = HTTPStatus.ok
        do {
            filter = try AuditBrowser.filter(req, limitCap: 200)
            let page = try await browser.page(filter)
            rows = page.items.map { entry in
                let app = entry.applicationId?.uuidString.lowercased()
                return Row(sequence: entry.sequence, time: Self.time(entry.recordedAt), actor: entry.actor, action: entry.action,
                           application: app.map { String($0.prefix(8)) }, applicationHref: entry.applicationId.map(ConsolePaths.application),
                           details: entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "；"),
                           hash: String(entry.entryHash.prefix(12)), lane: entry.lane, lanePosition: entry.lanePosition)
            }
            if let next = page.nextBefore { older = Self.href("/console/audit", filter.queryItems + [.init(name: "before", value: String(next))]) }
            if req.query[String.self, at: "verify"] == "1" { verification = try await browser.verify() }
        } catch let failure as APIError where failure.status == .unprocessableEntity {
            error = failure.messageZh + "（" + (failure.field ?? "") + "）"
            status = .unprocessableEntity
        }
        let context = Context(
            page: ConsolePagesController().chrome(req, "审计日志", principal),
            application: req.query[String.self, at: "application"] ?? "", actor: req.query[String.self, at: "actor"] ?? "",
            action: req.query[String.self, at: "action"] ?? "", from: req.query[String.self, at: "from"] ?? "", to: req.query[String.self, at: "to"] ?? "",
            rows: rows, olderHref: older, verifyHref: Self.href("/console/audit", filter.queryItems + [.init(name: "verify", value: "1")]),
            csvHref: Self.href("/console/audit/export", filter.queryItems + [.init(name: "format", value: "csv")]),
            jsonHref: Self.href("/console/audit/export", filter.queryItems + [.init(name: "format", value: "json")]),
            verification: verification, verifiedAt: verification.map { Self.time($0.checkedAt) }, error: error)
        return try await req.renderPage("console/audit", context, status: status)
    }

    struct RevealsContext: Encodable {
        struct Reveal: Encodable {
            let time: String
            let application: String?
            let applicationHref: String?
            let field: String
            let reason: String
        }
        struct Member: Encodable {
            let login: String
            let role: String
            let count: Int
            let reveals: [Reveal]
        }
        let page: ConsoleChrome
        let actor: String
        let from: String
        let to: String
        let members: [Member]
        let error: String?
    }

    static let fieldNames = ["name": "姓名", "idNumber": "身份证号", "phone": "手机号"]

    func reveals(_ req: Request) async throws -> Response {
        let principal = try req.staff
        var members: [RevealsContext.Member] = []
        var error: String?
        do {
            let list = try await AuditBrowser(db: req.db, services: req.yidai, principal: principal).reveals(try AuditBrowser.filter(req))
            members = list.members.map { member in
                .init(login: member.login, role: StaffPermissions.Role(rawValue: member.role).map(ConsoleLabels.role) ?? member.role, count: member.count,
                      reveals: member.reveals.map {
                          .init(time: Self.time($0.recordedAt), application: $0.applicationId.map { String($0.uuidString.lowercased().prefix(8)) },
                                applicationHref: $0.applicationId.map(ConsolePaths.application), field: Self.fieldNames[$0.field] ?? $0.field, reason: $0.reason)
                      })
            }
        } catch let failure as APIError where failure.status == .unprocessableEntity {
            error = failure.messageZh
        }
        let context = RevealsContext(
            page: ConsolePagesController().chrome(req, "个人信息查看记录", principal), actor: req.query[String.self, at: "actor"] ?? "",
            from: req.query[String.self, at: "from"] ?? "", to: req.query[String.self, at: "to"] ?? "", members: members, error: error)
        return try await req.renderPage("console/reveals", context)
    }
}
