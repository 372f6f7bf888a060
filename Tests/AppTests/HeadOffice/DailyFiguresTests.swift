import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("Daily figures: applicants, decisions, money requested and paid out, the book, leads")
struct DailyFiguresTests {
    static let day = "from=2026-07-26&to=2026-07-26"

    /// Known by construction, all on 2026-07-26 (Beijing): P01 via SZ-0001 approved, asks 12,000 and is paid out;
    /// P02 via SZ-0001 stops after the ID card; P09 via WH-0001 is declined; one lead for SZ-0001.
    static func seed(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> Applicant {
        var p01 = Applicant("P01", app: app, clock: clock, providers: providers)
        try await p01.signIn(cm: "SZ-0001", ch: "qr")
        try await p01.walkToSignedContract(amount: "12000", termMonths: 12)
        let (paid, paidBody) = try await p01.disburse()
        #expect(paid == .created, "\(paidBody)")
        var p02 = Applicant("P02", app: app, clock: clock, providers: providers)
        try await p02.signIn(cm: "SZ-0001", ch: "qr")
        #expect(try await p02.uploadIDCard().0 == .ok)
        var p09 = Applicant("P09", app: app, clock: clock, providers: providers)
        try await p09.signIn(cm: "WH-0001", ch: "poster")
        try await FunnelTests.walkToDecision(p09)
        let (lead, leadBody) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900001111", cm: "SZ-0001")
        #expect(lead == .created, "\(leadBody)")
        return p01
    }

    static func day(_ body: [String: Any], _ iso: String = "2026-07-26") -> [String: Any] {
        (body["days"] as? [[String: Any]] ?? []).first { $0["day"] as? String == iso } ?? [:]
    }

    static func leads(_ body: [String: Any]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: (body["leads"] as? [[String: Any]] ?? []).map { ($0["state"] as? String ?? "", $0["count"] as? Int ?? -1) })
    }

