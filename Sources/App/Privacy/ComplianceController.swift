import Fluent
import Foundation
import LendingCore
import Vapor

/// The compliance officer's view of privacy requests: every erasure request with its legal deadline (15 working days),
/// what was done and what is kept until when. API: `GET /api/v1/staff/privacy-requests`; page: /console/privacy.
enum ComplianceController {
    struct Item: Content {
        let id: UUID
        let phone: String
        let state: String
        let receivedAt: Date
        let deadline: Date
        let overdue: Bool
        let carriedOutAt: Date?
        let keptUntil: Date?
        let outcome: String?
    }

    struct List: Content {
        let open: Int
        let items: [Item]
    }

    static func requests(db: Database, now: Date) async throws -> List {
        let rows = try await ErasureRequest.query(on: db).sort(\.$receivedAt, .descending).limit(500).all()
        let items = rows.map { r in
            Item(id: r.id!, phone: r.phoneMasked, state: r.state, receivedAt: r.receivedAt, deadline: r.deadline,
                 overdue: r.state == "accepted" && now > r.deadline, carriedOutAt: r.carriedOutAt, keptUntil: r.keptUntil, outcome: r.outcome)
        }
        return List(open: items.filter { $0.state == "accepted" }.count, items: items)
    }

    @Sendable static func list(_ req: Request) async throws -> List {
        try await requests(db: req.db, now: req.yidai.clock.now())
    }
}

struct ComplianceConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let staff = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator()).requiring(.handlePrivacyRequest)
        staff.get("privacy", use: page)
    }

    struct Row: Encodable {
        let id: String
        let phone: String
        let state: String
        let received: String
        let deadline: String
        let overdue: Bool
        let carriedOut: String
        let keptUntil: String
    }

    struct Context: Encodable {
        let page: ConsoleChrome
        let open: Int
        let rows: [Row]
    }

    static let stateNames = ["accepted": "待处理", "erased": "已删除", "locked": "已锁定保存", "destroyed": "保存期满已销毁"]

    func page(_ req: Request) async throws -> Response {
        let list = try await ComplianceController.requests(db: req.db, now: req.yidai.clock.now())
        let time = AuditConsoleController.time
        let rows = list.items.map { item in
            Row(id: String(item.id.uuidString.lowercased().prefix(8)), phone: item.phone, state: Self.stateNames[item.state] ?? item.state,
                received: time(item.receivedAt), deadline: time(item.deadline), overdue: item.overdue, carriedOut: item.carriedOutAt.map(time) ?? "—",
                keptUntil: item.keptUntil.map(time) ?? (item.state == "locked" ? "借款结清后5年" : "—"))
        }
        return try await req.renderPage("console/privacy", Context(page: ConsolePagesController().chrome(req, "个人信息请求", try req.staff), open: list.open, rows: rows))
    }
}
