import Fluent
import FluentPostgresDriver
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import SQLKit
import Vapor

/// Migrations and seeding of a fleet: any number of instances may start together on an empty PostgreSQL, because
/// they take turns on a session advisory lock (one per schema) held on a connection of its own, outside the pool
/// the migrations use. An instance that dies while holding it releases it with its connection. SQLite needs
/// nothing: its writers already take turns.
struct StartupLock: Sendable {
    let configuration: SQLPostgresConfiguration?
    let schema: String

    static let none = StartupLock(configuration: nil, schema: "main")

    /// The lock's name: one per database schema, so tests in their own schemas do not wait for each other.
    var name: String { "yidai:startup:" + schema }

    func run<T: Sendable>(on eventLoop: any EventLoop, logger: Logger, _ body: @Sendable () async throws -> T) async throws -> T {
        guard let configuration else { return try await body() }
        let connection = try await PostgresConnection.connect(
            on: eventLoop, configuration: configuration.coreConfiguration, id: 0, logger: logger
        ).get()
        do {
            let started = Date()
            _ = try await connection.query("SELECT pg_advisory_lock(hashtextextended(\(name), 0))", logger: logger).collect()
            let waited = Date().timeIntervalSince(started)
            if waited > 0.5 { logger.notice("Waited \(Int(waited.rounded())) s for another instance's migrations and seeding") }
            let result = try await body()
            _ = try? await connection.query("SELECT pg_advisory_unlock(hashtextextended(\(name), 0))", logger: logger).collect()
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()  // closing the session releases the lock
            throw error
        }
    }
}

/// Refuses to start an instance whose key ring cannot open what the database already holds, naming the key id:
/// an instance with a data folder of its own would otherwise generate its own development key, seal new data
/// with it and answer 500 for every applicant another instance signed in.
enum KeyRingCheck {
    static let canaryText = "yidai-key-canary"

    struct Refusal: Error, CustomStringConvertible {
        let missing: [String]
        let wrong: [String]
        var description: String {
            var lines: [String] = ["Refusing to start: the key ring (YIDAI_KEYS) cannot decrypt what the database holds."]
            if !missing.isEmpty { lines.append("  - missing key id: \(missing.joined(separator: ", ")) (add it to YIDAI_KEYS)") }
            if !wrong.isEmpty {
                lines.append("  - key id \(wrong.joined(separator: ", ")) is in the ring with other bytes than the key that sealed the data")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Opens one value sealed by every key id the database knows of (the canaries, then the applicants' phones and
    /// the staff's second factors, which may predate the canaries); on success leaves a canary for the active key.
    static func verify(on db: any Database, cipher: FieldCipher, now: Date) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        var samples: [(id: String, sealed: String)] = []
        for row in try await sql.raw("SELECT key_id, sealed FROM key_canaries").all() {
            samples.append((try row.decode(column: "key_id", as: String.self), try row.decode(column: "sealed", as: String.self)))
        }
        // Applicants' phones from before per-person keys, the person keys themselves (sealed by the ring; the table
        // exists once the privacy migration ran), the staff's second factors: read only while there are no canaries
        // yet (the first start after the upgrade that brought them). Every key that has sealed anything since was the
        // active key of an instance that started, and left its canary, so later starts never scan a growing table.
        let tables: [(String, String)] = samples.isEmpty
            ? [(LoanApplication.schema, "phone_sealed"), (PersonKey.schema, "wrapped"), (StaffMember.schema, "totp_secret_sealed")] : []
        for (table, column) in tables {
            let keyID = sql.dialect.name == "sqlite" ? "substr(\(column), 1, instr(\(column), ':') - 1)" : "split_part(\(column), ':', 1)"
            let query = sql.raw("SELECT DISTINCT \(unsafeRaw: keyID) AS key_id FROM \(ident: table) WHERE \(ident: column) IS NOT NULL")
            guard let found = table == PersonKey.schema ? try? await query.all() : try await query.all() else { continue }
            let ids = try found.map { try $0.decode(column: "key_id", as: String.self) }
            // A value under a person key (`pk:`) is checked through its key's wrapping, above.
            for id in ids where id != PersonVault.prefix && !samples.contains(where: { $0.id == id }) {
                let prefix = id + ":"  // compared as text, not LIKE: a key id may hold `_` or `%`
                let rows = try await sql.raw(
                    "SELECT \(ident: column) AS sealed FROM \(ident: table) WHERE substr(\(ident: column), 1, \(bind: Int32(prefix.count))) = \(bind: prefix) LIMIT 1"
                ).all()
                if let row = rows.first { samples.append((id, try row.decode(column: "sealed", as: String.self))) }
            }
        }
        var missing: [String] = []
        var wrong: [String] = []
        for sample in samples {
            do {
                _ = try cipher.open(sample.sealed)
            } catch FieldCipher.CipherError.unknownKey(let id) {
                if !missing.contains(id) { missing.append(id) }
            } catch {
                if !wrong.contains(sample.id) { wrong.append(sample.id) }
            }
        }
        guard missing.isEmpty, wrong.isEmpty else { throw Refusal(missing: missing.sorted(), wrong: wrong.sorted()) }
        let canary = try cipher.seal(canaryText)
        let statement: SQLQueryString = """
            INSERT INTO key_canaries (key_id, sealed, created_at) VALUES (\(bind: cipher.activeKeyID), \(bind: canary), \(bind: Int(now.timeIntervalSince1970)))
            ON CONFLICT (key_id) DO NOTHING
            """
        if db.isSQLite {
            try await db.writeTransaction { tx in try await (tx as! any SQLDatabase).raw(statement).run() }
        } else {
            try await sql.raw(statement).run()
        }
    }
}

/// Whether this instance should get traffic: not while its migrations and seeding run (`GET /health/ready`).
final class Readiness: Sendable {
    private let starting = NIOLockedValueBox(false)

    var isStarting: Bool { starting.withLockedValue { $0 } }
    func setStarting(_ value: Bool) { starting.withLockedValue { $0 = value } }
}

extension Application {
    private struct ReadinessKey: StorageKey { typealias Value = Readiness }
    private struct StartupLockKey: StorageKey { typealias Value = StartupLock }

    var readiness: Readiness {
        if let existing = storage[ReadinessKey.self] { return existing }
        let created = Readiness()
        storage[ReadinessKey.self] = created
        return created
    }

    var startupLock: StartupLock {
        get { storage[StartupLockKey.self] ?? .none }
        set { storage[StartupLockKey.self] = newValue }
    }
}
