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
}