    @Test("the head office's day: three new applicants, one approved and one declined (50 %), 12,000 asked for and paid out")
    func headOfficeDay() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.seed(app, clock, providers)
            let admin = try await staff("ho-retail", app: app, clock: clock)
            let (status, body, _) = try await admin.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)")
            #expect(status == .ok, "\(body)")
            let d = Self.day(body)
            #expect(d["newApplicants"] as? Int == 3)
            #expect(d["approved"] as? Int == 1 && d["declined"] as? Int == 1 && d["referred"] as? Int == 0)
            #expect((d["approvalRatePercent"] as? NSNumber)?.doubleValue == 50)
            #expect(d["loanRequests"] as? Int == 1 && d["requested"] as? String == "12000.00" && d["requestedFen"] as? Int == 1_200_000)
            #expect(d["loansPaidOut"] as? Int == 1 && d["paidOut"] as? String == "12000.00")
            #expect(body[path: "position.loansActive"] as? Int == 1 && body[path: "position.loansOverdue"] as? Int == 0)
            #expect(body[path: "position.overdueBalance"] as? String == "0.00")
            #expect(Self.leads(body)["new"] == 1)
            // The day before and after are there, empty.
            let (_, week, _) = try await admin.call(.GET, "/api/v1/staff/reports/daily?from=2026-07-25&to=2026-07-27")
            #expect((week["days"] as? [[String: Any]])?.map { $0["day"] as? String ?? "" } == ["2026-07-25", "2026-07-26", "2026-07-27"])
            #expect(Self.day(week, "2026-07-25")["newApplicants"] as? Int == 0)
            #expect(Self.day(week, "2026-07-27")["approvalRatePercent"] == nil || Self.day(week, "2026-07-27")["approvalRatePercent"] is NSNull)
            #expect(week[path: "totals.newApplicants"] as? Int == 3)
            // CSV of every table.
            let csv = try await app.testing().sendRequest(.GET, "/api/v1/staff/reports/daily?\(Self.day)&format=csv", headers: admin.bearer)
            #expect(csv.body.string.contains("2026-07-26,3,1,1,0,50.0,1,12000.00,1,12000.00"), "\(csv.body.string)")
            let leadsCSV = try await app.testing().sendRequest(.GET, "/api/v1/staff/reports/daily?\(Self.day)&format=csv&table=leads", headers: admin.bearer)
            #expect(leadsCSV.body.string.contains("new,1"))
            let (bad, badBody, _) = try await admin.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)&format=csv&table=colour")
            #expect(bad == .unprocessableEntity && badBody[path: "error.field"] as? String == "table")
            let (badDate, dateBody, _) = try await admin.call(.GET, "/api/v1/staff/reports/daily?from=26-07-2026&to=2026-07-26")
            #expect(badDate == .unprocessableEntity && dateBody[path: "error.field"] as? String == "from")
        }
    }

    @Test("a loan past due shows in the book as overdue with exactly what is unpaid on its overdue instalments")
    func overdueBook() async throws {
        try await withYidai { app, clock, providers in
            let p01 = try await Self.seed(app, clock, providers)
            // The card is empty, so the auto-debit on the due date collects nothing.
            try await ServicingHarness.setCard(app, p01.card, balance: 0)
            try await ServicingHarness.endOfDay(app, through: "2026-09-05")
            let admin = try await staff("admin", app: app, clock: clock)
            let (_, body, _) = try await admin.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)")
            #expect(body[path: "position.loansOverdue"] as? Int == 1 && body[path: "position.loansActive"] as? Int == 0)
            // The same sum, taken from the instalments one by one.
            let overdue = try await LoanInstallment.query(on: app.db).filter(\.$status == "overdue").all()
            #expect(!overdue.isEmpty)
            let unpaid = overdue.reduce(Int64(0)) { $0 + $1.principalFen + $1.interestFen + $1.penaltyFen - $1.paidPrincipalFen - $1.paidInterestFen - $1.paidPenaltyFen }
            #expect(body[path: "position.overdueBalanceFen"] as? Int == Int(unpaid))
            #expect(unpaid > 0)
            // The counts the dashboard reads agree with the loans themselves.
            let kept = try await (app.db as! any SQLDatabase).raw("SELECT manager_code, status, count FROM loan_counts WHERE count > 0").all()
            #expect(kept.count == 1)
            #expect(try kept.first?.decode(column: "manager_code", as: String.self) == "SZ-0001")
            #expect(try kept.first?.decode(column: "status", as: String.self) == "overdue")
            #expect(try await Loan.query(on: app.db).filter(\.$status == "overdue").filter(\.$managerCode == "SZ-0001").count() == 1)
        }
    }

    @Test("each role's daily figures cover its scope: a manager their customers, a branch head the branch, compliance nothing")
    func scope() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.seed(app, clock, providers)
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            let (_, mine, _) = try await cm.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)")
            #expect(Self.day(mine)["newApplicants"] as? Int == 2 && Self.day(mine)["declined"] as? Int == 0)
            #expect(Self.leads(mine)["new"] == 1)
            let other = try await staff("sz-cm2", app: app, clock: clock)
            let (_, theirs, _) = try await other.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)")
            #expect(Self.day(theirs)["newApplicants"] as? Int == 0 && Self.leads(theirs)["new"] == 0)
            #expect(theirs[path: "position.loansActive"] as? Int == 0)
            let wh = try await staff("wh-head", app: app, clock: clock)
            let (_, branch, _) = try await wh.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)")
            #expect(Self.day(branch)["newApplicants"] as? Int == 1 && Self.day(branch)["declined"] as? Int == 1)
            #expect(Self.day(branch)["paidOut"] as? String == "0.00" && Self.leads(branch)["new"] == 0)
            let compliance = try await staff("compliance", app: app, clock: clock)
            #expect(try await compliance.call(.GET, "/api/v1/staff/reports/daily?\(Self.day)").0 == .notFound)
        }
    }

    @Test("the daily page draws its chart on the server and puts every number in tables beside it")
    func page() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.seed(app, clock, providers)
            let session = try await ConsolePagesTests.signIn(app, clock, "ho-retail")
            let page = try await ConsolePagesTests.page(app, .GET, "/console/reports/daily?\(Self.day)", session: session)
            #expect(page.status == .ok)
            #expect(page.html.contains("<svg") && page.html.contains("id=\"daily\"") && page.html.contains("¥12000.00"))
            #expect(page.html.contains("50.0%") && page.html.contains("id=\"leads\""))
            let csv = try await ConsolePagesTests.page(app, .GET, "/console/reports/daily.csv?\(Self.day)&table=position", session: session)
            #expect(csv.html.contains("asOf,loansActive,loansOverdue,overdueBalance"))
        }
    }
}
