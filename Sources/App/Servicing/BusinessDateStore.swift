import Fluent
import Foundation
import LendingCore
import PostgresNIO
import SQLKit

/// The bank's business date, separate from the wall clock: only end of day moves it.
struct BusinessDateStore {
    static let name = "bank"
    let db: Database
    let clock: AppClock

    /// The current business date; the first read starts it at today's civil date in China.
    func current() async throws -> CivilDate {
        // One statement (prepared on PostgreSQL): loan requests, contracts and payments read it on every request.
        if let sql = db as? any SQLDatabase, let row = try await PreparedStatements.all(Read(name: Self.name), on: sql).first {
            return try StoredValues.date(try row.decode(column: "date", as: String.self), "business date")
        }
        let today = BusinessCalendar.civilDate(clock.now())
        let row = BusinessDateRecord()
        row.name = Self.name
        row.date = today.iso
        do { try await db.writeTransaction { tx in try await row.create(on: tx) } } catch {
            guard let existing = try await BusinessDateRecord.query(on: db).filter(\.$name == Self.name).first() else {
                throw error
            }
            return try StoredValues.date(existing.date, "business date")
        }
        return today
    }

    func set(_ date: CivilDate) async throws {
        _ = try await current()
        let now = clock.now()
        try await db.writeTransaction { tx in
            try await BusinessDateRecord.query(on: tx).filter(\.$name == Self.name)
                .set(\.$date, to: date.iso).set(\.$lastEODAt, to: now).update()
        }
    }

    struct Read: PreparedRowStatement {
        static let name = "BusinessDateStore.Read"
        static let sql = "SELECT date FROM business_date WHERE name = $1"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let name: String
        var values: [any StatementValue & Sendable] { [name] }
    }
}
