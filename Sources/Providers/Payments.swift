import Foundation
import LendingCore

/// How a payment instruction ended at the payments provider.
public enum PaymentOutcome: String, Sendable, Codable, CaseIterable {
    /// Money moved; `amountFen` says how much.
    case succeeded
    /// Refused (insufficient funds, card blocked, ...): no money moved.
    case failed
    /// No answer in time: the money may or may not have moved. Ask again with the same idempotency key.
    case timedOut = "timed_out"
}

/// The provider's answer to one payout or collection.
public struct PaymentResult: Sendable, Equatable, Codable {
    public var outcome: PaymentOutcome
    /// The provider's own reference for the instruction (nil when it never answered).
    public var providerReference: String?
    /// Money actually moved, in fen (a collection allowed to be partial may move less than asked).
    public var amountFen: Int64
    /// Why it failed, in the provider's words.
    public var failureCode: String?

    public init(outcome: PaymentOutcome, providerReference: String?, amountFen: Int64, failureCode: String? = nil) {
        self.outcome = outcome
        self.providerReference = providerReference
        self.amountFen = amountFen
        self.failureCode = failureCode
    }
}

/// Payout to and collection from a borrower's verified debit card (放款 and 代扣).
///
/// Every instruction carries an idempotency key: the provider executes a key at most once and answers a repeated
/// key with the first answer (a timed-out instruction asked again answers how it really ended). Callers derive keys
/// deterministically from what they pay (application, payment), so a retry after a crash can never pay twice.
public protocol PaymentGateway: OutsideService {
    /// Pays `amountFen` to `card`.
    func payout(to card: BankCardNumber, amountFen: Int64, idempotencyKey: String) async throws -> PaymentResult

    /// Collects `amountFen` from `card`; with `allowPartial` it takes what the card can pay (auto-debit).
    func collect(from card: BankCardNumber, amountFen: Int64, idempotencyKey: String, allowPartial: Bool) async throws
        -> PaymentResult

    /// How the instruction with this key ended, or nil when the provider never received it. Asked before any
    /// retry of an instruction whose answer was lost, so nothing is sent twice on a guess.
    func status(idempotencyKey: String) async throws -> PaymentResult?

    /// Everything the provider executed (its statement): what reconciliation compares with the bank's ledger.
    /// A real provider's statement file is read through the same call.
    func statement() async throws -> [PaymentStatementLine]
}

/// One executed instruction on the provider's statement.
public struct PaymentStatementLine: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Codable {
        case payout
        case collect
    }

    public var idempotencyKey: String
    public var direction: Direction
    /// Money that actually moved, in fen (0 for a refused instruction).
    public var amountFen: Int64
    public var outcome: PaymentOutcome
    public var reference: String?

    public init(idempotencyKey: String, direction: Direction, amountFen: Int64, outcome: PaymentOutcome, reference: String?) {
        self.idempotencyKey = idempotencyKey
        self.direction = direction
        self.amountFen = amountFen
        self.outcome = outcome
        self.reference = reference
    }
}
