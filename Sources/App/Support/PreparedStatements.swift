import Fluent
import FluentPostgresDriver
import Foundation
import PostgresNIO
import SQLKit

/// The hot path's fixed statements as PostgreSQL prepared statements: parsed and planned once per connection, then
/// only bound and executed. Every applicant request authenticates with one, every change saves its application with
/// its audit entry in one, an entry on its own is one, every limited step counts with one, and the SMS codes, the person keys and
/// the advisory locks have theirs; as plain statements PostgreSQL parsed and planned each one again, and the app
/// serialised its text and decoded its row description every time.
///
/// Reached through Fluent: a Fluent PostgreSQL database is also a `PostgresDatabase`, whose `withConnection` gives the
/// transaction's own connection inside a transaction, else one from the pool. On SQLite, or with
/// `YIDAI_PG_PREPARED=off` (for a connection pooler in transaction mode that does not carry prepared statements:
/// PgBouncer before 1.21, or without `max_prepared_statements`), `rows` answers nil and the caller runs the same
/// statement as plain text.
enum PreparedStatements {
    /// `YIDAI_PG_PREPARED`: `on` (the default) or `off`; read once per process (`AppConfig` refuses another value).
    static let enabled = setting(ProcessInfo.processInfo.environment["YIDAI_PG_PREPARED"]) ?? true

    /// The value of `YIDAI_PG_PREPARED`, or nil when it is neither on nor off (unset is on).
    static func setting(_ raw: String?) -> Bool? {
        switch raw?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "on", "1", "true": true
        case "off", "0", "false": false
        default: nil
        }
    }

    /// Runs `statement` on `db`'s PostgreSQL connection and returns its rows; nil when `db` is not PostgreSQL or
    /// prepared statements are off.
    static func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, on db: any SQLDatabase) async throws -> [any SQLRow]?
    where Statement.Row == PostgresRow {
        try await postgresRows(statement, on: db)?.map { $0.sql() }
    }

    /// `rows`, as PostgreSQL's own rows.
    static func postgresRows<Statement: PostgresPreparedStatement>(_ statement: Statement, on db: any SQLDatabase) async throws -> [PostgresRow]?
    where Statement.Row == PostgresRow {
        guard enabled, let postgres = db as? any PostgresDatabase else { return nil }
        let logger = db.logger  // the request's, with its request id
        return try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                var rows: [PostgresRow] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        }.get()
    }
}

extension PreparedStatements {
    /// `sql` with each `$n` bound to `values[n - 1]`: the same statement as plain text, for SQLite or with prepared
    /// statements off.
    static func text(_ sql: String, _ values: [any StatementValue & Sendable]) -> SQLQueryString {
        var query: SQLQueryString = ""
        var literal = ""
        var rest = Substring(sql)
        while let dollar = rest.firstIndex(of: "$") {
            literal += rest[..<dollar]
            let digits = rest[rest.index(after: dollar)...].prefix(while: \.isASCIIDigit)
            guard let number = Int(digits), number >= 1, number <= values.count else {
                literal += "$"
                rest = rest[rest.index(after: dollar)...]
                continue
            }
            query += "\(unsafeRaw: literal)\(bind: values[number - 1])"
            literal = ""
            rest = rest[digits.endIndex...]
        }
        return query + "\(unsafeRaw: literal + rest)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A prepared statement whose rows are read as SQL rows. Its values are one list, bound in order to `$1`, `$2`, …
/// whether it runs prepared or as plain text; `bindingDataTypes` names each one's type (an absent value has none of
/// its own).
protocol PreparedRowStatement: PostgresPreparedStatement where Row == PostgresRow {
    var values: [any StatementValue & Sendable] { get }
}

extension PreparedRowStatement {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }

    func makeBindings() throws -> PostgresBindings {
        let values = values  // most statements make their list when asked
        var bindings = PostgresBindings(capacity: values.count)
        // Only the types `StatementValue` lists bind (an absent one as NULL): another type does not compile.
        for value in values { try value.bind(into: &bindings) }
        return bindings
    }

    /// The statement as plain text, its values bound in place.
    var text: SQLQueryString { PreparedStatements.text(Self.sql, values) }
}

extension PreparedStatements {
    /// Runs `statement` prepared on PostgreSQL, else as plain text; its rows.
    static func all<Statement: PreparedRowStatement>(_ statement: Statement, on db: any SQLDatabase) async throws -> [any SQLRow] {
        if let rows = try await rows(statement, on: db) { return rows }
        return try await db.raw(statement.text).all()
    }

