import Fluent
import SQLKit
import FluentPostgresDriver
import Foundation
import LendingCore
import NIOConcurrencyHelpers
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// A controllable clock for tests: starts at a fixed instant and moves only when told.
final class TestClock: Sendable {
    private let current = NIOLockedValueBox(Date(timeIntervalSince1970: 1_785_000_000))  // 2026-07-25 in Shanghai
    var now: Date { current.withLockedValue { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
    var appClock: AppClock { AppClock(now: { [self] in self.now }) }
}

/// The repository root, found from this file (tests read the shipped policy from Policies/credit).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
}()

/// The real OCR engine as the sandbox uses it, with one queue for every test (a read per processor at a time), but
/// patient: when the whole suite runs, many tests read cards at once on a busy machine, and a read that waited or ran
/// past the product's limits (15 s in the queue, 20 s to read) would answer "busy" or "timed out" instead of what
/// the test checks. The product's limits have their own tests (`TesseractOCRTests`).
let patientOCR = TesseractIDCardOCR(timeLimit: 180, maxPending: 256, maxWait: 600)

/// Runs `body` against a fresh Yidai: migrated, seeded, the shipped policy published, sandbox providers.
/// With `DATABASE_URL=postgres://…` each test gets its own PostgreSQL schema; otherwise an in-memory SQLite.
func withYidai(sqliteFile: String? = nil, _ body: (Application, TestClock, ProviderSet) async throws -> Void) async throws {
    let clock = TestClock()
    var providers = ProviderSet.sandbox(clock: { clock.now })
    providers.ocr = patientOCR
    let app = try await Application.make(.testing)
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    let postgresURL = sqliteFile == nil ? ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.hasPrefix("postgres") ? $0 : nil } : nil
    do {
        if let postgresURL {
            try await createSchema(schema, url: postgresURL)
        }
        try await configure(app, providers: providers, clock: clock.appClock, databaseSchema: postgresURL == nil ? nil : schema,
                            database: sqliteFile.map { .sqlite(path: $0) },
                            policyDirectory: repositoryRoot + "/Policies/credit")
        try await app.autoMigrate()
        try await DemoData.seed(on: app.db, logger: app.logger, clock: clock.appClock)
        try await DemoData.enrolDemoSecondFactor(on: app.db, cipher: app.yidai.cipher, clock: clock.appClock)
        try await DemoData.publishShippedPolicy(app)
        try await body(app, clock, providers)
    } catch {
        try? await app.asyncShutdown()
        if let postgresURL { try? await dropSchema(schema, url: postgresURL) }
        throw error
    }
    try await app.asyncShutdown()
    if let postgresURL { try await dropSchema(schema, url: postgresURL) }
}

private func adminSQL(_ sql: String, url: String) async throws {
    let admin = try await Application.make(.testing)
    admin.databases.use(.postgres(configuration: try .init(url: url)), as: .psql)
    do {
        try await (admin.db as! any SQLDatabase).raw(SQLQueryString(stringLiteral: sql)).run()
    } catch {
        try? await admin.asyncShutdown()
        throw error
    }
    try await admin.asyncShutdown()
}

private func createSchema(_ name: String, url: String) async throws { try await adminSQL("CREATE SCHEMA \(name)", url: url) }
private func dropSchema(_ name: String, url: String) async throws { try await adminSQL("DROP SCHEMA \(name) CASCADE", url: url) }

/// A loopback port nothing listens on now, for tests that run a real server: the kernel picks it (a random one could
/// be a port in use, or one of the ephemeral range that outgoing connections take).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : Int.random(in: 20_000...30_000)
}
