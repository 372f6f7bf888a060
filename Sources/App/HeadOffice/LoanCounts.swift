import Fluent
import Foundation
import LendingCore
import SQLKit

/// How many loans each manager's customers have in each status, kept in step with every loan's status in the same
/// transaction (payout adds an active loan, `LoanBook.updateStatus` moves one), so the book's position on the
/// dashboards reads a handful of rows instead of counting every open loan. Single-statement upserts: concurrent
/// moves never lose a count. `manager_code` is '' for loans that came in through no manager.
enum LoanCounts {
    static let schema = "loan_counts"

    static func move(managerCode: String?, from old: LoanStatus?, to new: LoanStatus, on db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        let code = managerCode ?? ""
        if let old {
            try await sql.raw("UPDATE loan_counts SET count = count - 1 WHERE manager_code = \(bind: code) AND status = \(bind: old.rawValue)").run()
        }
        try await sql.raw("""
            INSERT INTO loan_counts (manager_code, status, count) VALUES (\(bind: code), \(bind: new.rawValue), 1)
            ON CONFLICT (manager_code, status) DO UPDATE SET count = loan_counts.count + 1
            """).run()
    }

    /// Rebuilds every count from the loans themselves (the migration that introduced them; a repair if ever needed).
    static func rebuild(on db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.raw("DELETE FROM loan_counts").run()
        try await sql.raw("""
            INSERT INTO loan_counts (manager_code, status, count)
            SELECT COALESCE(manager_code, ''), status, COUNT(*) FROM loans GROUP BY COALESCE(manager_code, ''), status
            """).run()
    }
}
