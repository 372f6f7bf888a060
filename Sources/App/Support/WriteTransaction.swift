import Fluent
import FluentPostgresDriver
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import SQLKit

extension Database {
    /// Runs `body` in one write transaction that is safe when requests race, on SQLite and PostgreSQL.
    ///
    /// SQLite: write transactions of this process take turns on an async lock first (no thread waits), and the
    /// transaction's first statement is a write (`write_gate`), so SQLite takes its write lock before anything is
    /// read and another process's writer waits instead of failing halfway with "database is locked". (SQLite's
    /// own busy wait blocks one of the few threads that run every SQLite call; two of them waiting on a writer
    /// that needs a thread to finish would stop the server, which is why this process never relies on it.)
    /// PostgreSQL: rows are locked by the statements themselves (compare-and-set updates, the audit lanes' heads
    /// when a sealer chains entries).
    /// Either way a lock conflict, deadlock or serialization failure reruns the whole transaction from the
    /// start, a few times, so a busy database never answers 500. Inside a transaction already, `body` joins it.
    func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        if inTransaction { return try await body(self) }
        guard isSQLite else { return try await retryingTransaction(body) }
        if SQLiteWriters.holding {
            throw SQLiteWriters.NestedWrite()
        }
        let mutex = SQLiteWriters.mutex(for: self)
        await mutex.lock()
        do {
            let result = try await SQLiteWriters.$holding.withValue(true) { try await retryingTransaction(body) }
            await mutex.unlock()
            return result
        } catch {
            await mutex.unlock()
            throw error
        }
    }

    private func retryingTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        // The unsealed audit entries the transaction writes are watched once it commits (`AuditWatch`). The body runs
        // in a task of the driver's, which inherits none of this task's values: the collector is set inside it, and
        // so are the signed-in person's data keys that the request's first statement read (`PersonVault.requestKeys`),
        // so that what the transaction seals does not read them again.
        let written = AuditWatch.Collector()
        let keys = PersonVault.requestKeys
        let result = try await DatabaseContention.retrying {
            written.reset()
            return try await transaction { tx in
                if let sql = tx as? any SQLDatabase, sql.dialect.name == "sqlite" {
                    try await sql.raw("UPDATE write_gate SET turns = turns + 1 WHERE id = 1").run()
                }
                return try await AuditWatch.Collector.$current.withValue(written) {
                    try await PersonVault.$requestKeys.withValue(keys) { try await body(tx) }
                }
            }
        }
        written.committed()
        return result
    }

    var isSQLite: Bool { (self as? any SQLDatabase)?.dialect.name == "sqlite" }

    /// One writing statement. On PostgreSQL a single statement is atomic on its own, so it runs without BEGIN and
    /// COMMIT around it (two round trips fewer), rerun like a transaction on a transient failure; on SQLite it takes
    /// the writers' turn like every write. Inside a transaction it joins it.
    func writeStatement<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard let sql = self as? any SQLDatabase else { throw AuditError("this write needs an SQL database") }
        if inTransaction { return try await body(sql) }
        if isSQLite {
            return try await writeTransaction { tx in
                guard let sql = tx as? any SQLDatabase else { throw AuditError("this write needs an SQL database") }
                return try await body(sql)
            }
        }
        return try await DatabaseContention.retrying { try await body(sql) }
    }
}

/// The turn-taking of SQLite writers in this process: one async lock per database file.
enum SQLiteWriters {
    @TaskLocal static var holding = false

    struct NestedWrite: Error, CustomStringConvertible {
        var description: String { "a write transaction was opened on a second connection inside another one (use the transaction's database)" }
    }

    private static let registry = NIOLockedValueBox<[String: AsyncMutex]>([:])

    static func mutex(for db: any Database) -> AsyncMutex {
        // The configuration names the file (or the in-memory database's identifier): one lock per database.
        let key = String(reflecting: db.context.configuration)
        return registry.withLockedValue { locks in
            if let existing = locks[key] { return existing }
            let created = AsyncMutex()
            locks[key] = created
            return created
        }
    }
}

/// A first-come, first-served lock for async code: waiting suspends the task, never a thread.
actor AsyncMutex {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }
}

enum DatabaseContention {
    /// Runs `body` again after a transient failure (see `isTransient`), up to ten times, waiting a little longer
    /// each time.
    static func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                guard attempt < 10, isTransient(error) else { throw error }
                try await Task.sleep(nanoseconds: UInt64(5_000_000 * attempt * attempt))
            }
        }
    }

    /// Lock waits that gave up, deadlocks and serialization failures: safe to run the whole transaction again.
    /// (Unique violations are not: they mean the row exists, and each caller handles that itself.)
    static func isTransient(_ error: Error) -> Bool {
        if error is APIError { return false }
        let text = String(reflecting: error).lowercased()
        return text.contains("database is locked") || text.contains("database table is locked") || text.contains("sqlite_busy")
            || text.contains("busy") || text.contains("deadlock") || text.contains("serializ")
            || text.contains("40001") || text.contains("40p01") || text.contains("55p03")
    }
}

extension Database {
    /// Serialises transactions that touch the same thing without a row to lock yet (a phone's codes, a phone's
    /// open application): on PostgreSQL a transaction-scoped advisory lock on the name, on SQLite nothing more
    /// than the write transaction itself, which already runs alone.
    func lock(name: String) async throws {
        guard let sql = self as? any SQLDatabase, sql.dialect.name != "sqlite" else { return }
        _ = try await PreparedStatements.all(AdvisoryLock(name: name), on: sql)
    }
}

/// Waits for the transaction-scoped advisory lock `name` (PostgreSQL only).
struct AdvisoryLock: PreparedRowStatement {
    static let name = "AdvisoryLock"
    static let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
    static let bindingDataTypes: [PostgresDataType] = [.text]
    let name: String
    var values: [any StatementValue & Sendable] { [name] }
}
