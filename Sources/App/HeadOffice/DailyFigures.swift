import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// The day's figures as the head office reads them each morning, per Beijing day of a range, within the member's
/// scope (a manager their own customers, a branch head the branch, the head office everything). Every number is an
/// SQL aggregate over indexed columns; money is summed in fen, never in floating point.
struct DailyFiguresReport: Content {
    struct Day: Content {
        let day: String
        /// Applications started that day.
        var newApplicants = 0
        /// Decisions made that day, by their outcome as it stands (a referral a reviewer approved counts as approved
        /// on the day of the review; one still waiting counts as referred).
        var approved = 0
        var declined = 0
        var referred = 0
        /// approved ÷ (approved + declined), in percent with one decimal; nil when nothing was decided.
        var approvalRatePercent: Double?
        var loanRequests = 0
        var requestedFen: Int64 = 0
        var requested = "0.00"
        var loansPaidOut = 0
        var paidOutFen: Int64 = 0
        var paidOut = "0.00"
    }
    /// Where the book stands now (not per day): loans by status and what is overdue.
    struct Position: Content {
        let asOf: String
        let loansActive: Int
        let loansOverdue: Int
        let overdueBalanceFen: Int64
        let overdueBalance: String
    }
    /// Leads that came in during the range, by the state they are in now.
    struct LeadCount: Content {
        let state: String
        let count: Int
    }
    let from: String
    let to: String
    let days: [Day]
    let totals: Day
    let position: Position
    let leads: [LeadCount]
}

extension Reports {
    /// Days since 1970-01-01 in Beijing (UTC+8, no daylight saving since 1991) of a timestamp column, per dialect.
    static func beijingDay(_ column: String, on sql: any SQLDatabase) -> String {
        sql.dialect.name == "sqlite"
            ? "CAST((\(column) + 28800) / 86400 AS INTEGER)"
            : "CAST(FLOOR((EXTRACT(EPOCH FROM \(column)) + 28800) / 86400) AS BIGINT)"
    }

    /// The scope as a WHERE fragment on a column holding a manager code (an application's last touch, a loan's manager).
    func managerScope(_ column: String) async throws -> SQLQueryString {
        switch StaffPermissions.scope(for: principal.role, action: .viewReports) {
        case .ownCustomers:
            return "AND \(unsafeRaw: column) = \(bind: principal.managerCode ?? "-")"
        case .branch:
            let org = try await StaffApplications(db: db, services: services, principal: principal).organisation()
            let codes = org.managerCodes(within: principal.branchCode)
            guard !codes.isEmpty else { return "AND 1 = 0" }
            return "AND \(unsafeRaw: column) IN (\(unsafeRaw: Self.sqlList(codes)))"
        case .bankWide:
            return ""
        case .none:
            throw APIError.notFound("resource")
        }
    }

