import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("The funnel: where people give up")
struct FunnelTests {
    /// Four applicants whose answer is known by construction (all on 2026-07-26, Beijing time):
    /// P01 via SZ-0001 (qr) to the loan request; P02 via SZ-0001 (qr) through the ID card; P06 via SZ-0002 (poster)
    /// signed in only; P09 via WH-0001 (poster) to the decision (declined for age).
    static func seed(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws {
        var p01 = Applicant("P01", app: app, clock: clock, providers: providers)
        try await p01.signIn(cm: "SZ-0001", ch: "qr")
        try await walkToDecision(p01)
        #expect(try await p01.call(.POST, p01.path("/loan-request"), json: ["amount": "12000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption"]).0 == .ok)
        var p02 = Applicant("P02", app: app, clock: clock, providers: providers)
        try await p02.signIn(cm: "SZ-0001", ch: "qr")
        #expect(try await p02.uploadIDCard().0 == .ok)
        clock.advance(30)
        #expect(try await p02.confirmIDCard().0 == .ok)
        var p06 = Applicant("P06", app: app, clock: clock, providers: providers)
        try await p06.signIn(cm: "SZ-0002", ch: "poster")
        var p09 = Applicant("P09", app: app, clock: clock, providers: providers)
        try await p09.signIn(cm: "WH-0001", ch: "poster")
        try await walkToDecision(p09)
    }

    static func walkToDecision(_ p: Applicant) async throws {
        #expect(try await p.uploadIDCard().0 == .ok)
        p.clock.advance(30)
        #expect(try await p.confirmIDCard().0 == .ok)
        #expect(try await p.face().0 == .ok)
        #expect(try await p.bankCard().0 == .accepted)
        #expect(try await p.confirmBankCard().0 == .ok)
        #expect(try await p.authorize().0 == .ok)
        #expect(try await p.aboutYou().0 == .ok)
        #expect(try await p.decide().0 == .ok)
    }

    static func rows(_ body: [String: Any]) -> [String: (Int, Int, Double, Double?)] {
        var out: [String: (Int, Int, Double, Double?)] = [:]
        for row in body["rows"] as? [[String: Any]] ?? [] {
            out[row["key"] as? String ?? "?"] = (row["entered"] as? Int ?? -1, row["completed"] as? Int ?? -1,
                                                (row["dropOffPercent"] as? NSNumber)?.doubleValue ?? -1, (row["medianSeconds"] as? NSNumber)?.doubleValue)
        }
        return out
    }

    static let day = "from=2026-07-26&to=2026-07-26"

    @Test("by page: entered, completed, drop-off and median time per journey step, as the seeded journeys say")
    func byPage() async throws {
        try await withYidai { app, clock, providers in
            try await Self.seed(app, clock, providers)
            let admin = try await staff("admin", app: app, clock: clock)
            let (status, body, _) = try await admin.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=page")
            #expect(status == .ok, "\(body)")
            let keys = (body["rows"] as? [[String: Any]] ?? []).map { $0["key"] as? String ?? "" }
            #expect(keys == ["phone", "id_card", "face", "bank_card", "authorization", "about_you", "decision", "loan_request"])
            let r = Self.rows(body)
            #expect(r["phone"]!.0 == 4 && r["phone"]!.1 == 4 && r["phone"]!.2 == 0)
            #expect(r["id_card"]!.0 == 4 && r["id_card"]!.1 == 3 && r["id_card"]!.2 == 25)
            #expect(r["face"]!.0 == 3 && r["face"]!.1 == 2)
            #expect(r["bank_card"]!.0 == 2 && r["bank_card"]!.1 == 2)
            #expect(r["decision"]!.0 == 2 && r["decision"]!.1 == 2)
            #expect(r["loan_request"]!.0 == 1 && r["loan_request"]!.1 == 1)
            // The ID card took 30 s from upload to confirmation plus the sign-in's 61 s wait in the test helper.
            #expect(r["id_card"]!.3 == 91)
            #expect(r["phone"]!.3 == 0)
            // Another day has nothing.
            let (_, empty, _) = try await admin.call(.GET, "/api/v1/staff/reports/funnel?from=2026-07-27&to=2026-07-30&by=page")
            #expect(Self.rows(empty)["phone"]!.0 == 0)
            // CSV of the same table.
            let csv = try await app.testing().sendRequest(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=page&format=csv", headers: admin.bearer)
            #expect(csv.headers.contentType?.description.hasPrefix("text/csv") == true)
            #expect(csv.body.string.contains("id_card,4,3,25.0,91.0"))
        }
    }

    @Test("by channel, manager and branch: journeys started and finished per key")
    func byKey() async throws {
        try await withYidai { app, clock, providers in
            try await Self.seed(app, clock, providers)
            let admin = try await staff("auditor", app: app, clock: clock)
            let (_, channels, _) = try await admin.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=channel")
            let c = Self.rows(channels)
            #expect(c["qr"]!.0 == 2 && c["qr"]!.1 == 1 && c["qr"]!.2 == 50)
            #expect(c["poster"]!.0 == 2 && c["poster"]!.1 == 0)
            let (_, branches, _) = try await admin.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=branch")
            let b = Self.rows(branches)
            #expect(b["SZ-NS"]!.0 == 2 && b["SZ-FT"]!.0 == 1 && b["WH-JH"]!.0 == 1)
            let (_, face, _) = try await admin.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=manager&step=face")
            let f = Self.rows(face)
            #expect(f["SZ-0001"]!.0 == 2 && f["SZ-0001"]!.1 == 1 && f["WH-0001"]!.1 == 1)
        }
    }

    @Test("each role sees its own scope: a manager their customers, a branch head the branch, compliance nothing")
    func scope() async throws {
        try await withYidai { app, clock, providers in
            try await Self.seed(app, clock, providers)
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            let (_, mine, _) = try await cm.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=manager")
            #expect(Set(Self.rows(mine).keys) == ["SZ-0001"])
            let head = try await staff("sz-head", app: app, clock: clock)
            let (_, branch, _) = try await head.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=page")
            #expect(Self.rows(branch)["phone"]!.0 == 3)
            let wh = try await staff("wh-head", app: app, clock: clock)
            let (_, other, _) = try await wh.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=manager")
            #expect(Set(Self.rows(other).keys) == ["WH-0001"])
            // Bad input names the field.
            let (bad, badBody, _) = try await wh.call(.GET, "/api/v1/staff/reports/funnel?from=2026-07-26&to=2026-07-20")
            #expect(bad == .unprocessableEntity && (badBody["error"] as? [String: Any])?["field"] as? String == "to")
            let (by, byBody, _) = try await wh.call(.GET, "/api/v1/staff/reports/funnel?\(Self.day)&by=colour")
            #expect(by == .unprocessableEntity && (byBody["error"] as? [String: Any])?["field"] as? String == "by")
        }
    }
}
