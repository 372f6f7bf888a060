import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("The auditor's view: browse, verify, export, reveals")
struct AuditorViewTests {
    /// A referred application (P11, via SZ-0001) whose phone the manager revealed once, with a reason.
    static func seed(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> Applicant {
        let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
        let manager = try await staff("sz-cm1", app: app, clock: clock)
        let (revealed, _, _) = try await manager.call(.POST, StaffUser.application(p.applicationID) + "/reveal", json: ["field": "phone", "reason": "电话回访核实收入"])
        #expect(revealed == .ok)
        return p
    }

    static func items(_ body: [String: Any]) -> [[String: Any]] { body["items"] as? [[String: Any]] ?? [] }

    @Test("the auditor browses one application's trail newest first, page by page, and by staff member and action")
    func browse() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.seed(app, clock, providers)
            let id = p.applicationID.lowercased()
            let auditor = try await staff("auditor", app: app, clock: clock)
            let (status, body, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?application=\(id)&limit=500")
            #expect(status == .ok, "\(body)")
            let all = Self.items(body)
            let stored = try await AuditEntry.query(on: app.db).filter(\.$applicationID == UUID(uuidString: id)!).count()
            #expect(all.count == stored && stored > 5)
            #expect(all.allSatisfy { ($0["applicationId"] as? String)?.lowercased() == id })
            let sequences = all.compactMap { $0["sequence"] as? Int }
            #expect(sequences == sequences.sorted(by: >))
            #expect(body["nextBefore"] == nil || body["nextBefore"] is NSNull)
            // Paging: three at a time, following nextBefore, gives the same entries in the same order.
            var paged: [Int] = []
            var before: Int?
            repeat {
                let (_, page, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?application=\(id)&limit=3" + (before.map { "&before=\($0)" } ?? ""))
                paged += Self.items(page).compactMap { $0["sequence"] as? Int }
                before = page["nextBefore"] as? Int
            } while before != nil
            #expect(paged == sequences)
            // By staff member (a bare login) and by action.
            let (_, mine, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?actor=sz-cm1&action=personal_data.revealed")
            #expect(Self.items(mine).count == 1)
            #expect(Self.items(mine).first?[path: "details.reason"] as? String == "电话回访核实收入")
            let (_, none, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?actor=sz-cm2")
            #expect(Self.items(none).allSatisfy { $0["actor"] as? String == "staff:sz-cm2" })
            let (_, dated, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?from=2026-07-27&to=2026-07-30")
            #expect(Self.items(dated).isEmpty)
            // Bad filters are named.
            for (query, field) in [("application=abc", "application"), ("from=2026-13-01", "from"), ("limit=0", "limit"), ("before=-4", "before"),
                                   ("from=2026-07-27&to=2026-07-26", "to")] {
                let (bad, badBody, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries?\(query)")
                #expect(bad == .unprocessableEntity && badBody[path: "error.field"] as? String == field, "\(query)")
            }
        }
    }

    @Test("verifying from the API says intact, and names the first entry someone changed in the database")
    func verify() async throws {
        try await withYidai { app, clock, providers in
            _ = try await Self.seed(app, clock, providers)
            let auditor = try await staff("auditor", app: app, clock: clock)
            let (status, ok, _) = try await auditor.call(.GET, "/api/v1/staff/audit-verification")
            #expect(status == .ok && ok["intact"] as? Bool == true, "\(ok)")
            #expect((ok["entries"] as? Int ?? 0) > 5)
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "audit.verified").count() == 1)
            // Someone with database access edits an old entry's details.
            let victim = try #require(try await AuditEntry.query(on: app.db).filter(\.$action == "personal_data.revealed").first())
            try await (app.db as! any SQLDatabase).raw("UPDATE audit_entries SET details = '{\"reason\":\"x\"}' WHERE sequence = \(bind: victim.sequence)").run()
            let (_, broken, _) = try await auditor.call(.GET, "/api/v1/staff/audit-verification")
            #expect(broken["intact"] as? Bool == false)
            #expect(broken["firstBrokenSequence"] as? Int == victim.sequence)
            // The page shows the same result.
            let session = try await ConsolePagesTests.signIn(app, clock, "auditor")
            let page = try await ConsolePagesTests.page(app, .GET, "/console/audit?verify=1", session: session)
            #expect(page.html.contains("哈希链校验未通过") && page.html.contains("首个异常记录：\(victim.sequence)"))
            #expect(page.html.contains("<th scope=\"col\">通道/位置</th>"))
            let newest = try await AuditEntry.query(on: app.db).sort(\.$sequence, .descending).limit(3).all()
            #expect(newest.contains { page.html.contains("<td>\($0.lane)/\($0.lanePosition)</td>") })
        }
    }

    @Test("an export carries the verification result and exactly the filtered entries, and is itself recorded")
    func export() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.seed(app, clock, providers)
            let id = p.applicationID.lowercased()
            let auditor = try await staff("auditor", app: app, clock: clock)
            try await AuditSealing(db: app.db, services: app.yidai).sealAll()  // as the export does before it reads
            let stored = try await AuditEntry.query(on: app.db).filter(\.$applicationID == UUID(uuidString: id)!).sort(\.$sequence).all()
            let json = try await app.testing().sendRequest(.GET, "/api/v1/staff/audit-entries/export?format=json&application=\(id)", headers: auditor.bearer)
            #expect(json.status == .ok)
            let body = try JSONSerialization.jsonObject(with: Data(buffer: json.body)) as? [String: Any] ?? [:]
            #expect(body[path: "verification.intact"] as? Bool == true)
            let entries = body["entries"] as? [[String: Any]] ?? []
            #expect(entries.compactMap { $0["sequence"] as? Int } == stored.map(\.sequence))
            #expect(entries.first?["entryHash"] as? String == stored.first?.entryHash)
            #expect(entries.compactMap { $0["lane"] as? Int } == stored.map(\.lane))
            #expect(entries.compactMap { $0["lanePosition"] as? Int } == stored.map(\.lanePosition))
            let csv = try await app.testing().sendRequest(.GET, "/api/v1/staff/audit-entries/export?format=csv&application=\(id)", headers: auditor.bearer)
            let lines = csv.body.string.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines[0].hasSuffix("verification,entries,anchorsChecked,firstBrokenSequence,checkedAt"))
            #expect(lines[1].hasPrefix("intact,"))
            let last = stored.last!
            #expect(lines.filter { $0.hasSuffix(",\(last.previousHash),\(last.lane),\(last.lanePosition)") }.count == 1)
            let exported = try await AuditEntry.query(on: app.db).filter(\.$action == "audit.exported").all()
            #expect(exported.count == 2 && exported.allSatisfy { $0.actor == "staff:auditor" && $0.applicationID?.uuidString.lowercased() == id })
            let (bad, badBody, _) = try await auditor.call(.GET, "/api/v1/staff/audit-entries/export?format=xml")
            #expect(bad == .unprocessableEntity && badBody[path: "error.field"] as? String == "format")
        }
    }

