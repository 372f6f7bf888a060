import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("Shadow replay at scale")
struct ShadowReplayScaleTests {
    /// 10,000 stored decisions (copies of five real ones, under new application ids): the replay finishes, counts
    /// every decision, and reports its time (the goal of under 5 s is measured on a release build: BENCHMARKS.md).
    @Test("a shadow replay of 10,000 stored decisions finishes and counts every one")
    func tenThousand() async throws {
        try await withYidai { app, clock, providers in
            _ = try await PolicyOperationsTests.decide(["P01", "P08", "P09", "P10", "P11"], app, clock, providers)
            let records = try await DecisionRecord.query(on: app.db).all()
            let application = try #require(try await LoanApplication.query(on: app.db).first())
            try await app.db.writeTransaction { tx in
                for i in 0..<9_995 {
                    let source = records[i % records.count]
                    let copy = DecisionRecord()
                    copy.applicationID = application.id!
                    copy.policyVersion = source.policyVersion
                    copy.policySHA256 = source.policySHA256
                    copy.inputJSON = source.inputJSON
                    copy.outputJSON = source.outputJSON
                    copy.traceJSON = "{}"
                    copy.decidedAt = source.decidedAt.addingTimeInterval(Double(-i))
                    try await copy.create(on: tx)
                }
            }
            let risk1 = try await staff("risk1", app: app, clock: clock)
            let (_, upload, _) = try await risk1.call(.POST, "/api/v1/staff/policies", json: ["files": try PolicyOperationsTests.olderCandidate()])
            let versionID = try #require((upload["version"] as? [String: Any])?["id"] as? String)
            let (started, body, _) = try await risk1.call(.POST, "/api/v1/staff/policies/\(versionID)/shadow-replays", json: ["last": 10_000])
            #expect(started == .accepted)
            var done: [String: Any] = [:]
            for _ in 0..<1200 {
                let (_, answer, _) = try await risk1.call(.GET, "/api/v1/staff/shadow-replays/\(body["id"] as? String ?? "")")
                done = answer
                if answer["state"] as? String != "running" { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            #expect(done["state"] as? String == "done", "\(done)")
            let result = done["result"] as? [String: Any] ?? [:]
            #expect((result["active"] as? [String: Any])?["decisions"] as? Int == 10_000)
            #expect(result["changedCount"] as? Int == 2_000)
            print("shadow replay of 10,000 decisions: \(result["seconds"] ?? "?") s")
        }
    }
}
