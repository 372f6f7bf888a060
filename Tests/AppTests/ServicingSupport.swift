import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// Servicing test helpers: a borrower with a signed contract, end of day, the sandbox card, the ledger.
extension Applicant {
    /// Walks to an approved limit, asks for the loan, and signs the contract (through the contract API when the
    /// build has it, otherwise simulated in the database).
    mutating func walkToSignedContract(amount: String = "12000", termMonths: Int = 12, method: String = "equal-installment") async throws {
        let decision = try await walkToDecision()
        #expect(decision["state"] as? String == "approved")
        let (status, _, _) = try await call(.POST, path("/loan-request"), json: [
            "amount": amount, "termMonths": termMonths, "method": method, "purpose": "consumption",
        ])
        #expect(status == .ok)
        // Tests run on a fixed business date (it is separate from the wall clock).
        try await app.servicing.businessDates.set(ServicingHarness.day("2026-07-25"))
        let (shown, contract, _) = try await call(.GET, path("/contract"))
        if shown == .ok {
            // The contract is signed through its own API: SMS code, then the signature over the SHA-256 shown.
            clock.advance(61)
            let (sent, _, _) = try await call(.POST, path("/contract/sms-code"))
            #expect(sent == .accepted)
            let (signed, body, _) = try await call(.POST, path("/contract/sign"), json: [
                "code": await latestCode(), "sha256": contract["sha256"] as? String ?? "", "agree": true,
            ])
            #expect(signed == .ok || signed == .created, "\(body)")
        } else {
            // Without the contract routes, the signature is simulated in the database.
            let application = try await LoanApplication.find(UUID(uuidString: applicationID)!, on: app.db)!
            #expect(application.state == "loan_requested")
            application.state = ApplicationState.contractSigned.rawValue
            try await application.save(on: app.db)
        }
        let signed = try await LoanApplication.find(UUID(uuidString: applicationID)!, on: app.db)
        #expect(signed?.state == "contract_signed")
    }

    func disburse() async throws -> (HTTPStatus, [String: Any]) {
        let (status, body, _) = try await call(.POST, path("/disbursement"))
        return (status, body)
    }

    func repay(_ loanID: String, key: String?, _ json: [String: Any]) async throws -> (HTTPStatus, [String: Any]) {
        var headers = bearer
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        let (status, body, _) = try await call(.POST, "/api/v1/loans/\(loanID)/repayments", json: json, headers: headers)
        return (status, body)
    }

    func loan(_ loanID: String) async throws -> [String: Any] {
        let (status, body, _) = try await call(.GET, "/api/v1/loans/\(loanID)")
        #expect(status == .ok)
        return body
    }

    var card: BankCardNumber { persona.verifiableDebitCard }
}

enum ServicingHarness {
    static func day(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }
    static func fen(_ text: Any?) -> Int64 { Money.fen(exactly: Money.parse(text as? String ?? "") ?? -1) ?? Int64.min }

    static func endOfDay(_ app: Application, through iso: String) async throws {
        _ = try await app.servicing.endOfDay.run(through: day(iso))
        #expect(try await app.servicing.businessDates.current() == day(iso))
    }

    static func sandbox(_ app: Application) -> SandboxPaymentGateway { SandboxPaymentGateway(db: app.db, clock: app.yidai.clock) }

    static func setCard(_ app: Application, _ card: BankCardNumber, balance: Int64? = nil, mode: SandboxPaymentGateway.Mode? = nil) async throws {
        _ = try await sandbox(app).configure(card: card, balanceFen: balance, mode: mode)
    }

    static func cardBalance(_ app: Application, _ card: BankCardNumber) async throws -> Int64 {
        try await sandbox(app).account(card: card).balanceFen
    }

    /// Balances per account; asserts they net to zero and every entry balances.
    @discardableResult
    static func expectTrialBalanceZero(_ app: Application, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Int64] {
        let rows = try await app.servicing.ledger.trialBalance()
        #expect(rows.reduce(0) { $0 + $1.balanceFen } == 0, sourceLocation: sourceLocation)
        for entry in try await JournalEntry.query(on: app.db).all() {
            let lines = try await JournalLine.query(on: app.db).filter(\.$entryID == entry.id!).all()
            #expect(lines.reduce(0) { $0 + $1.debitFen } == lines.reduce(0) { $0 + $1.creditFen }, "entry \(entry.reference)", sourceLocation: sourceLocation)
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.account, $0.balanceFen) })
    }

    static func terms(of loan: [String: Any]) -> LoanTerms {
        let summary = loan["loan"] as! [String: Any]
        return LoanTerms(
            principal: Money.parse(summary["principal"] as! String)!, annualRatePercent: Money.parse(summary["annualRate"] as! String)!,
            termMonths: summary["termMonths"] as! Int, method: RepaymentMethod(rawValue: summary["method"] as! String)!,
            startDate: day(summary["disbursedOn"] as! String))
    }

    static func rows(_ loan: [String: Any]) -> [[String: Any]] { loan["schedule"] as? [[String: Any]] ?? [] }

    /// The schedule's principal and interest per row, as (number, due date, principal fen, interest fen).
    static func plan(_ loan: [String: Any]) -> [(Int, String, Int64, Int64)] {
        rows(loan).map { ($0["number"] as! Int, $0["dueDate"] as! String, fen($0["principal"]), fen($0["interest"])) }
    }

    static func plan(_ rows: [ScheduledInstallment]) -> [(Int, String, Int64, Int64)] {
        rows.map { ($0.number, $0.dueDate.iso, $0.principalFen, $0.interestFen) }
    }

    static func samePlan(_ a: [(Int, String, Int64, Int64)], _ b: [(Int, String, Int64, Int64)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 && $0.3 == $1.3 }
    }

    /// The engine's schedule after a prepayment, as the engine's next quote must see it.
    static func schedule(_ original: RepaymentSchedule, after quote: PrepaymentQuote) -> RepaymentSchedule {
        var kept = Array(original.installments.prefix(quote.installmentsPaid))
        if !kept.isEmpty { kept[kept.count - 1].remainingPrincipalFen = quote.outstandingPrincipalFen - quote.principalPrepaidFen }
        var terms = original.terms
        if kept.isEmpty { terms.principal = Money.decimal(fen: quote.outstandingPrincipalFen - quote.principalPrepaidFen) }
        return RepaymentSchedule(terms: terms, installments: kept + quote.remainingInstallments, aprHundredthsOfPercent: 0)
    }
}
