import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

@testable import App

@Suite("Looking up a customer manager at a bank's scale")
struct StaffLookupTests {
    @Test("with thousands of managers, finding one by their code uses an index, not a read of the whole staff table")
    func managerCodeLookupUsesAnIndex() async throws {
        try await withYidai { app, _, _ in
            // setup: 3,000 managers, as a bank's branches would have
            let managers = (0..<3_000).map { n in
                let member = StaffMember()
                member.login = "scale-cm-\(n)"
                member.displayName = "客户经理\(n)"
                member.role = "customer_manager"
                member.branchCode = "SZ-FT"
                member.managerCode = String(format: "SC-%05d", n)
                member.passwordHash = "x"
                member.active = true
                return member
            }
            for batch in stride(from: 0, to: managers.count, by: 500) {
                try await managers[batch..<min(batch + 500, managers.count)].create(on: app.db)
            }
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw("ANALYZE").run()
            // MUT: the funnel's and the sign-in's lookup, as the database plans it
            let lookup = "SELECT branch_code FROM staff WHERE manager_code = 'SC-01234'"
            let plan: String
            if app.db.isSQLite {
                plan = try await sql.raw(SQLQueryString("EXPLAIN QUERY PLAN " + lookup)).all()
                    .map { try $0.decode(column: "detail", as: String.self) }.joined(separator: "\n")
            } else {
                plan = try await sql.raw(SQLQueryString("EXPLAIN " + lookup)).all()
                    .map { try $0.decode(column: "QUERY PLAN", as: String.self) }.joined(separator: "\n")
            }
            // validation
            #expect(plan.contains("staff_manager_code"), "\(plan)")
            #expect(!plan.contains("Seq Scan") && !plan.contains("SCAN staff"), "\(plan)")
            let found = try await StaffMember.query(on: app.db).filter(\.$managerCode == "SC-01234").all()
            #expect(found.map(\.login) == ["scale-cm-1234"])
        }
    }
}
