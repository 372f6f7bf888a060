import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("Policy operations: candidates, shadow replay, maker-checker")
struct PolicyOperationsTests {
    static func files() throws -> [String: String] {
        let folder = try PolicyStore.readFolder(repositoryRoot + "/Policies/credit")
        return folder.files
    }

    /// The shipped policy with one rule changed: the maximum age 55 becomes 56 (and the cases that expect the age
    /// decline removed).
    static func olderCandidate() throws -> [String: String] {
        var files = try files()
        files["credit.json"] = files["credit.json"]!.replacingOccurrences(of: "\"> 55\"", with: "\"> 56\"")
        var cases = try JSONSerialization.jsonObject(with: Data(files["cases.json"]!.utf8)) as! [String: Any]
        cases["cases"] = try (cases["cases"] as! [[String: Any]]).filter {
            !String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self).contains("AGE_ABOVE_MAXIMUM")
        }
        files["cases.json"] = String(decoding: try JSONSerialization.data(withJSONObject: cases), as: UTF8.self)
        return files
    }

    static func decide(_ keys: [String], _ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> [String: String] {
        var ids: [String: String] = [:]
        for key in keys {
            var p = Applicant(key, app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            ids[key] = p.applicationID
        }
        return ids
    }

    static func waitForReplay(_ user: StaffUser, _ id: String) async throws -> [String: Any] {
        for _ in 0..<100 {
            let (_, body, _) = try await user.call(.GET, "/api/v1/staff/shadow-replays/\(id)")
            if body["state"] as? String != "running" { return body }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("the replay did not finish")
        return [:]
    }

    @Test("a candidate whose case fails is refused with the report; a good one waits for a second risk person")
    func makerChecker() async throws {
        try await withYidai { app, clock, providers in
            let risk1 = try await staff("risk1", app: app, clock: clock)
            var broken = try Self.files()
            broken["credit.json"] = broken["credit.json"]!.replacingOccurrences(of: "\"> 55\"", with: "\"> 56\"")
            let (refused, refusedBody, _) = try await risk1.call(.POST, "/api/v1/staff/policies", json: ["files": broken])
            #expect(refused == .unprocessableEntity)
            #expect((refusedBody["error"] as? [String: Any])?["code"] as? String == "policy_cases_failed")
            #expect(((refusedBody["error"] as? [String: Any])?["message"] as? String ?? "").contains("P09"))
            let (created, upload, _) = try await risk1.call(.POST, "/api/v1/staff/policies", json: ["files": try Self.olderCandidate(), "note": "放宽年龄上限至56岁"])
            #expect(created == .created, "\(upload)")
            let version = upload["version"] as? [String: Any] ?? [:]
            #expect(version["state"] as? String == "candidate" && version["active"] as? Bool == false)
            let change = try #require((upload["change"] as? [String: Any])?["id"] as? String)
            // The author cannot approve their own candidate; a manager cannot touch policies at all.
            let (own, ownBody, _) = try await risk1.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation")
            #expect(own == .forbidden && (ownBody["error"] as? [String: Any])?["code"] as? String == "second_person_required")
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            #expect(try await cm.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation").0 == .notFound)
            let auditor = try await staff("auditor", app: app, clock: clock)
            #expect(try await auditor.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation").0 == .notFound)
            #expect(try await auditor.call(.GET, "/api/v1/staff/policies").0 == .ok)
            let risk2 = try await staff("risk2", app: app, clock: clock)
            let (ok, published, _) = try await risk2.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation")
            #expect(ok == .ok, "\(published)")
            #expect(published["active"] as? Bool == true && published["approvedBy"] as? String == "risk2" && published["author"] as? String == "risk1")
            #expect(try await risk2.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation").0 == .conflict)
            // In force at once: P09 (56) is no longer declined for age.
            var p09 = Applicant("P09", app: app, clock: clock, providers: providers)
            let decided = try await p09.walkToDecision()
            #expect(decided["state"] as? String != "declined", "\(decided)")
            // Rollback to v1: one request, confirmed by another person.
            let (_, list, _) = try await risk1.call(.GET, "/api/v1/staff/policies")
            let v1 = try #require((list["versions"] as? [[String: Any]])?.first { $0["version"] as? Int == 1 }?["id"] as? String)
            let (asked, rollback, _) = try await risk2.call(.POST, "/api/v1/staff/policies/\(v1)/rollback", json: ["note": "回退"])
            #expect(asked == .accepted, "\(rollback)")
            let rollbackID = rollback["id"] as? String ?? ""
            #expect(try await risk2.call(.POST, "/api/v1/staff/policy-changes/\(rollbackID)/confirmation").0 == .forbidden)
            let (back, backBody, _) = try await risk1.call(.POST, "/api/v1/staff/policy-changes/\(rollbackID)/confirmation")
            #expect(back == .ok && backBody["version"] as? Int == 1 && backBody["active"] as? Bool == true, "\(backBody)")
            let actions = try await AuditEntry.query(on: app.db).filter(\.$action ~~ ["policy.uploaded", "policy.published", "policy.rollback_requested", "policy.rolled_back"]).count()
            #expect(actions == 4)
        }
    }

    @Test("two confirmations of the same candidate at the same moment publish it once: one 200, the other 409")
    func concurrentConfirmation() async throws {
        try await withYidai { app, clock, providers in
            let risk1 = try await staff("risk1", app: app, clock: clock)
            let (created, upload, _) = try await risk1.call(.POST, "/api/v1/staff/policies", json: ["files": try Self.olderCandidate(), "note": "放宽年龄上限至56岁"])
            #expect(created == .created, "\(upload)")
            let change = try #require((upload["change"] as? [String: Any])?["id"] as? String)
            // Two sessions of the second risk person, e.g. two browser tabs, press confirm together.
            let first = try await staff("risk2", app: app, clock: clock)
            let second = try await staff("risk2", app: app, clock: clock)
            async let a = first.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation")
            async let b = second.call(.POST, "/api/v1/staff/policy-changes/\(change)/confirmation")
            let statuses = [try await a.0, try await b.0].map(\.code).sorted()
            #expect(statuses == [200, 409])
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "policy.published").count() == 1)
            #expect(try await PolicyVersion.query(on: app.db).filter(\.$active == true).count() == 1)
        }
    }

    @Test("shadow replay: a candidate that differs in one rule changes only the applications that rule touches")
    func shadowReplay() async throws {
        try await withYidai { app, clock, providers in
            let ids = try await Self.decide(["P01", "P08", "P09", "P10", "P11"], app, clock, providers)
            let risk1 = try await staff("risk1", app: app, clock: clock)
            let (_, upload, _) = try await risk1.call(.POST, "/api/v1/staff/policies", json: ["files": try Self.olderCandidate()])
            let versionID = try #require((upload["version"] as? [String: Any])?["id"] as? String)
            let (bad, badBody, _) = try await risk1.call(.POST, "/api/v1/staff/policies/\(versionID)/shadow-replays", json: ["last": 20_000])
            #expect(bad == .unprocessableEntity && (badBody["error"] as? [String: Any])?["field"] as? String == "last")
            let (started, body, _) = try await risk1.call(.POST, "/api/v1/staff/policies/\(versionID)/shadow-replays", json: ["last": 100])
            #expect(started == .accepted, "\(body)")
            let done = try await Self.waitForReplay(risk1, body["id"] as? String ?? "")
            #expect(done["state"] as? String == "done", "\(done)")
            let result = done["result"] as? [String: Any] ?? [:]
            #expect(result["changedCount"] as? Int == 1)
            let changed = result["changed"] as? [[String: Any]] ?? []
            #expect((changed.first?["applicationId"] as? String)?.lowercased() == ids["P09"]!.lowercased())
            #expect((changed.first?["active"] as? [String: Any])?["decision"] as? String == "declined")
            #expect(((changed.first?["active"] as? [String: Any])?["reasons"] as? [String]) == ["AGE_ABOVE_MAXIMUM"])
            let active = result["active"] as? [String: Any] ?? [:]
            let candidate = result["candidate"] as? [String: Any] ?? [:]
            #expect(active["decisions"] as? Int == 5 && candidate["decisions"] as? Int == 5)
            #expect((active["declined"] as? Int ?? 0) == (candidate["declined"] as? Int ?? 0) + 1)
        }
    }
}
