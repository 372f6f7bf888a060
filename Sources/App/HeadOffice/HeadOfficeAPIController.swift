import Fluent
import LendingCore
import Vapor

/// The head office's API under /api/v1/staff: rollout branch by branch, and the reports.
enum HeadOfficeAPIController {
    @Sendable static func branches(_ req: Request) async throws -> Rollout.BranchList {
        try await Rollout(db: req.db, services: req.yidai).list()
    }

    @Sendable static func funnel(_ req: Request) async throws -> Response {
        let report = try await Reports(db: req.db, services: req.yidai, principal: try req.staff).funnel(
            from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"], by: req.query[String.self, at: "by"],
            step: req.query[String.self, at: "step"], channel: req.query[String.self, at: "channel"], campaign: req.query[String.self, at: "campaign"])
        if req.query[String.self, at: "format"] == "csv" { return ReportCSV.response(ReportCSV.funnel(report), name: "funnel-\(report.by)-\(report.from)-\(report.to).csv") }
        return try await report.encodeResponse(for: req)
    }

    @Sendable static func daily(_ req: Request) async throws -> Response {
        let report = try await Reports(db: req.db, services: req.yidai, principal: try req.staff).daily(
            from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"])
        if req.query[String.self, at: "format"] == "csv" {
            let table = req.query[String.self, at: "table"] ?? "days"
            return ReportCSV.response(try ReportCSV.daily(report, table: table), name: "daily-\(table)-\(report.from)-\(report.to).csv")
        }
        return try await report.encodeResponse(for: req)
    }

    static func policies(_ req: Request) throws -> PolicyOperations { PolicyOperations(db: req.db, services: req.yidai, principal: try req.staff) }

    @Sendable static func listPolicies(_ req: Request) async throws -> PolicyListView { try await policies(req).list() }

    @Sendable static func uploadPolicy(_ req: Request) async throws -> Response {
        try await policies(req).upload(try req.jsonBody(PolicyUpload.self)).encodeResponse(status: .created, for: req)
    }

    @Sendable static func startReplay(_ req: Request) async throws -> Response {
        try await policies(req).startReplay(req.parameters.get("versionID"), last: try req.jsonBody(ShadowReplayRequest.self).last)
            .encodeResponse(status: .accepted, for: req)
    }

    @Sendable static func replay(_ req: Request) async throws -> ShadowReplayView { try await policies(req).replay(req.parameters.get("replayID")) }

    struct NoteBody: Content { var note: String? }

    @Sendable static func requestRollback(_ req: Request) async throws -> Response {
        try await policies(req).requestRollback(req.parameters.get("versionID"), note: try req.jsonBody(NoteBody.self).note).encodeResponse(status: .accepted, for: req)
    }

    @Sendable static func confirmChange(_ req: Request) async throws -> PolicyVersionView { try await policies(req).confirm(req.parameters.get("changeID")) }

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

/// CSV of a report table (UTF-8 with a byte-order mark so spreadsheet programs read the Chinese right).
enum ReportCSV {
    static func funnel(_ report: FunnelReport) -> String {
        var lines = ["key,entered,completed,dropOffPercent,medianSeconds"]
        for row in report.rows {
            lines.append([field(row.key), String(row.entered), String(row.completed), String(row.dropOffPercent), row.medianSeconds.map { String($0) } ?? ""].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static let dailyTables = ["days", "position", "leads"]

    /// One table of the daily figures: `days` (one row per day and a total), `position` or `leads`.
    static func daily(_ report: DailyFiguresReport, table: String) throws -> String {
        var lines: [String]
        switch table {
        case "days":
            lines = ["day,newApplicants,approved,declined,referred,approvalRatePercent,loanRequests,requested,loansPaidOut,paidOut"]
            for day in report.days + [report.totals] {
                lines.append([day.day, String(day.newApplicants), String(day.approved), String(day.declined), String(day.referred),
                              day.approvalRatePercent.map { String($0) } ?? "", String(day.loanRequests), day.requested,
                              String(day.loansPaidOut), day.paidOut].joined(separator: ","))
            }
        case "position":
            let p = report.position
            lines = ["asOf,loansActive,loansOverdue,overdueBalance", [p.asOf, String(p.loansActive), String(p.loansOverdue), p.overdueBalance].joined(separator: ",")]
        case "leads":
            lines = ["state,count"] + report.leads.map { "\($0.state),\($0.count)" }
        default:
            throw APIError.invalid("table", "table must be one of \(dailyTables.joined(separator: ", ")).", zh: "表格名称不正确。")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A field quoted when it holds a comma, quote or line break; a leading = + - @ is prefixed with ' so a
    /// spreadsheet never runs it as a formula.
    static func field(_ raw: String) -> String {
        var value = raw
        if let first = value.first, "=+-@".contains(first), value != "-" { value = "'" + value }
        if value.contains(where: { ",\"\r\n".contains($0) }) { value = "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return value
    }

    static func response(_ text: String, name: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
        return Response(status: .ok, headers: headers, body: .init(string: "\u{FEFF}" + text))
    }
}
