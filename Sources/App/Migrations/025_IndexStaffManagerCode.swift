import Fluent
import SQLKit

/// An index on `staff.manager_code`. A customer manager's code is looked up on the applicant's hot path: a sign-in
/// through a manager's QR code checks the code, and every move of the journey funnel writes the manager's branch
/// (`JourneyFunnel.changeParts`, `SELECT branch_code FROM staff WHERE manager_code = …`). Without the index each of
/// those read the whole staff table; a bank has thousands of managers (issue 16's journey benchmark showed eight such
/// scans a journey on the demo's 15 rows).
struct IndexStaffManagerCode: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.createPlainIndex("staff_manager_code", on: StaffMember.schema, columns: ["manager_code"])
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "staff_manager_code").run()
    }
}