    static func all<Statement: PreparedRowStatement>(_ statement: Statement, on db: any Database) async throws -> [any SQLRow] {
        guard let sql = db as? any SQLDatabase else { throw AuditError("\(Statement.self) needs an SQL database") }
        return try await all(statement, on: sql)
    }
}

/// The one list of Swift types a statement binds, each with the PostgreSQL type it binds as: `makeBindings` binds
/// through it, and the application save's column types come from it, so the two cannot disagree. An optional of one
/// of them binds its value, or NULL when absent.
protocol StatementValue: Encodable {
    static var postgresType: PostgresDataType { get }
    func bind(into bindings: inout PostgresBindings) throws
}

extension StatementValue where Self: PostgresEncodable {
    func bind(into bindings: inout PostgresBindings) throws { try bindings.append(self) }
}

extension String: StatementValue { static var postgresType: PostgresDataType { .text } }
extension Int: StatementValue { static var postgresType: PostgresDataType { .int8 } }
extension Double: StatementValue { static var postgresType: PostgresDataType { .float8 } }
extension Date: StatementValue { static var postgresType: PostgresDataType { .timestamptz } }
extension UUID: StatementValue { static var postgresType: PostgresDataType { .uuid } }
/// An array (of text, ids, flags…) binds as PostgreSQL's array of its elements' type (PostgreSQL's statements only).
extension Array: StatementValue where Element: PostgresArrayEncodable & Encodable {
    static var postgresType: PostgresDataType { Element.psqlArrayType }
}

extension Optional: StatementValue where Wrapped: StatementValue {
    static var postgresType: PostgresDataType { Wrapped.postgresType }
    func bind(into bindings: inout PostgresBindings) throws {
        if let value = self { try value.bind(into: &bindings) } else { bindings.appendNull() }
    }
}

extension PreparedStatements {
    /// The PostgreSQL type a value of `type` binds as; nil when statements do not bind it.
    static func dataType(of type: Any.Type) -> PostgresDataType? {
        (type as? any StatementValue.Type)?.postgresType
    }
}

/// A row's columns read by name as the Swift types the statements bind. On PostgreSQL (`PostgresRandomAccessRow`)
/// each column decodes straight from its cell, specialised for its type; through SQLKit (`SQLRowColumns`: SQLite,
/// or prepared statements off) each goes through `SQLRow.decode`, whose PostgreSQL path tries several dynamic casts
/// and builds a coding path per column (for the application's 58 columns, read on every applicant request, a tenth
/// of a plain signed-in request's CPU).
protocol RowColumns {
    func column<T: PostgresDecodable & Decodable>(_ name: String, as type: T.Type) throws -> T
}

extension PostgresRandomAccessRow: RowColumns {
    func column<T: PostgresDecodable & Decodable>(_ name: String, as type: T.Type) throws -> T {
        guard contains(name) else { throw AuditError("the row has no column \(name)") }
        return try self[name].decode(T.self, context: .default)
    }
}

/// A PostgreSQL row read by column name in the order its statement selected the columns (as the session's read and
/// `LoanApplication.decoded` do): each read first tries the cell after the last one read, one comparison of the name,
/// and looks the name up only when the reads skip a column or go back. The lookup by name hashes the name twice a
/// column (`contains`, then the subscript, which would trap on a name the row lacks).
final class PostgresColumnsInOrder: RowColumns {
    private let row: PostgresRandomAccessRow
    private var next = 0

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func column<T: PostgresDecodable & Decodable>(_ name: String, as type: T.Type) throws -> T {
        if next < row.count {
            let cell = row[next]
            if cell.columnName == name {
                next += 1
                return try cell.decode(T.self, context: .default)
            }
        }
        return try row.column(name, as: T.self)
    }
}

/// A value read by column name from a statement's row (`RowColumns`), whichever way the statement ran.
protocol ColumnsDecodable {
    static func decoded<Row: RowColumns>(_ row: Row) throws -> Self
}

extension PreparedStatements {
    /// `statement`'s rows as `T`: on PostgreSQL each read in the order its statement selected the columns
    /// (`PostgresColumnsInOrder`), elsewhere (SQLite, prepared statements off) through SQLKit's rows.
    static func decoded<Statement: PreparedRowStatement, T: ColumnsDecodable>(
        _ statement: Statement, as type: T.Type, on db: any SQLDatabase
    ) async throws -> [T] {
        if let rows = try await postgresRows(statement, on: db) { return try rows.map { try T.decoded(PostgresColumnsInOrder($0)) } }
        return try await all(statement, on: db).map { try T.decoded(SQLRowColumns(row: $0)) }
    }
}

struct SQLRowColumns: RowColumns {
    let row: any SQLRow

    func column<T: PostgresDecodable & Decodable>(_ name: String, as type: T.Type) throws -> T {
        try row.decode(column: name, as: T.self)
    }
}

