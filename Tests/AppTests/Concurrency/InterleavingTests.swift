import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

private typealias H = ServicingHarness

/// Property-style: random interleavings of signing, cancelling, paying out, repaying and end of day for a few
/// borrowers, several operations at the same moment each round. Whatever the order, the provider and the ledger
/// agree key by key, the audit trail is whole, the card holds exactly the loans, and each loan's ledger holds
/// the principal its plan says is still owed.
@Suite("Random interleavings of money operations")
struct InterleavingTests {
    /// A small deterministic generator, so a failing seed can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Borrower: Sendable {
        let applicant: Applicant
        let code: String
        let sha: String
    }

    /// P01 and P02 up to a requested loan, then each one's contract code (fresh, so none expires during the rounds).
    static func borrowers(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> [Borrower] {
        var applicants: [Applicant] = []
        try await app.servicing.businessDates.set(H.day("2026-07-25"))
        for (key, amount) in [("P01", "20000"), ("P02", "3000")] {
            var p = Applicant(key, app: app, clock: clock, providers: providers)
            let decision = try await p.walkToDecision()
            #expect(decision["state"] as? String == "approved", "\(key): \(decision)")
            let (requested, body, _) = try await p.call(.POST, p.path("/loan-request"), json: [
                "amount": amount, "termMonths": 6, "method": "equal-installment", "purpose": "consumption",
            ])
            #expect(requested == .ok, "\(body)")
            applicants.append(p)
        }
        var result: [Borrower] = []
        for p in applicants {
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            #expect(try await p.call(.POST, p.path("/contract/sms-code")).0 == .accepted)
            result.append(Borrower(applicant: p, code: await p.latestCode(), sha: contract["sha256"] as? String ?? ""))
        }
        return result
    }

    enum Operation: CaseIterable {
        case sign, cancel, payout, repay, payoutJob, endOfDay, cardTimesOut, cardRecovers

        /// Cancelling ends a borrower's story, so it is drawn rarely; the rest often enough to meet each other.
        static let weighted: [Operation] =
            [.sign, .sign, .sign, .payout, .payout, .payout, .repay, .repay, .repay, .repay, .payoutJob, .payoutJob,
             .endOfDay, .endOfDay, .cardTimesOut, .cardRecovers, .cancel]
    }

    static func perform(_ op: Operation, _ b: Borrower, _ app: Application, round: Int) async throws -> HTTPStatus {
        let p = b.applicant
        switch op {
        case .sign:
            // The contract shown now (end of day moves its dates, so its SHA-256 is read again before signing).
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let sha = contract["sha256"] as? String ?? b.sha
            return try await p.call(.POST, p.path("/contract/sign"), json: ["code": b.code, "sha256": sha, "agree": true]).0
        case .cancel:
            return try await p.call(.POST, p.path("/cancel")).0
        case .payout:
            return try await p.disburse().0
        case .repay:
            guard let loan = try await Loan.query(on: app.db).filter(\.$applicationID == UUID(uuidString: p.applicationID)!).first() else { return .notFound }
            // Before the first due date only a prepayment is possible; after it, the amount due.
            let body: [String: Any] =
                round % 2 == 0
                ? ["type": "prepayment", "amount": "500.00", "prepaymentMode": round % 4 == 0 ? "shorten-term" : "lower-installment"]
                : ["type": "due"]
            return try await p.repay(loan.id!.uuidString, key: "round-\(round)-\(p.persona.key)", body).0
        case .payoutJob:
            _ = try await PayoutJobs.runDue(app.servicing)
            return .ok
        case .endOfDay:
            // A jump of 11 days, so the rounds reach due dates, auto-debits and overdue installments.
            let today = try await app.servicing.businessDates.current()
            _ = try await app.servicing.endOfDay.run(through: today.adding(days: 11))
            return .ok
        case .cardTimesOut:
            try await H.setCard(app, p.card, mode: .timeout)
            return .ok
        case .cardRecovers:
            try await H.setCard(app, p.card, mode: .normal)
            return .ok
        }
    }

    @Test("whatever the interleaving, money, ledger and audit trail agree", arguments: [1, 2, 3, 4] as [UInt64])
    func randomInterleavings(seed: UInt64) async throws {
        try await withRacingYidai { app, clock, providers in
            let borrowers = try await Self.borrowers(app, clock, providers)
            for b in borrowers { try await H.setCard(app, b.applicant.card, balance: 1_000_000) }
            var rng = SplitMix(state: seed)
            for round in 0..<14 {
                // Three operations at the same moment, on random borrowers.
                let batch = (0..<3).map { _ in (Operation.weighted.randomElement(using: &rng)!, borrowers.randomElement(using: &rng)!) }
                let statuses = try await together(batch.count) { i in try await Self.perform(batch[i].0, batch[i].1, app, round: round) }
                #expect(!statuses.contains(.internalServerError), "seed \(seed) round \(round): \(batch.map { "\($0.0)" }) → \(statuses)")
            }
            // Settle what is in flight: cards answer again, the payout job and reconciliation finish pending payments.
            for b in borrowers { try await H.setCard(app, b.applicant.card, mode: .normal) }
            _ = try await PayoutJobs.runDue(app.servicing)
            _ = try await Reconciliation(context: app.servicing).run()

            // validation
            try await Invariants.moneyAndAuditAgree(app)
            for b in borrowers {
                let id = UUID(uuidString: b.applicant.applicationID)!
                let state = try await LoanApplication.find(id, on: app.db)?.state ?? "?"
                let loan = try await Loan.query(on: app.db).filter(\.$applicationID == id).first()
                #expect((loan != nil) == (state == "disbursed"), "seed \(seed): \(b.applicant.persona.key) is \(state)")
                if let loan {
                    let positions = try await app.servicing.loans.positions(loan)
                    let ledger = try await app.servicing.ledger.trialBalance(loanID: loan.id)
                    let receivable = ledger.first { $0.account == LedgerAccount.loansReceivable.rawValue }?.balanceFen ?? 0
                    #expect(receivable == positions.outstandingPrincipalFen, "seed \(seed): loan ledger \(receivable) vs plan \(positions.outstandingPrincipalFen)")
                }
            }
        }
    }
}
