import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

/// Races run on a real database: the test PostgreSQL when `DATABASE_URL` names one, otherwise a SQLite file
/// (an in-memory SQLite shares one cache and would not show how two connections contend).
func withRacingYidai(_ body: (Application, TestClock, ProviderSet) async throws -> Void) async throws {
    let onPostgres = ProcessInfo.processInfo.environment["DATABASE_URL"]?.hasPrefix("postgres") == true
    let file = onPostgres ? nil : NSTemporaryDirectory() + "yidai-race-\(UUID().uuidString).sqlite"
    defer {
        if let file { for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
    }
    try await withYidai(sqliteFile: file, body)
}

/// Runs `count` copies of `body` at the same moment and returns what each answered.
func together<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for i in 0..<count { group.addTask { try await body(i) } }
        var results: [T] = []
        for try await result in group { results.append(result) }
        return results
    }
}

enum Invariants {
    /// The provider's accounts and the bank's ledger agree key by key, and the audit trail is whole.
    static func moneyAndAuditAgree(_ app: Application, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let reconciliation = try await Reconciliation(context: app.servicing).run()
        #expect(reconciliation.differences.isEmpty, "\(reconciliation.differences)", sourceLocation: sourceLocation)
        _ = try await ServicingHarness.expectTrialBalanceZero(app)
        let audit = try await AuditVerifier(db: app.db, services: app.yidai).verify()
        #expect(audit.isIntact, "\(audit.problems)", sourceLocation: sourceLocation)
    }

    /// Every loan was paid out once to its card: the card holds exactly the loans' principal.
    static func cardHoldsLoans(_ app: Application, _ card: BankCardNumber, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let loans = try await Loan.query(on: app.db).all()
        let balance = try await ServicingHarness.cardBalance(app, card)
        #expect(balance == loans.reduce(0) { $0 + $1.principalFen }, sourceLocation: sourceLocation)
    }
}
