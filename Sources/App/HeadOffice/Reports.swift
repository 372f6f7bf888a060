import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

struct FunnelReport: Content {
    struct Row: Content {
        let key: String
        let entered: Int
        let completed: Int
        let dropOffPercent: Double
        let medianSeconds: Double?
    }
    let from: String
    let to: String
    let by: String
    let step: String?
    let rows: [Row]
}

/// The head office's and branch heads' numbers, computed by SQL aggregates over indexed columns (never by loading
/// rows), within the member's scope: a manager their own customers, a branch head the branch and its sub-branches,
/// the head office everything.
struct Reports {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    enum Grouping: String, CaseIterable { case page, day, channel, campaign, branch, manager }

    static func date(_ raw: String?, field: String) throws -> CivilDate {
        guard let raw, let date = CivilDate(iso: raw) else {
            throw APIError.invalid(field, "\(field) must be a date as YYYY-MM-DD.", zh: "日期格式应为YYYY-MM-DD。")
        }
        return date
    }

    /// Branch or manager codes as an SQL list of quoted literals; anything but letters, digits and "-" is dropped, so
    /// a code can never close its quote.
    static func sqlList(_ codes: [String]) -> String {
        codes.map { "'" + $0.filter { $0.isLetter || $0.isNumber || $0 == "-" } + "'" }.joined(separator: ", ")
    }

    /// The scope as a WHERE fragment on a journey_steps (or leads) alias.
    func scope(_ alias: String) async throws -> SQLQueryString {
        switch StaffPermissions.scope(for: principal.role, action: .viewReports) {
        case .ownCustomers:
            return "AND \(unsafeRaw: alias).manager_code = \(bind: principal.managerCode ?? "-")"
        case .branch:
            let org = try await StaffApplications(db: db, services: services, principal: principal).organisation()
            let codes = StaffPermissions.branchCodes(within: principal.branchCode, parents: org.parents).sorted()
            return "AND \(unsafeRaw: alias).branch_code IN (\(unsafeRaw: Self.sqlList(codes)))"
        case .bankWide:
            return ""
        case .none:
            throw APIError.notFound("resource")
        }
    }