    @Test("every reveal of personal data is listed per staff member with the application, the field and the reason")
    func reveals() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.seed(app, clock, providers)
            let head = try await staff("sz-head", app: app, clock: clock)
            for field in ["name", "idNumber"] {
                #expect(try await head.call(.POST, StaffUser.application(p.applicationID) + "/reveal", json: ["field": field, "reason": "核实客户身份"]).0 == .ok)
            }
            let auditor = try await staff("auditor", app: app, clock: clock)
            let (status, body, _) = try await auditor.call(.GET, "/api/v1/staff/reveals")
            #expect(status == .ok)
            let members = body["members"] as? [[String: Any]] ?? []
            #expect(members.map { $0["login"] as? String ?? "" } == ["sz-head", "sz-cm1"])
            #expect(members.map { $0["count"] as? Int ?? 0 } == [2, 1])
            let first = (members.first?["reveals"] as? [[String: Any]])?.first
            #expect((first?["applicationId"] as? String)?.lowercased() == p.applicationID.lowercased() && first?["reason"] as? String == "核实客户身份")
            let (_, one, _) = try await auditor.call(.GET, "/api/v1/staff/reveals?actor=sz-cm1")
            #expect((one["members"] as? [[String: Any]])?.map { $0["login"] as? String ?? "" } == ["sz-cm1"])
            let session = try await ConsolePagesTests.signIn(app, clock, "auditor")
            let page = try await ConsolePagesTests.page(app, .GET, "/console/audit/reveals", session: session)
            #expect(page.status == .ok && page.html.contains("sz-head") && page.html.contains("身份证号") && page.html.contains("核实客户身份"))
        }
    }

    @Test("only the auditor reads the trail, and the auditor can change nothing")
    func scope() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.seed(app, clock, providers)
            for login in ["sz-cm1", "sz-head", "risk1", "admin", "compliance"] {
                let member = try await staff(login, app: app, clock: clock)
                for path in ["/api/v1/staff/audit-entries", "/api/v1/staff/audit-verification", "/api/v1/staff/reveals", "/api/v1/staff/audit-entries/export?format=csv"] {
                    #expect(try await member.call(.GET, path).0 == .notFound, "\(login) \(path)")
                }
            }
            let auditor = try await staff("auditor", app: app, clock: clock)
            let before = try await AuditEntry.query(on: app.db).count()
            let application = StaffUser.application(p.applicationID)
            let attempts: [(HTTPMethod, String, [String: Any])] = [
                (.POST, application + "/review", ["outcome": "approve", "limit": "10000", "annualRate": "7.20"]),
                (.POST, application + "/reveal", ["field": "phone", "reason": "审计抽查需要"]),
                (.PUT, "/api/v1/staff/branches/SZ", ["online": false, "pilot": false, "reason": "审计测试"]),
                (.POST, "/api/v1/staff/policies", ["name": "credit"]),
                (.PUT, "/api/v1/staff/members/sz-cm1", ["active": false]),
                (.POST, "/api/v1/staff/customers/\(p.applicationID)/nudge", [:]),
                (.POST, application + "/messages", ["text": "你好"]),
            ]
            for (method, path, json) in attempts {
                #expect(try await auditor.call(method, path, json: json).0 == .notFound, "\(method) \(path)")
            }
            #expect(try await AuditEntry.query(on: app.db).count() == before)
            let session = try await ConsolePagesTests.signIn(app, clock, "auditor")
            let page = try await ConsolePagesTests.page(app, .GET, "/console/audit", session: session)
            #expect(page.status == .ok && page.html.contains("personal_data.revealed") && page.html.contains("id=\"verify\""))
            let manager = try await ConsolePagesTests.signIn(app, clock, "sz-head")
            #expect(try await ConsolePagesTests.page(app, .GET, "/console/audit", session: manager).status == .notFound)
        }
    }
}
