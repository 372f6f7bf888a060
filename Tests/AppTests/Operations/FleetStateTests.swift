import Fluent
import Foundation
import Logging
import Testing
import Vapor

@testable import App

@Suite("State every instance shares")
struct FleetStateTests {
    @Test("a policy published on one instance decides the next application on another at once")
    func policyPublishedElsewhere() async throws {
        // setup: two instances on one database file, and a second policy folder (the shipped one under another name)
        let file = NSTemporaryDirectory() + "yidai-fleet-\(UUID().uuidString).sqlite"
        let folder = NSTemporaryDirectory() + "yidai-policy-\(UUID().uuidString)/credit-fleet"
        try FileManager.default.createDirectory(atPath: (folder as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Policies/credit", toPath: folder)
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent)
        }
        try await withYidai(sqliteFile: file) { first, clock, providers in
            try await withYidai(sqliteFile: file) { second, _, _ in
                // the first instance has decided with the shipped policy before (its compiled graph is cached)
                var before = Applicant("P01", app: first, clock: clock, providers: providers)
                _ = try await before.walkToDecision()
                // MUT
                let published = try await second.yidai.policies.publish(folderPath: folder, by: "risk", on: second.db, now: clock.now)
                var after = Applicant("P02", app: first, clock: clock, providers: providers)
                _ = try await after.walkToDecision()
                // validation
                let decisions = try await DecisionRecord.query(on: first.db).sort(\.$decidedAt).all().map(\.policyVersion)
                #expect(decisions.count == 2)
                #expect(decisions.first != PolicyStore.label(published))
                #expect(decisions.last == PolicyStore.label(published))
            }
        }
    }
}

@Suite("Logs and the database pool")
struct LoggingAndPoolTests {
    @Test("LOG_FORMAT=json writes one JSON object per line, with the request id and the metadata as fields, and masks stray phone and ID numbers")
    func jsonLines() throws {
        // MUT
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_785_000_000), level: .warning, label: "yidai", message: "payout \"late\"\nagain",
            metadata: ["request-id": "abc-123", "attempt": .stringConvertible(3)])
        // validation
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "payout \"late\"\nagain")
        #expect(object["level"] as? String == "warning")
        #expect(object["request-id"] as? String == "abc-123")
        #expect(object["attempt"] as? String == "3")
        #expect((object["time"] as? String)?.hasPrefix("2026-07-25T") == true)
        // A phone or ID number that the code forgot to mask is masked on its way out.
        let leaky = JSONLogHandler.line(
            time: Date(), level: .info, label: "yidai", message: "sent to 13800000001", metadata: ["id": "110105199001010021"])
        #expect(!leaky.contains("13800000001") && leaky.contains("138****0001"))
        #expect(!leaky.contains("110105199001010021"))
    }

    @Test("every answer carries a request id: the caller's own if it sent a sane one, a new one otherwise")
    func requestID() async throws {
        try await withYidai { app, _, _ in
            var (_, _, headers) = try await TestHTTP.call(app, .GET, "/health", json: nil, headers: ["X-Request-Id": "trace-42"])
            #expect(headers.first(name: "X-Request-Id") == "trace-42")
            (_, _, headers) = try await TestHTTP.call(app, .GET, "/health", json: nil, headers: ["X-Request-Id": "bad id\u{7}"])
            #expect(UUID(uuidString: headers.first(name: "X-Request-Id") ?? "") != nil)
        }
    }

    @Test("YIDAI_DB_POOL is connections in all (spread over the event loops) or per loop; nonsense refuses to start")
    func pool() throws {
        #expect(try DatabasePool.parse(nil) == .total(8))
        #expect(try DatabasePool.parse("20").perLoop(eventLoops: 8) == 3)
        #expect(try DatabasePool.parse("2").perLoop(eventLoops: 8) == 1)
        #expect(try DatabasePool.parse("4/loop").perLoop(eventLoops: 8) == 4)
        #expect(throws: ConfigurationError.self) { try DatabasePool.parse("0") }
        #expect(throws: ConfigurationError.self) { try DatabasePool.parse("many") }
    }
}
