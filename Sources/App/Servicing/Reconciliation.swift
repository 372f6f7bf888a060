import Fluent
import Foundation
import LendingCore
import Providers

/// 对账: compares what the payments provider says it paid and collected (its statement) with the bank's payments
/// and ledger, key by key, and lists every difference with its amounts. Pending payments are first resolved by
/// asking the provider how their keys ended. Runs at end of day and on demand (`yidai payments reconcile`);
/// each run is in the audit trail.
struct Reconciliation {
    let context: ServicingContext

    struct Difference: Sendable, Equatable, CustomStringConvertible {
        let key: String
        let providerFen: Int64?
        let bankFen: Int64?
        let problem: String

        var description: String {
            "\(key): provider \(providerFen.map { Money.string(fen: $0) } ?? "—"), bank \(bankFen.map { Money.string(fen: $0) } ?? "—"): \(problem)"
        }
    }

    struct Report: Sendable {
        var statementLines = 0
        var payments = 0
        /// Paid out − collected, as the provider's statement says and as the ledger's settlement account says.
        var providerNetPaidOutFen: Int64 = 0
        var ledgerNetPaidOutFen: Int64 = 0
        var differences: [Difference] = []
    }

    func run(resolvePending: Bool = true) async throws -> Report {
        if resolvePending { try await context.repayments.resumePending(loanID: nil, except: nil) }
        let db = context.db
        var report = Report()
        let statement = try await context.gateway.statement()
        let payments = try await Payment.query(on: db).all()
        let byKey = Dictionary(payments.map { ($0.idempotencyKey, $0) }, uniquingKeysWith: { first, _ in first })
        report.statementLines = statement.count
        report.payments = payments.count
        var refunds: [String: Int64] = [:]
        var seen = Set<String>()
        for line in statement {
            report.providerNetPaidOutFen += line.direction == .payout ? line.amountFen : -line.amountFen
            if line.idempotencyKey.hasPrefix("refund:") {
                refunds[String(line.idempotencyKey.dropFirst("refund:".count)).lowercased(), default: 0] += line.amountFen
                continue
            }
            seen.insert(line.idempotencyKey)
            guard let payment = byKey[line.idempotencyKey] else {
                if line.amountFen > 0 {
                    report.differences.append(.init(key: line.idempotencyKey, providerFen: line.amountFen, bankFen: nil, problem: "the provider moved money the bank has no payment for"))
                }
                continue
            }
            let moved = payment.state == PaymentState.succeeded ? (payment.movedFen ?? 0) : 0
            if line.outcome == .succeeded && payment.state != PaymentState.succeeded {
                report.differences.append(.init(key: line.idempotencyKey, providerFen: line.amountFen, bankFen: moved, problem: "the provider executed it but the bank's payment is \(payment.state)"))
            } else if line.outcome != .succeeded && payment.state == PaymentState.succeeded {
                report.differences.append(.init(key: line.idempotencyKey, providerFen: line.amountFen, bankFen: moved, problem: "the bank booked it but the provider says \(line.outcome.rawValue)"))
            } else if moved != line.amountFen {
                report.differences.append(.init(key: line.idempotencyKey, providerFen: line.amountFen, bankFen: moved, problem: "the amounts differ"))
            }
        }
        for payment in payments where payment.state == PaymentState.succeeded && !seen.contains(payment.idempotencyKey) {
            report.differences.append(.init(key: payment.idempotencyKey, providerFen: nil, bankFen: payment.movedFen, problem: "the bank booked a payment the provider has no record of"))
        }
        try await checkLedger(payments, refunds: refunds, into: &report)
        return report
    }

    /// Every booked payment has its journal entry over the settlement account, for the money that stayed
    /// (collected minus refunded), and the settlement account agrees with the provider's net.
    private func checkLedger(_ payments: [Payment], refunds: [String: Int64], into report: inout Report) async throws {
        let db = context.db
        let entries = try await JournalEntry.query(on: db).all()
        let entryIDs = Dictionary(entries.map { ($0.reference, $0.id!) }, uniquingKeysWith: { first, _ in first })
        var settlementByEntry: [UUID: Int64] = [:]  // credit − debit: money paid out through the provider
        for line in try await JournalLine.query(on: db).filter(\.$account == LedgerAccount.settlement.rawValue).all() {
            settlementByEntry[line.entryID, default: 0] += line.creditFen - line.debitFen
            report.ledgerNetPaidOutFen += line.creditFen - line.debitFen
        }
        for payment in payments where payment.state == PaymentState.succeeded {
            let id = payment.id!.uuidString
            let moved = payment.movedFen ?? 0
            let (reference, expected): (String, Int64) =
                payment.kind == "disbursement"
                ? ("disbursement:\(id)", moved) : ("payment:\(id)", -(moved - (refunds[id.lowercased()] ?? 0)))
            let booked = entryIDs[reference].map { settlementByEntry[$0] ?? 0 }
            if booked != expected && !(booked == nil && expected == 0) {
                report.differences.append(.init(key: payment.idempotencyKey, providerFen: moved, bankFen: booked.map { abs($0) }, problem: "the ledger's settlement entry \(reference) does not match"))
            }
        }
        if report.providerNetPaidOutFen != report.ledgerNetPaidOutFen {
            report.differences.append(.init(key: "settlement", providerFen: report.providerNetPaidOutFen, bankFen: report.ledgerNetPaidOutFen, problem: "the settlement account disagrees with the provider's net (paid out − collected)"))
        }
    }

    /// Runs and records the result in the audit trail.
    @discardableResult
    func runAndRecord(actor: String) async throws -> Report {
        let report = try await run()
        try await context.audit(context.db).record(
            application: nil, actor: actor, action: "payments.reconciled",
            details: [
                "statementLines": String(report.statementLines), "payments": String(report.payments),
                "differences": String(report.differences.count),
                "providerNetPaidOut": Money.string(fen: report.providerNetPaidOutFen),
                "ledgerNetPaidOut": Money.string(fen: report.ledgerNetPaidOutFen),
                "firstDifference": report.differences.first?.description ?? "-",
            ])
        return report
    }
}
