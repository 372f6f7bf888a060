import Fluent
import Foundation
import Testing
import Vapor

@testable import App

@Suite("Audit trail")
struct AuditTrailTests {
    @Test("every step of a journey is in the audit trail, masked, and the chain verifies")
    func journeyIsAudited() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let id = UUID(uuidString: p.applicationID)!
            let entries = try await AuditEntry.query(on: app.db).filter(\.$applicationID == id).sort(\.$sequence).all()
            let actions = entries.map(\.action)
            for expected in ["application.started", "id_card.read", "id_card.confirmed", "face.verified", "carrier.verified", "bank_card.checked",
                             "bank_card.verified", "credit_authorization.signed", "credit_report.pulled", "about_you.saved", "decision.made"] {
                #expect(actions.contains(expected), "missing \(expected)")
            }
            let all = entries.map(\.details).joined()
            #expect(!all.contains("440305198803152013"))
            #expect(!all.contains("13800000001"))
            #expect(!all.contains("张伟"))
            #expect(all.contains("4403**********2013"))
            let result = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            #expect(result.firstBrokenSequence == nil)
            #expect(result.entries >= entries.count)
        }
    }

    @Test("changing or deleting an entry is found at the first broken link")
    func tamperingIsFound() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            let trail = AuditVerifier(db: app.db, services: app.yidai)
            let entries = try await AuditEntry.query(on: app.db).sort(\.$sequence).all()
            #expect(entries.count >= 3)
            let victim = entries[1]
            victim.details = "{\"name\":\"someone else\"}"
            try await victim.save(on: app.db)
            #expect(try await trail.verify().firstBrokenSequence == victim.sequence)
            try await entries[1].delete(on: app.db)
            #expect(try await trail.verify().firstBrokenSequence == victim.sequence)
        }
    }
}