    func daily(from rawFrom: String?, to rawTo: String?) async throws -> DailyFiguresReport {
        let from = try Self.date(rawFrom, field: "from")
        let to = try Self.date(rawTo, field: "to")
        guard from <= to else { throw APIError.invalid("to", "to must not be before from.", zh: "结束日期不能早于开始日期。") }
        guard from.days(until: to) <= 366 else { throw APIError.invalid("to", "A report covers at most 366 days.", zh: "报表最长366天。") }
        guard let sql = db as? any SQLDatabase else { throw APIError.notFound("resource") }
        let start = ContractService.startOfDay(from)
        let end = ContractService.startOfDay(to.adding(days: 1))
        let appScope = try await managerScope("a.cm_last")
        let epoch = CivilDate(year: 1970, month: 1, day: 1)!
        var days: [Int: DailyFiguresReport.Day] = [:]
        func update(_ rows: [SQLRow], _ apply: (inout DailyFiguresReport.Day, SQLRow) throws -> Void) throws {
            for row in rows {
                let number = try row.decode(column: "d", as: Int.self)
                var day = days[number] ?? .init(day: epoch.adding(days: number).iso)
                try apply(&day, row)
                days[number] = day
            }
        }
        // New applicants as the funnel counts them: the first step entered (its Beijing day is stored with it).
        let journeyScope = try await scope("p")
        for row in try await sql.raw("""
            SELECT p.day AS day, COUNT(*) AS n FROM journey_steps p
            WHERE p.step = 'phone' AND p.day >= \(bind: from.iso) AND p.day <= \(bind: to.iso) \(journeyScope) GROUP BY p.day
            """).all() {
            guard let date = CivilDate(iso: try row.decode(column: "day", as: String.self)) else { continue }
            let number = epoch.days(until: date)
            var day = days[number] ?? .init(day: date.iso)
            day.newApplicants = try row.decode(column: "n", as: Int.self)
            days[number] = day
        }
        let decided = Self.beijingDay("a.decided_at", on: sql)
        try update(try await sql.raw("""
            SELECT \(unsafeRaw: decided) AS d, a.decision AS outcome, COUNT(*) AS n FROM applications a
            WHERE a.decided_at >= \(bind: start) AND a.decided_at < \(bind: end) AND a.decision IS NOT NULL \(appScope)
            GROUP BY \(unsafeRaw: decided), a.decision
            """).all()) { day, row in
            let n = try row.decode(column: "n", as: Int.self)
            switch try row.decode(column: "outcome", as: String.self) {
            case ApplicationState.approved.rawValue: day.approved += n
            case ApplicationState.declined.rawValue: day.declined += n
            default: day.referred += n
            }
        }
        let requested = Self.beijingDay("a.loan_requested_at", on: sql)
        try update(try await sql.raw("""
            SELECT \(unsafeRaw: requested) AS d, COUNT(*) AS n, CAST(SUM(CAST(REPLACE(a.loan_amount, '.', '') AS BIGINT)) AS BIGINT) AS fen
            FROM applications a
            WHERE a.loan_requested_at >= \(bind: start) AND a.loan_requested_at < \(bind: end) AND a.loan_amount IS NOT NULL \(appScope)
            GROUP BY \(unsafeRaw: requested)
            """).all()) { day, row in
            day.loanRequests = try row.decode(column: "n", as: Int.self)
            day.requestedFen = try row.decode(column: "fen", as: Int64?.self) ?? 0
        }
        let loanScope = try await managerScope("l.manager_code")
        let disbursed = Self.beijingDay("l.disbursed_at", on: sql)
        try update(try await sql.raw("""
            SELECT \(unsafeRaw: disbursed) AS d, COUNT(*) AS n, CAST(SUM(l.principal_fen) AS BIGINT) AS fen
            FROM loans l
            WHERE l.disbursed_at >= \(bind: start) AND l.disbursed_at < \(bind: end) \(loanScope)
            GROUP BY \(unsafeRaw: disbursed)
            """).all()) { day, row in
            day.loansPaidOut = try row.decode(column: "n", as: Int.self)
            day.paidOutFen = try row.decode(column: "fen", as: Int64?.self) ?? 0
        }
        var list: [DailyFiguresReport.Day] = []
        var totals = DailyFiguresReport.Day(day: "total")
        for offset in 0...from.days(until: to) {
            let date = from.adding(days: offset)
            var day = days[epoch.days(until: date)] ?? .init(day: date.iso)
            Self.finish(&day)
            list.append(day)
            totals.newApplicants += day.newApplicants
            totals.approved += day.approved
            totals.declined += day.declined
            totals.referred += day.referred
            totals.loanRequests += day.loanRequests
            totals.requestedFen += day.requestedFen
            totals.loansPaidOut += day.loansPaidOut
            totals.paidOutFen += day.paidOutFen
        }
        Self.finish(&totals)
        return DailyFiguresReport(
            from: from.iso, to: to.iso, days: list, totals: totals, position: try await position(sql),
            leads: try await leadCounts(sql, start: start, end: end))
    }

    static func finish(_ day: inout DailyFiguresReport.Day) {
        let decided = day.approved + day.declined
        day.approvalRatePercent = decided == 0 ? nil : (Double(day.approved) / Double(decided) * 1000).rounded() / 10
        day.requested = Money.string(fen: day.requestedFen)
        day.paidOut = Money.string(fen: day.paidOutFen)
    }

    private func position(_ sql: any SQLDatabase) async throws -> DailyFiguresReport.Position {
        var active = 0
        var overdue = 0
        // Kept in step with every loan by LoanCounts: a few rows per manager, whatever the size of the book.
        for row in try await sql.raw("""
            SELECT c.status AS status, CAST(SUM(c.count) AS BIGINT) AS n FROM loan_counts c
            WHERE c.status IN ('active', 'overdue') \(try await managerScope("c.manager_code")) GROUP BY c.status
            """).all() {
            let n = try row.decode(column: "n", as: Int.self)
            if try row.decode(column: "status", as: String.self) == LoanStatus.overdue.rawValue { overdue = n } else { active = n }
        }
        // What is past due and unpaid: principal, interest and penalty of overdue instalments, less what was paid.
        let balance = try await sql.raw("""
            SELECT CAST(SUM(i.principal_fen + i.interest_fen + i.penalty_fen - i.paid_principal_fen - i.paid_interest_fen - i.paid_penalty_fen) AS BIGINT) AS fen
            FROM loan_installments i JOIN loans l ON l.id = i.loan_id
            WHERE i.status = 'overdue' \(try await managerScope("l.manager_code"))
            """).first()?.decode(column: "fen", as: Int64?.self) ?? 0
        return .init(asOf: BusinessCalendar.civilDate(services.clock.now()).iso, loansActive: active, loansOverdue: overdue,
                     overdueBalanceFen: balance, overdueBalance: Money.string(fen: balance))
    }

    /// Leads that came in during the range, by the state they are in now (leads carry their manager and branch
    /// codes as journey steps do, so the funnel's scope applies as it is).
    private func leadCounts(_ sql: any SQLDatabase, start: Date, end: Date) async throws -> [DailyFiguresReport.LeadCount] {
        var counts: [String: Int] = [:]
        for row in try await sql.raw("""
            SELECT p.status AS status, COUNT(*) AS n FROM leads p
            WHERE p.created_at >= \(bind: start) AND p.created_at < \(bind: end) \(try await scope("p")) GROUP BY p.status
            """).all() {
            counts[try row.decode(column: "status", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        return LeadStatus.allCases.map { .init(state: $0.rawValue, count: counts[$0.rawValue] ?? 0) }
    }
}
