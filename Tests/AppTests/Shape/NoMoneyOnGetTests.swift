import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

private typealias H = ServicingHarness

/// GET and HEAD never change anything: a link preview, a prefetching browser or a crawler cannot move money.
@Suite("No GET moves money or changes state")
struct NoMoneyOnGetTests {
    struct Snapshot: Equatable {
        let payments: [String]
        let loans: Int
        let providerInstructions: Int
        let auditEntries: Int
        let states: [String]
        let jobs: [String]
        let cardFen: Int64
    }

    static func snapshot(_ app: Application, card: BankCardNumber) async throws -> Snapshot {
        Snapshot(
            payments: try await Payment.query(on: app.db).sort(\.$createdAt).all().map { "\($0.idempotencyKey):\($0.state)" },
            loans: try await Loan.query(on: app.db).count(),
            providerInstructions: try await SandboxPaymentInstruction.query(on: app.db).count(),
            auditEntries: try await AuditEntry.query(on: app.db).count(),
            states: try await LoanApplication.query(on: app.db).sort(\.$createdAt).all().map(\.state),
            jobs: try await BackgroundJob.query(on: app.db).all().map { "\($0.state):\($0.attempts)" },
            cardFen: try await H.cardBalance(app, card))
    }

    /// Every GET route of the application, with its parameters filled from what exists.
    static func getPaths(_ app: Application, values: [String: String]) -> [String] {
        app.routes.all.filter { $0.method == .GET }.compactMap { route -> String? in
            var parts: [String] = []
            for component in route.path {
                switch component {
                case .constant(let text): parts.append(text)
                case .parameter(let name):
                    guard let value = values[name] else { return nil }
                    parts.append(value)
                case .anything, .catchall: parts.append("x")
                }
            }
            return "/" + parts.joined(separator: "/")
        }
    }

    static func walk(_ app: Application, _ paths: [String], token: String) async throws -> Int {
        var walked = 0
        for path in paths {
            for accept in ["application/json", "text/html"] {
                for method in [HTTPMethod.GET, .HEAD] {
                    try await app.testing().test(method, path, beforeRequest: { req in
                        req.headers.replaceOrAdd(name: .authorization, value: "Bearer \(token)")
                        req.headers.replaceOrAdd(name: .cookie, value: "yd_session=\(token)")
                        req.headers.replaceOrAdd(name: .accept, value: accept)
                    }, afterResponse: { res async in
                        #expect(res.status != .internalServerError, "\(method) \(path)")
                    })
                    walked += 1
                }
            }
        }
        return walked
    }

    @Test("after a contract is signed, every GET and HEAD route leaves money, states, jobs and the audit trail as they were")
    func getAfterSigning() async throws {
        try await withYidai { app, clock, providers in
            // setup: a signed contract whose payout is queued, not yet made
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            let before = try await Self.snapshot(app, card: p.card)
            let paths = Self.getPaths(app, values: ["applicationID": p.applicationID, "card": p.card.value])

            // MUT
            let walked = try await Self.walk(app, paths, token: p.token)

            // validation
            #expect(walked > 40)
            #expect(try await Self.snapshot(app, card: p.card) == before)
            #expect(before.loans == 0 && before.cardFen == 0)
        }
    }

    @Test("a repayment whose answer was lost stays pending however often its pages are viewed")
    func getWithPendingRepayment() async throws {
        try await withYidai { app, clock, providers in
            // setup: a loan, then a prepayment whose provider answer is lost
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let loan = try #require(try await Loan.query(on: app.db).first())
            try await H.setCard(app, p.card, balance: 500_000, mode: .timeout)
            let (status, body) = try await p.repay(loan.id!.uuidString, key: "lost-1", ["type": "prepayment", "amount": "1000.00", "prepaymentMode": "shorten-term"])
            #expect(status == .accepted, "\(body)")
            let payment = try #require(try await Payment.query(on: app.db).filter(\.$idempotencyKey == "repay:\(loan.id!.uuidString.lowercased()):lost-1").first())
            try await H.setCard(app, p.card, mode: .normal)
            let before = try await Self.snapshot(app, card: p.card)
            let paths = Self.getPaths(app, values: [
                "applicationID": p.applicationID, "loanID": loan.id!.uuidString, "paymentID": payment.id!.uuidString, "card": p.card.value,
            ])

            // MUT
            _ = try await Self.walk(app, paths, token: p.token)

            // validation: nothing moved; the worker (not a page) finishes it
            #expect(try await Self.snapshot(app, card: p.card) == before)
            #expect(try await Payment.find(payment.id, on: app.db)?.state == PaymentState.pending)
            try await app.servicing.repayments.resumePending(loanID: nil, except: nil)
            #expect(try await Payment.find(payment.id, on: app.db)?.state == PaymentState.succeeded)
        }
    }
}