    func funnel(from rawFrom: String?, to rawTo: String?, by rawBy: String?, step rawStep: String?, channel: String?, campaign: String?) async throws -> FunnelReport {
        let from = try Self.date(rawFrom, field: "from")
        let to = try Self.date(rawTo, field: "to")
        guard from <= to else { throw APIError.invalid("to", "to must not be before from.", zh: "结束日期不能早于开始日期。") }
        guard from.days(until: to) <= 366 else { throw APIError.invalid("to", "A report covers at most 366 days.", zh: "报表最长366天。") }
        guard let by = Grouping(rawValue: rawBy ?? "page") else {
            throw APIError.invalid("by", "by must be one of \(Grouping.allCases.map(\.rawValue).joined(separator: ", ")).", zh: "分组方式不正确。")
        }
        var step: JourneyStep?
        if let rawStep, !rawStep.isEmpty {
            guard let s = JourneyStep(rawValue: rawStep), JourneyFunnel.steps.contains(s) else {
                throw APIError.invalid("step", "step must be one of \(JourneyFunnel.steps.map(\.rawValue).joined(separator: ", ")).", zh: "步骤不正确。")
            }
            step = s
        }
        guard let sql = db as? any SQLDatabase else { throw APIError.notFound("resource") }
        var filters: SQLQueryString = try await scope("p")
        if let channel, !channel.isEmpty { filters = filters + " AND p.channel = \(bind: channel)" }
        if let campaign, !campaign.isEmpty { filters = filters + " AND p.campaign = \(bind: campaign)" }
        let range: SQLQueryString = "p.day >= \(bind: from.iso) AND p.day <= \(bind: to.iso)"
        let counts: [SQLRow]
        let medians: [SQLRow]
        if by == .page || step != nil {
            // Per step: entered = became the current step in the range, completed = done, the time between them.
            let key = by == .page ? "p.step" : Self.column(by)
            var stepFilter: SQLQueryString = ""
            if let step { stepFilter = " AND p.step = \(bind: step.rawValue)" }
            counts = try await sql.raw("""
                SELECT \(unsafeRaw: key) AS key, COUNT(*) AS entered, COUNT(p.completed_at) AS completed
                FROM journey_steps p WHERE \(range) \(filters) \(stepFilter) GROUP BY \(unsafeRaw: key)
                """).all()
            medians = try await sql.raw("""
                SELECT key, AVG(seconds) AS median FROM (
                  SELECT \(unsafeRaw: key) AS key, p.seconds AS seconds,
                         ROW_NUMBER() OVER (PARTITION BY \(unsafeRaw: key) ORDER BY p.seconds) AS rn,
                         COUNT(*) OVER (PARTITION BY \(unsafeRaw: key)) AS c
                  FROM journey_steps p WHERE \(range) \(filters) \(stepFilter) AND p.seconds IS NOT NULL
                ) t WHERE rn IN ((c + 1) / 2, (c + 2) / 2) GROUP BY key
                """).all()
        } else {
            // The whole journey per key: entered = applications started in the range, completed = those whose loan
            // request is done, the time from start to loan request.
            let key = Self.column(by)
            // The loan-request row is looked up per started application through the (application_id, step) index.
            let finished = "(SELECT l.completed_at FROM journey_steps l WHERE l.application_id = p.application_id AND l.step = 'loan_request')"
            let journey = "(SELECT l.journey_seconds FROM journey_steps l WHERE l.application_id = p.application_id AND l.step = 'loan_request')"
            counts = try await sql.raw("""
                SELECT key, COUNT(*) AS entered, COUNT(done) AS completed FROM (
                  SELECT \(unsafeRaw: key) AS key, \(unsafeRaw: finished) AS done
                  FROM journey_steps p WHERE p.step = 'phone' AND \(range) \(filters)
                ) t GROUP BY key
                """).all()
            medians = try await sql.raw("""
                SELECT key, AVG(seconds) AS median FROM (
                  SELECT key, seconds, ROW_NUMBER() OVER (PARTITION BY key ORDER BY seconds) AS rn, COUNT(*) OVER (PARTITION BY key) AS c
                  FROM (
                    SELECT \(unsafeRaw: key) AS key, \(unsafeRaw: journey) AS seconds
                    FROM journey_steps p WHERE p.step = 'phone' AND \(range) \(filters)
                  ) s WHERE seconds IS NOT NULL
                ) t WHERE rn IN ((c + 1) / 2, (c + 2) / 2) GROUP BY key
                """).all()
        }
        var medianByKey: [String: Double] = [:]
        for row in medians {
            let key = try row.decodeNil(column: "key") ? "-" : try row.decode(column: "key", as: String.self)
            medianByKey[key] = try row.decode(column: "median", as: Double.self)
        }
        var rows: [String: FunnelReport.Row] = [:]
        for row in counts {
            let key = try row.decodeNil(column: "key") ? "-" : try row.decode(column: "key", as: String.self)
            let entered = try row.decode(column: "entered", as: Int.self)
            let completed = try row.decode(column: "completed", as: Int.self)
            rows[key] = .init(key: key, entered: entered, completed: completed, dropOffPercent: Self.dropOff(entered, completed),
                              medianSeconds: medianByKey[key].map { ($0 * 10).rounded() / 10 })
        }
        let ordered: [FunnelReport.Row]
        if by == .page && step == nil {
            ordered = JourneyFunnel.steps.map { rows[$0.rawValue] ?? .init(key: $0.rawValue, entered: 0, completed: 0, dropOffPercent: 0, medianSeconds: nil) }
        } else {
            ordered = rows.values.sorted { $0.key < $1.key }
        }
        return FunnelReport(from: from.iso, to: to.iso, by: by.rawValue, step: step?.rawValue, rows: ordered)
    }

    static func column(_ by: Grouping) -> String {
        switch by {
        case .page: "p.step"
        case .day: "p.day"
        case .channel: "p.channel"
        case .campaign: "p.campaign"
        case .branch: "p.branch_code"
        case .manager: "p.manager_code"
        }
    }

    static func dropOff(_ entered: Int, _ completed: Int) -> Double {
        guard entered > 0 else { return 0 }
        return (Double(entered - completed) / Double(entered) * 1000).rounded() / 10
    }
}
