import Fluent
import Foundation
import LendingCore
import Vapor

/// /console/reports: the funnel as a chart drawn on the server (SVG, no script) with its table beside it for screen
/// readers, and the CSV of the same table. Scope as in the API (`Reports`).
struct ReportsConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let staff = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator()).requiring(.viewReports)
        staff.get("reports", use: page)
        staff.get("reports.csv", use: csv)
        staff.get("reports", "daily", use: dailyPage)
        staff.get("reports", "daily.csv", use: dailyCSV)
    }

    /// The table of the page as CSV, on the workbench's own session (its cookie lives under /console).
    func csv(_ req: Request) async throws -> Response {
        let report = try await Reports(db: req.db, services: req.yidai, principal: try req.staff).funnel(
            from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"], by: req.query[String.self, at: "by"],
            step: req.query[String.self, at: "step"], channel: nil, campaign: nil)
        return ReportCSV.response(ReportCSV.funnel(report), name: "funnel-\(report.by)-\(report.from)-\(report.to).csv")
    }

    struct Context: Encodable {
        struct Option: Encodable {
            let code: String
            let name: String
            let selected: Bool
        }
        struct Row: Encodable {
            let key: String
            let label: String
            let entered: Int
            let completed: Int
            let dropOff: String
            let median: String
        }
        let page: ConsoleChrome
        let from: String
        let to: String
        let groupings: [Option]
        let rows: [Row]
        let chartSVG: String
        let csvHref: String
        let error: String?
    }

    static let groupingNames: [(String, String)] = [("page", "按页面"), ("day", "按日"), ("channel", "按渠道"), ("campaign", "按活动"), ("branch", "按机构"), ("manager", "按客户经理")]

    func page(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let today = BusinessCalendar.civilDate(req.yidai.clock.now())
        let from = req.query[String.self, at: "from"] ?? today.adding(days: -6).iso
        let to = req.query[String.self, at: "to"] ?? today.iso
        let by = req.query[String.self, at: "by"] ?? "page"
        var report: FunnelReport?
        var error: String?
        do {
            report = try await Reports(db: req.db, services: req.yidai, principal: principal).funnel(from: from, to: to, by: by, step: nil, channel: nil, campaign: nil)
        } catch let failure as APIError where failure.status == .unprocessableEntity {
            error = failure.messageZh
        }
        let rows = (report?.rows ?? []).map { row in
            Context.Row(key: row.key, label: Self.label(row.key, by: by), entered: row.entered, completed: row.completed,
                        dropOff: String(format: "%.1f%%", row.dropOffPercent), median: row.medianSeconds.map(Self.duration) ?? "—")
        }
        var query = URLComponents()
        query.queryItems = [.init(name: "from", value: from), .init(name: "to", value: to), .init(name: "by", value: by)]
        let context = Context(
            page: ConsolePagesController().chrome(req, "转化漏斗", principal), from: from, to: to,
            groupings: Self.groupingNames.map { .init(code: $0.0, name: $0.1, selected: $0.0 == by) }, rows: rows,
            chartSVG: FunnelChart.svg(rows.map { ($0.label, $0.entered, $0.completed) }, title: "进入与完成人数"),
            csvHref: "/console/reports.csv" + (query.string ?? ""), error: error)
        return try await req.renderPage("console/reports", context)
    }

    // MARK: - Daily figures

    func dailyCSV(_ req: Request) async throws -> Response {
        let report = try await Reports(db: req.db, services: req.yidai, principal: try req.staff).daily(
            from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"])
        let table = req.query[String.self, at: "table"] ?? "days"
        return ReportCSV.response(try ReportCSV.daily(report, table: table), name: "daily-\(table)-\(report.from)-\(report.to).csv")
    }

    struct DailyContext: Encodable {
        struct Lead: Encodable {
            let label: String
            let count: Int
        }
        let page: ConsoleChrome
        let from: String
        let to: String
        struct Row: Encodable {
            let day: String
            let newApplicants: Int
            let approved: Int
            let declined: Int
            let referred: Int
            let rate: String
            let loanRequests: Int
            let requested: String
            let loansPaidOut: Int
            let paidOut: String
        }
        let rows: [Row]
        let totals: Row?
        let position: DailyFiguresReport.Position?
        let leads: [Lead]
        let chartSVG: String
        let csvQuery: String
        let error: String?
    }

    func dailyPage(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let today = BusinessCalendar.civilDate(req.yidai.clock.now())
        let from = req.query[String.self, at: "from"] ?? today.adding(days: -6).iso
        let to = req.query[String.self, at: "to"] ?? today.iso
        var report: DailyFiguresReport?
        var error: String?
        do {
            report = try await Reports(db: req.db, services: req.yidai, principal: principal).daily(from: from, to: to)
        } catch let failure as APIError where failure.status == .unprocessableEntity {
            error = failure.messageZh
        }
        func row(_ d: DailyFiguresReport.Day, _ label: String) -> DailyContext.Row {
            .init(day: label, newApplicants: d.newApplicants, approved: d.approved, declined: d.declined, referred: d.referred,
                  rate: d.approvalRatePercent.map { String(format: "%.1f%%", $0) } ?? "—", loanRequests: d.loanRequests,
                  requested: "¥" + d.requested, loansPaidOut: d.loansPaidOut, paidOut: "¥" + d.paidOut)
        }
        var query = URLComponents()
        query.queryItems = [.init(name: "from", value: from), .init(name: "to", value: to)]
        let days = report?.days ?? []
        let context = DailyContext(
            page: ConsolePagesController().chrome(req, "每日数据", principal), from: from, to: to,
            rows: days.map { row($0, $0.day) }, totals: report.map { row($0.totals, "合计") }, position: report?.position,
            leads: (report?.leads ?? []).map { .init(label: LeadStatus(rawValue: $0.state)?.titleZh ?? $0.state, count: $0.count) },
            chartSVG: FunnelChart.svg(days.map { ($0.day, $0.newApplicants, $0.approved) }, title: "每日新申请与批准", legend: "浅色：新申请　深色：批准"),
            csvQuery: query.string ?? "", error: error)
        return try await req.renderPage("console/daily", context)
    }

    static func label(_ key: String, by: String) -> String {
        guard by == "page", let step = JourneyStep(rawValue: key) else { return key == "-" ? "（无）" : key }
        return step.titleZh
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 90 ? "\(Int(seconds.rounded()))秒" : seconds < 5400 ? String(format: "%.1f分钟", seconds / 60) : String(format: "%.1f小时", seconds / 3600)
    }
}

