import Fluent
import Foundation
import PostgresNIO
import SQLKit
import Vapor

/// `yidai db-roundtrips`: what one statement's round trip to the database costs this process, in CPU and in time, for
/// the journey benchmark's database ceiling (`bench/journeys/run.sh` prints it beside wrk's HTTP ceiling): a plain
/// statement, a prepared one (PostgreSQL), and an empty transaction (BEGIN and COMMIT). Trivial statements, one at a
/// time, so the figures are the client's fixed cost per round trip (driver, pool, event loop, kernel), which every
/// statement of a journey pays before its own work. Prints one `RESULT {json}` line.
struct DatabaseRoundTripsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "count", help: "Round trips per measurement (default 3000)")
        var count: Int?
    }

    var help: String { "Measures this process's CPU and time per database round trip (plain, prepared, BEGIN+COMMIT)." }

    /// `SELECT $1`: as small as a statement gets.
    struct Echo: PreparedRowStatement {
        static let name = "DatabaseRoundTrips.Echo"
        static let sql = "SELECT $1 AS echo"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let value: String
        var values: [any StatementValue & Sendable] { [value] }
    }

    struct Measured {
        let name: String
        let cpuMicroseconds, wallMicroseconds: Double
    }

    /// This process's CPU time (every thread), in microseconds.
    static func processCPU() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
    }

    static func measure(_ name: String, count: Int, _ body: () async throws -> Void) async throws -> Measured {
        for _ in 0..<max(50, count / 10) { try await body() }  // warm: connections open, statements prepared
        let (cpu, start) = (processCPU(), Date())
        for _ in 0..<count { try await body() }
        return Measured(
            name: name, cpuMicroseconds: (processCPU() - cpu) / Double(count),
            wallMicroseconds: Date().timeIntervalSince(start) * 1e6 / Double(count))
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let count = signature.count ?? 3000
        guard count > 0 else { throw ConfigurationError("--count must be at least 1 (got \(count))") }
        let db = context.application.db
        guard let sql = db as? any SQLDatabase else { throw ConfigurationError("db-roundtrips needs an SQL database") }
        var results = [try await Self.measure("plain statement", count: count) { _ = try await sql.raw("SELECT \(bind: "x") AS echo").all() }]
        if !db.isSQLite {
            results.append(try await Self.measure("prepared statement", count: count) { _ = try await PreparedStatements.all(Echo(value: "x"), on: sql) })
        }
        results.append(try await Self.measure("empty transaction (BEGIN, COMMIT)", count: count) { try await db.transaction { _ in } })
        if !db.isSQLite {
            // The statements of a change run inside its transaction, on the transaction's connection.
            let measured = try await db.transaction { tx in
                try await Self.measure("prepared statement in a transaction", count: count) { _ = try await PreparedStatements.all(Echo(value: "x"), on: tx) }
            }
            results.append(measured)
        }
        for result in results {
            context.console.print(
                String(format: "%@: %.1f µs of this process's CPU, %.1f µs of time, per round trip", result.name, result.cpuMicroseconds, result.wallMicroseconds))
        }
        let line: [String: Any] = [
            "kind": "db-roundtrips", "database": db.isSQLite ? "sqlite" : "postgresql", "count": count,
            "results": results.map { ["name": $0.name, "cpu_us": ($0.cpuMicroseconds * 10).rounded() / 10, "wall_us": ($0.wallMicroseconds * 10).rounded() / 10] },
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self)
        context.console.print("RESULT " + text)
    }
}
