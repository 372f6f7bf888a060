import Fluent
import LendingCore
import Vapor

/// `yidai eod [--date YYYY-MM-DD]`: end of day, one business day at a time up to the date (default: one day).
struct EndOfDayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "date", help: "Run day after day until the business date is this date (YYYY-MM-DD). Default: one day.")
        var date: String?
    }

    var help: String { "End of day: move the business date forward (installments fall due, auto-debit, overdue, penalty interest)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        var target: CivilDate?
        if let raw = signature.date {
            guard let date = CivilDate(iso: raw) else { throw ConfigurationError("--date must be YYYY-MM-DD, got \(raw)") }
            target = date
        }
        let servicing = app.servicing
        let before = try await servicing.businessDates.current()
        let reports = try await servicing.endOfDay.run(through: target)
        if reports.isEmpty {
            context.console.print("Business date is \(before.iso); nothing to do.")
            return
        }
        for report in reports { context.console.print(report.summary) }
        context.console.print("Business date is now \(try await servicing.businessDates.current().iso).")
    }
}

/// `yidai ledger trial-balance`: debits, credits and balance per account; the balances net to zero.
struct LedgerCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "trial-balance")
        var action: String
    }

    var help: String { "Ledger tools: `ledger trial-balance` prints the balance of every account (they net to zero)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "trial-balance" else { throw ConfigurationError("unknown ledger action \(signature.action); use `ledger trial-balance`") }
        let app = context.application
        try await app.autoMigrate()
        let rows = try await app.servicing.ledger.trialBalance()
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? fill + s : s + fill
        }
        context.console.print(pad("account", 30) + pad("debit", 18, left: true) + pad("credit", 18, left: true) + pad("balance", 18, left: true))
        for row in rows {
            context.console.print(pad(row.account, 30) + pad(Money.string(fen: row.debitFen), 18, left: true)
                + pad(Money.string(fen: row.creditFen), 18, left: true) + pad(Money.string(fen: row.balanceFen), 18, left: true))
        }
        let total = rows.reduce(Int64(0)) { $0 + $1.balanceFen }
        context.console.print(pad("total", 30) + pad(Money.string(fen: rows.reduce(0) { $0 + $1.debitFen }), 18, left: true)
            + pad(Money.string(fen: rows.reduce(0) { $0 + $1.creditFen }), 18, left: true) + pad(Money.string(fen: total), 18, left: true))
        if total != 0 {
            context.console.error("The ledger does NOT balance: total \(Money.string(fen: total)).")
            throw ExitCode(1)
        }
    }
}

/// When the server starts (after migrations), finish payments left pending by a crash
/// (the provider answers their keys as they ended).
enum PendingPaymentRecovery {
    static func run(_ application: Application) async throws {
        do {
            try await application.servicing.repayments.resumePending(loanID: nil, except: nil)
        } catch {
            application.logger.warning("Pending payments not resumed at start-up: \(error)")
        }
    }
}
