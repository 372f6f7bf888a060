import Crypto
import Fluent
import Foundation
import LendingCore
import Providers

/// The payments sandbox: card accounts with balances in its own tables, backed by the app's database so that a
/// restarted server sees the same accounts. Each card can be told to fail or to time out (`mode`). An idempotency
/// key executes at most once; asking again answers how it really ended. Never used in production.
struct SandboxPaymentGateway: PaymentGateway {
    enum Mode: String, CaseIterable, Sendable {
        /// Payouts credit the card; collections debit it while the balance lasts.
        case normal
        /// Every new instruction is refused (no money moves).
        case fail
        /// Every new instruction is executed but answered `timed_out`, as when the provider's answer is lost.
        case timeout
    }

    let db: Database
    let clock: AppClock

    var serviceName: String { "payments" }
    var isSandbox: Bool { true }

    /// The sandbox keeps no card numbers in clear: accounts are keyed by a hash of the number.
    static func cardKey(_ card: BankCardNumber) -> String {
        Hex.string(SHA256.hash(data: Data(("yidai-sandbox-card:" + card.value).utf8)))
    }

    func payout(to card: BankCardNumber, amountFen: Int64, idempotencyKey: String) async throws -> PaymentResult {
        try await execute("payout", card: card, amountFen: amountFen, key: idempotencyKey, allowPartial: false)
    }

    func collect(from card: BankCardNumber, amountFen: Int64, idempotencyKey: String, allowPartial: Bool) async throws
        -> PaymentResult
    {
        try await execute("collect", card: card, amountFen: amountFen, key: idempotencyKey, allowPartial: allowPartial)
    }

    private func execute(_ direction: String, card: BankCardNumber, amountFen: Int64, key: String, allowPartial: Bool)
        async throws -> PaymentResult
    {
        var attempt = 0
        while true {
            do {
                return try await executeOnce(direction, card: card, amountFen: amountFen, key: key, allowPartial: allowPartial)
            } catch {
                // The sandbox shares the app's database: a busy database is retried, not reported as an outage.
                attempt += 1
                guard attempt < 10, LoanBook.isTransient(error) else { throw error }
                try await Task.sleep(nanoseconds: UInt64(15_000_000 * attempt))
            }
        }
    }

    private func executeOnce(_ direction: String, card: BankCardNumber, amountFen: Int64, key: String, allowPartial: Bool)
        async throws -> PaymentResult
    {
        if let done = try await SandboxPaymentInstruction.query(on: db).filter(\.$idempotencyKey == key).first() {
            return try Self.result(done)
        }
        let cardKey = Self.cardKey(card)
        let now = clock.now()
        let outcome: (PaymentResult, Mode)
        do {
            outcome = try await db.writeTransaction { tx in
                let account = try await Self.account(cardKey: cardKey, masked: card.masked, on: tx)
                let mode: Mode = try StoredValues.decode(account.mode, "sandbox card mode")
                var moved: Int64 = 0
                var failure: String?
                if mode == .fail {
                    failure = "card_refused"
                } else if direction == "payout" {
                    moved = amountFen
                } else {
                    moved = allowPartial ? min(account.balanceFen, amountFen) : (account.balanceFen >= amountFen ? amountFen : 0)
                    if moved <= 0 {
                        moved = 0
                        failure = "insufficient_funds"
                    }
                }
                account.balanceFen += direction == "payout" ? moved : -moved
                try await account.save(on: tx)
                let instruction = SandboxPaymentInstruction()
                instruction.idempotencyKey = key
                instruction.cardKey = cardKey
                instruction.direction = direction
                instruction.requestedFen = amountFen
                instruction.amountFen = moved
                instruction.outcome = failure == nil ? PaymentOutcome.succeeded.rawValue : PaymentOutcome.failed.rawValue
                instruction.reference = "SBX-" + RandomID.uuid().uuidString.prefix(13).replacingOccurrences(of: "-", with: "").uppercased()
                instruction.failureCode = failure
                instruction.executedAt = now
                try await instruction.create(on: tx)
                return (try Self.result(instruction), mode)
            }
        } catch {
            // The same key executed concurrently: answer as it ended.
            if let done = try await SandboxPaymentInstruction.query(on: db).filter(\.$idempotencyKey == key).first() {
                return try Self.result(done)
            }
            throw error
        }
        if outcome.1 == .timeout { return PaymentResult(outcome: .timedOut, providerReference: nil, amountFen: 0) }
        return outcome.0
    }

    func status(idempotencyKey: String) async throws -> PaymentResult? {
        let done = try await SandboxPaymentInstruction.query(on: db).filter(\.$idempotencyKey == idempotencyKey).first()
        return try done.map { try Self.result($0) }
    }

    func statement() async throws -> [PaymentStatementLine] {
        try await SandboxPaymentInstruction.query(on: db).sort(\.$executedAt).all().map {
            PaymentStatementLine(
                idempotencyKey: $0.idempotencyKey, direction: $0.direction == "payout" ? .payout : .collect,
                amountFen: $0.amountFen, outcome: try StoredValues.decode($0.outcome, "sandbox outcome"),
                reference: $0.reference)
        }
    }

    static func result(_ instruction: SandboxPaymentInstruction) throws -> PaymentResult {
        PaymentResult(
            outcome: try StoredValues.decode(instruction.outcome, "sandbox outcome"),
            providerReference: instruction.reference,
            amountFen: instruction.amountFen, failureCode: instruction.failureCode)
    }

    static func account(cardKey: String, masked: String, on db: Database) async throws -> SandboxPaymentAccount {
        if let account = try await SandboxPaymentAccount.query(on: db).filter(\.$cardKey == cardKey).first() { return account }
        let account = SandboxPaymentAccount()
        account.cardKey = cardKey
        account.cardMasked = masked
        account.balanceFen = 0
        account.mode = Mode.normal.rawValue
        try await db.writeTransaction { tx in try await account.create(on: tx) }
        return account
    }

    /// Sandbox control: set a card's balance and/or mode. Returns the account.
    func configure(card: BankCardNumber, balanceFen: Int64?, mode: Mode?) async throws -> SandboxPaymentAccount {
        try await db.writeTransaction { tx in
            let account = try await Self.account(cardKey: Self.cardKey(card), masked: card.masked, on: tx)
            if let balanceFen { account.balanceFen = balanceFen }
            if let mode { account.mode = mode.rawValue }
            try await account.save(on: tx)
            return account
        }
    }

    func account(card: BankCardNumber) async throws -> SandboxPaymentAccount {
        try await Self.account(cardKey: Self.cardKey(card), masked: card.masked, on: db)
    }
}
