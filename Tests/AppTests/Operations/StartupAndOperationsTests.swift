import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("Starting a fleet safely")
struct StartupSafetyTests {
    @Test("an instance whose key ring lacks the key the data was sealed with refuses to start, naming the key id")
    func missingKey() async throws {
        try await withYidai { app, clock, providers in
            // setup: an applicant's phone sealed under the ring's key `test`
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await KeyRingCheck.verify(on: app.db, cipher: app.yidai.cipher, now: clock.now)
            let other = FieldCipher(keys: ["prod2": Data(repeating: 9, count: 32)], activeKeyID: "prod2", indexSeed: Data(repeating: 9, count: 32))
            // MUT
            let refusal = await #expect(throws: KeyRingCheck.Refusal.self) {
                try await KeyRingCheck.verify(on: app.db, cipher: other, now: clock.now)
            }
            // validation
            #expect(refusal?.missing == ["test"])
            #expect(refusal?.description.contains("missing key id: test") == true)
        }
    }

    @Test("a key ring with the right id but other bytes (another instance's own development key) is refused too")
    func wrongBytes() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let impostor = FieldCipher(keys: ["test": Data(repeating: 1, count: 32)], activeKeyID: "test", indexSeed: Data(repeating: 1, count: 32))
            let refusal = await #expect(throws: KeyRingCheck.Refusal.self) {
                try await KeyRingCheck.verify(on: app.db, cipher: impostor, now: clock.now)
            }
            #expect(refusal?.wrong == ["test"])
        }
    }

    @Test("a rotated ring that still holds the old key starts, and leaves a canary for its new key")
    func rotatedRingStarts() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let rotated = FieldCipher(
                keys: ["test": Data(repeating: 7, count: 32), "k2": Data(repeating: 8, count: 32)], activeKeyID: "k2", indexSeed: Data(repeating: 7, count: 32))
            try await KeyRingCheck.verify(on: app.db, cipher: rotated, now: clock.now)
            let ids = try await (app.db as! any SQLDatabase).raw("SELECT key_id FROM key_canaries").all().map { try $0.decode(column: "key_id", as: String.self) }
            #expect(Set(ids) == ["k2"])
            // Now the old ring alone lacks k2.
            let refusal = await #expect(throws: KeyRingCheck.Refusal.self) {
                try await KeyRingCheck.verify(on: app.db, cipher: app.yidai.cipher, now: clock.now)
            }
            #expect(refusal?.missing == ["k2"])
        }
    }

    @Test("two instances migrating and seeding one empty database at the same moment both start (PostgreSQL advisory lock)")
    func twoInstancesStartTogether() async throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], url.hasPrefix("postgres") else { return }  // SQLite: writers take turns already
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try await Application.make(.testing)
        admin.databases.use(.postgres(configuration: try .init(url: url)), as: .psql)
        try await (admin.db as! any SQLDatabase).raw("CREATE SCHEMA \(unsafeRaw: schema)").run()
        var apps: [Application] = []
        do {
            for _ in 0..<2 {
                let app = try await Application.make(.testing)
                try await configure(app, providers: nil, clock: nil, databaseSchema: schema, policyDirectory: repositoryRoot + "/Policies/credit")
                apps.append(app)
            }
            let started = try await withThrowingTaskGroup(of: Int.self) { group in
                for app in apps {
                    group.addTask {
                        try await app.startupLock.run(on: app.eventLoopGroup.any(), logger: app.logger) {
                            try await app.autoMigrate()
                            try await KeyRingCheck.verify(on: app.db, cipher: app.yidai.cipher, now: Date())
                            try await DemoData.seed(on: app.db, logger: app.logger, clock: app.yidai.clock)
                            try await DemoData.publishShippedPolicy(app)
                        }
                        return 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(started == 2)
            let migrations = try await (apps[0].db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM _fluent_migrations").first()?.decode(column: "n", as: Int.self)
            #expect(migrations == 26)  // every migration (configure.swift lists 26) once, however many instances ran them
        } catch {
            Issue.record("\(String(reflecting: error))")
        }
        for app in apps { try? await app.asyncShutdown() }
        try? await (admin.db as! any SQLDatabase).raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run()
        try await admin.asyncShutdown()
    }
}

@Suite("Readiness and metrics")
struct OperationsEndpointTests {
    @Test("/health/ready answers 200 once started, and 503 while migrations and seeding run")
    func readiness() async throws {
        try await withYidai { app, _, _ in
            var (status, body, _) = try await TestHTTP.call(app, .GET, "/health/ready", json: nil, headers: [:])
            #expect(status == .ok)
            #expect(body["status"] as? String == "ready")
            app.readiness.setStarting(true)
            (status, body, _) = try await TestHTTP.call(app, .GET, "/health/ready", json: nil, headers: [:])
            #expect(status == .serviceUnavailable)
            #expect(body["migrations"] as? String == "running")
            app.readiness.setStarting(false)
        }
    }

    @Test("/metrics is a 404 for anyone but a loopback peer without forwarding headers or the holder of the token")
    func metricsAccess() async throws {
        try await withYidai { app, _, _ in
            // No token configured: a peer that is not loopback (or unknown) gets the ordinary 404.
            var (status, body) = try await Self.raw(app, "/metrics")
            let unknown = try await Self.raw(app, "/no-such-page")
            #expect(status == .notFound)
            #expect(body == unknown.1)  // the same page as any path that does not exist
            #expect(MetricsController.mayRead(try request(app, from: "127.0.0.1")))
            #expect(MetricsController.mayRead(try request(app, from: "::1")))
            #expect(!MetricsController.mayRead(try request(app, from: "10.0.0.7")))
            #expect(!MetricsController.mayRead(try request(app, from: "127.0.0.1", headers: ["X-Forwarded-For": "203.0.113.5"])))
            #expect(!MetricsController.mayRead(try request(app, from: "127.0.0.1", headers: ["Forwarded": "for=203.0.113.5"])))
            #expect(!MetricsController.mayRead(try request(app, from: "10.0.0.7", headers: ["Authorization": "Bearer guess"])))
            // With YIDAI_METRICS_TOKEN the token opens it from anywhere, and only the exact token.
            reconfigure(app) { $0.metricsToken = "s3cret-token" }
            (status, body) = try await Self.raw(app, "/metrics", headers: ["Authorization": "Bearer s3cret-token"])
            #expect(status == .ok)
            #expect(body.contains("yidai_http_requests_total"))
            (status, _) = try await Self.raw(app, "/metrics", headers: ["Authorization": "Bearer s3cret-tokeN"])
            #expect(status == .notFound)
        }
    }

    static func raw(_ app: Application, _ path: String, headers: HTTPHeaders = [:]) async throws -> (HTTPStatus, String) {
        var result: (HTTPStatus, String) = (.ok, "")
        try await app.testing().test(.GET, path, headers: headers) { res async in result = (res.status, res.body.string) }
        return result
    }

    @Test("every request is counted under its route and status, the same route's answers adding up however many arrive at once")
    func requestCountsAddUpByRouteAndStatus() async throws {
        try await withYidai { app, _, _ in
            // MUT: twelve codes asked for at once (twelve phones), and two with a phone that is not one
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<12 {
                    group.addTask { _ = try await TestHTTP.call(app, .POST, "/api/v1/sms-codes", json: ["phone": "139000001\(String(format: "%02d", n))"], headers: [:]) }
                }
                for _ in 0..<2 { group.addTask { _ = try await TestHTTP.call(app, .POST, "/api/v1/sms-codes", json: ["phone": "12345"], headers: [:]) } }
                try await group.waitForAll()
            }
            let (_, text, _) = try await live(app, port: freePort(), .GET, "/metrics")
            // validation
            #expect(text.contains(#"yidai_http_requests_total{method="POST",route="/api/v1/sms-codes",status="202"} 12"#))
            #expect(text.contains(#"yidai_http_requests_total{method="POST",route="/api/v1/sms-codes",status="422"} 2"#))
            #expect(text.contains(#"yidai_http_request_duration_seconds_count{method="POST",route="/api/v1/sms-codes"} 14"#))
            // a path no route matches is one label, whatever the path
            _ = try await live(app, port: freePort(), .GET, "/no-such-page-1")
            _ = try await live(app, port: freePort(), .GET, "/no-such-page-2")
            let (_, after, _) = try await live(app, port: freePort(), .GET, "/metrics")
            #expect(after.contains(#"yidai_http_requests_total{method="GET",route="unmatched",status="404"} 2"#))
            #expect(!after.contains("no-such-page"))
        }
    }

    @Test("a scraper on the same machine reads requests by route and status, latency buckets, journey steps, decisions, outside-service calls, the job queue and the audit entries waiting to be sealed")
    func metricsContent() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let (status, text, headers) = try await live(app, port: freePort(), .GET, "/metrics")
            #expect(status == .ok)
            #expect(headers.first(name: .contentType)?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(text.contains(#"yidai_http_requests_total{method="POST",route="/api/v1/sessions",status="201"} 1"#))
            #expect(text.contains(#"yidai_http_request_duration_seconds_bucket{method="POST",route="/api/v1/sessions",le="+Inf"} 1"#))
            #expect(text.contains(#"yidai_decisions_total{outcome="approved"} 1"#))
            #expect(text.contains(#"yidai_jobs_queue_depth{kind="notification"}"#))
            #expect(text.contains(#"yidai_jobs_queue_oldest_age{kind="disbursement"} 0"#))
            #expect(text.contains("yidai_database_up 1"))
            // The audit entries still to be sealed (on PostgreSQL every entry of the walk: no sealer runs in tests).
            let unsealed = try await AuditEntry.query(on: app.db).filter(\.$lane == 0).count()
            #expect(app.db.isSQLite ? unsealed == 0 : unsealed > 10)
            let line = text.split(separator: "\n").first { $0.hasPrefix("yidai_audit_unsealed_entries ") } ?? ""
            let reported: Double? = line.split(separator: " ").last.flatMap { Double(String($0)) }
            #expect(reported == Double(unsealed), "\(line)")
            #expect(text.contains("yidai_audit_unsealed_oldest_age "))
            if app.yidai.config.database != .sqliteInMemory {  // PostgreSQL: this instance's pool, as pg_stat_activity sees it
                let max = DatabasePool.default.perLoop(eventLoops: System.coreCount) * System.coreCount
                #expect(text.contains("yidai_database_connections_max \(max)"))
                #expect(text.contains("yidai_database_connections_busy 1"))  // the scrape's own
                #expect(text.contains("yidai_database_connections_open "))
            }
            // Every step to the decision entered and completed once (on PostgreSQL most moves are written, and
            // counted, by the application's save itself).
            for step in ["phone", "id_card", "face", "bank_card", "authorization", "about_you"] {
                #expect(text.contains(#"yidai_journey_steps_total{step="\#(step)",event="entered"} 1"# + "\n"), "\(step) entered")
                #expect(text.contains(#"yidai_journey_steps_total{step="\#(step)",event="completed"} 1"# + "\n"), "\(step) completed")
            }
            #expect(text.contains(#"yidai_journey_steps_total{step="decision",event="entered"} 1"# + "\n"))
            for provider in ["sms", "ocr", "registry", "face", "carrier", "unionpay", "bureau"] {
                #expect(text.contains(#"yidai_provider_calls_total{provider="\#(provider)",outcome="ok"}"#), "no calls to \(provider)")
                #expect(text.contains(#"yidai_provider_call_duration_seconds_count{provider="\#(provider)"}"#))
            }
            // A path that is no route is one label, whatever was asked.
            _ = try await TestHTTP.call(app, .GET, "/no-such-\(UUID().uuidString)", json: nil, headers: [:])
            let (_, again, _) = try await live(app, port: freePort(), .GET, "/metrics")
            #expect(again.contains(#"route="unmatched",status="404""#))
            #expect(!again.contains("no-such-"))
        }
    }
}

@Suite("Readiness when the database is gone")
struct ReadinessWithoutDatabaseTests {
    @Test("/health/ready answers 503 when the database does not answer")
    func unreachable() async throws {
        // setup: an instance whose PostgreSQL is not there (nothing listens on port 1)
        let app = try await Application.make(.testing)
        do {
            try await configure(
                app, providers: nil, clock: nil, database: .postgres(url: "postgres://yidai@127.0.0.1:1/yidai?sslmode=disable"),
                policyDirectory: repositoryRoot + "/Policies/credit")
            // MUT
            let (status, body, _) = try await TestHTTP.call(app, .GET, "/health/ready", json: nil, headers: [:])
            // validation
            #expect(status == .serviceUnavailable)
            #expect(body["database"] as? String == "unreachable")
        } catch {
            Issue.record("\(String(reflecting: error))")
        }
        try await app.asyncShutdown()
    }
}