/// A horizontal bar chart in SVG, drawn on the server: for each row a pale bar (entered) and a dark bar (completed).
/// Text is escaped; the chart is an image with a title, and the table beside it carries the numbers.
enum FunnelChart {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func svg(_ rows: [(label: String, entered: Int, completed: Int)], title: String, legend: String = "浅色：进入　深色：完成") -> String {
        let width = 640, labelWidth = 120, barHeight = 14, gap = 12
        let height = max(40, rows.count * (barHeight * 2 + gap) + 30)
        let top = max(1, rows.map(\.entered).max() ?? 1)
        let scale = Double(width - labelWidth - 60) / Double(top)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 \(width) \(height)\" width=\"100%\" class=\"chart\">"
        out += "<title id=\"chart-title\">\(escape(title))</title>"
        for (index, row) in rows.enumerated() {
            let y = 10 + index * (barHeight * 2 + gap)
            let e = Int((Double(row.entered) * scale).rounded()), c = Int((Double(row.completed) * scale).rounded())
            out += "<text x=\"0\" y=\"\(y + barHeight + 4)\" font-size=\"13\" fill=\"#1f2937\">\(escape(row.label))</text>"
            out += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(max(1, e))\" height=\"\(barHeight)\" fill=\"#93c5fd\"/>"
            out += "<text x=\"\(labelWidth + e + 6)\" y=\"\(y + barHeight - 2)\" font-size=\"12\" fill=\"#1f2937\">\(row.entered)</text>"
            out += "<rect x=\"\(labelWidth)\" y=\"\(y + barHeight)\" width=\"\(max(1, c))\" height=\"\(barHeight)\" fill=\"#1d4ed8\"/>"
            out += "<text x=\"\(labelWidth + c + 6)\" y=\"\(y + barHeight * 2 - 2)\" font-size=\"12\" fill=\"#1f2937\">\(row.completed)</text>"
        }
        out += "<text x=\"\(labelWidth)\" y=\"\(height - 4)\" font-size=\"12\" fill=\"#374151\">\(escape(legend))</text></svg>"
        return out
    }
}
