import Fluent
import Foundation
import LendingCore
import Vapor

/// `yidai payments reconcile | stuck | retry --application ID`: the operator's tools for money in flight.
struct PaymentsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "reconcile | stuck | retry")
        var action: String
        @Option(name: "application", help: "the application id (retry only)")
        var application: String?
    }

    var help: String {
        "Payments: `reconcile` compares the provider's statement with the ledger; `stuck` lists payouts not finished; `retry --application ID` runs a payout now."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        let servicing = app.servicing
        switch signature.action {
        case "reconcile":
            let report = try await Reconciliation(context: servicing).runAndRecord(actor: "operator")
            context.console.print(
                "Provider statement: \(report.statementLines) instructions; bank: \(report.payments) payments; net paid out: provider \(Money.string(fen: report.providerNetPaidOutFen)), ledger \(Money.string(fen: report.ledgerNetPaidOutFen)).")
            if report.differences.isEmpty {
                context.console.print("Reconciled: 0 differences.")
                return
            }
            context.console.error("\(report.differences.count) difference(s):")
            for difference in report.differences { context.console.error("  - \(difference)") }
            throw ExitCode(1)
        case "stuck":
            let jobs = try await BackgroundJob.query(on: app.db).filter(\.$kind == PayoutJobs.kind)
                .filter(\.$state ~~ [BackgroundJobState.queued, BackgroundJobState.failed]).sort(\.$createdAt).all()
            let pending = try await Payment.query(on: app.db).filter(\.$state == PaymentState.pending).sort(\.$createdAt).all()
            if jobs.isEmpty && pending.isEmpty {
                context.console.print("No payout is waiting and no payment is pending.")
                return
            }
            for job in jobs {
                context.console.print(
                    "payout job \(job.state) application \(job.reference.uuidString.lowercased()) attempts \(job.attempts) next \(ISO8601DateFormatter().string(from: job.runAfter)) \(job.lastError ?? "")")
            }
            for payment in pending {
                context.console.print(
                    "payment pending \(payment.kind) \(payment.idempotencyKey) \(Money.string(fen: payment.requestedFen)) since \(ISO8601DateFormatter().string(from: payment.createdAt))")
            }
        case "retry":
            guard let raw = signature.application, let id = UUID(uuidString: raw) else {
                throw ConfigurationError("payments retry needs --application ID")
            }
            let outcome = try await servicing.disbursement.disburse(applicationID: id)
            if let loan = outcome.loan {
                context.console.print("Paid out: loan \(loan.id?.uuidString.lowercased() ?? "?") of \(Money.string(fen: loan.principalFen)).")
            } else {
                context.console.print("Payout \(outcome.payment.idempotencyKey) is \(outcome.payment.state) \(outcome.payment.failureCode ?? "").")
            }
            let now = servicing.clock.now()
            let state = outcome.loan != nil ? BackgroundJobState.done : (outcome.payment.state == PaymentState.failed ? BackgroundJobState.failed : BackgroundJobState.queued)
            try await app.db.writeTransaction { tx in
                try await BackgroundJob.query(on: tx).filter(\.$kind == PayoutJobs.kind).filter(\.$reference == id)
                    .set(\.$state, to: state).set(\.$runAfter, to: now).set(\.$updatedAt, to: now).update()
            }
        default:
            throw ConfigurationError("unknown payments action \(signature.action); use reconcile, stuck or retry")
        }
    }
}
