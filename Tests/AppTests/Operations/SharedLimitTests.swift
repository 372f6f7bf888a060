import Foundation
import Testing
import Vapor

@testable import App

@Suite("Limits that protect people are counted in the database")
struct SharedLimitTests {
    static let rule = RateLimiter.Rule(limit: 7, window: 600)

    @Test("however many attempts arrive at once, never more than the limit get through")
    func simultaneousAttempts() async throws {
        try await withYidai { app, clock, _ in
            // setup
            let limiter = app.yidai.limiter
            let (db, now) = (app.db, clock.now)
            // MUT: 40 at once, as if from several instances (each call is its own statement on the shared database)
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 { group.addTask { try await limiter.attempt("race", rule: Self.rule, now: now, on: db) == nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            // validation
            #expect(allowed == Self.rule.limit)
        }
    }

    @Test("40 sign-in attempts from one address at the same moment: exactly 20 are heard, the other 20 get 429")
    func simultaneousSignIns() async throws {
        try await withYidai { app, _, _ in
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        let body: [String: Any] = ["phone": "1390000\(String(format: "%04d", i))", "code": "123456"]
                        return try await TestHTTP.call(app, .POST, "/api/v1/sessions", json: body, headers: [:]).0
                    }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 20)
            #expect(statuses.filter { $0 == .unprocessableEntity }.count == 20)  // heard: no code was requested for that phone
        }
    }

    @Test("a refused attempt says how long to wait, and once the window has slid past, attempts are allowed again")
    func waitAndSlide() async throws {
        try await withYidai { app, clock, _ in
            let limiter = app.yidai.limiter
            for _ in 0..<7 {
                let wait = try await limiter.attempt("slide", rule: Self.rule, now: clock.now, on: app.db)
                #expect(wait == nil)
            }
            let wait = try #require(try await limiter.attempt("slide", rule: Self.rule, now: clock.now, on: app.db))
            #expect(wait >= 1 && wait <= 1200)  // to the end of this window and part of the next
            // Another key has its own count.
            #expect(try await limiter.attempt("other", rule: Self.rule, now: clock.now, on: app.db) == nil)
            clock.advance(Double(wait))
            #expect(try await limiter.attempt("slide", rule: Self.rule, now: clock.now, on: app.db) == nil)
            clock.advance(1200)
            for _ in 0..<7 {
                let wait = try await limiter.attempt("slide", rule: Self.rule, now: clock.now, on: app.db)
                #expect(wait == nil)
            }
        }
    }

    @Test("across a window boundary the previous window still counts, so a burst cannot double the limit")
    func boundary() async throws {
        try await withYidai { app, clock, _ in
            let limiter = app.yidai.limiter
            // Move to 10 s before a window ends, use the whole limit, then step into the next window.
            let seconds = clock.now.timeIntervalSince1970
            clock.advance(600 - seconds.truncatingRemainder(dividingBy: 600) - 10)
            for _ in 0..<7 {
                let wait = try await limiter.attempt("edge", rule: Self.rule, now: clock.now, on: app.db)
                #expect(wait == nil)
            }
            clock.advance(20)
            let refused = try await limiter.attempt("edge", rule: Self.rule, now: clock.now, on: app.db)
            #expect(refused != nil)
        }
    }

    @Test("a restarted server still remembers the sign-in attempts counted before it stopped")
    func restartRemembers() async throws {
        let file = NSTemporaryDirectory() + "yidai-limits-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
        let signIn = #"{"phone": "13900000003", "code": "123456"}"#
        try await withYidai(sqliteFile: file) { app, _, _ in
            for _ in 0..<20 {
                let (status, _, _) = try await TestHTTP.call(app, .POST, "/api/v1/sessions", json: Self.object(signIn), headers: [:])
                #expect(status != .tooManyRequests)
            }
        }
        try await withYidai(sqliteFile: file) { app, _, _ in
            let (status, body, headers) = try await TestHTTP.call(app, .POST, "/api/v1/sessions", json: Self.object(signIn), headers: [:])
            #expect(status == .tooManyRequests)
            #expect((body["error"] as? [String: Any])?["code"] as? String == "rate_limited")
            #expect(headers.first(name: "Retry-After") != nil)
        }
    }

    static func object(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
    }
}
