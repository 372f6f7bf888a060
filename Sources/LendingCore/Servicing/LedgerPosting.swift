import Foundation

/// The loan ledger's accounts. Balances are debits − credits: assets (receivables, settlement) are normally
/// positive, income normally negative; over all accounts the balances always sum to zero.
///
/// - `loans_receivable`: principal lent and not yet repaid (asset).
/// - `interest_receivable`: contract interest that has fallen due (or accrued on a prepayment) and is not yet paid.
/// - `interest_income`: contract interest earned.
/// - `penalty_interest_receivable`: penalty interest accrued on overdue principal and not yet paid.
/// - `penalty_interest_income`: penalty interest earned.
/// - `settlement`: the bank's clearing account with the payments provider: credited when money is paid out to a
///   card, debited when money is collected from one.
public enum LedgerAccount: String, Sendable, Codable, CaseIterable {
    case loansReceivable = "loans_receivable"
    case interestReceivable = "interest_receivable"
    case interestIncome = "interest_income"
    case penaltyInterestReceivable = "penalty_interest_receivable"
    case penaltyInterestIncome = "penalty_interest_income"
    case settlement
}

/// What kind of event a journal entry records.
public enum PostingKind: String, Sendable, Codable, CaseIterable {
    case disbursement
    case interestDue = "interest_due"
    case penaltyAccrual = "penalty_accrual"
    case prepaymentInterest = "prepayment_interest"
    case repayment
}

public struct PostingLine: Sendable, Equatable {
    public var account: LedgerAccount
    public var debitFen: Int64
    public var creditFen: Int64

    public static func debit(_ account: LedgerAccount, _ fen: Int64) -> PostingLine {
        PostingLine(account: account, debitFen: fen, creditFen: 0)
    }

    public static func credit(_ account: LedgerAccount, _ fen: Int64) -> PostingLine {
        PostingLine(account: account, debitFen: 0, creditFen: fen)
    }
}

/// A balanced journal entry before it is stored: debits equal credits, no line is zero or negative.
public struct JournalPosting: Sendable, Equatable {
    public var kind: PostingKind
    public var lines: [PostingLine]

    public var debitFen: Int64 { lines.reduce(0) { $0 + $1.debitFen } }
    public var creditFen: Int64 { lines.reduce(0) { $0 + $1.creditFen } }
    public var isBalanced: Bool {
        debitFen == creditFen && !lines.isEmpty
            && lines.allSatisfy { ($0.debitFen > 0) != ($0.creditFen > 0) && $0.debitFen >= 0 && $0.creditFen >= 0 }
    }

    /// Drops zero lines; nil when nothing is left to post.
    init?(kind: PostingKind, lines: [PostingLine]) {
        let kept = lines.filter { $0.debitFen != 0 || $0.creditFen != 0 }
        guard !kept.isEmpty else { return nil }
        self.kind = kind
        self.lines = kept
    }
}

/// The posting rules: each money event as one balanced entry.
///
/// | event | debit | credit |
/// |---|---|---|
/// | disbursement | loans_receivable | settlement |
/// | an installment falls due | interest_receivable (its interest) | interest_income |
/// | a day of penalty interest | penalty_interest_receivable | penalty_interest_income |
/// | interest accrued to a prepayment date | interest_receivable | interest_income |
/// | money collected | settlement (the total) | penalty_interest_receivable, interest_receivable, loans_receivable (as allocated) |
///
/// Principal stays in loans_receivable until it is paid, whether due or not, so loans_receivable is always the
/// principal the borrowers still owe; interest is income when it falls due (not before), penalty day by day.
public enum PostingRules {
    public static func disbursement(principalFen: Int64) -> JournalPosting? {
        JournalPosting(kind: .disbursement, lines: [.debit(.loansReceivable, principalFen), .credit(.settlement, principalFen)])
    }

    public static func interestFallsDue(interestFen: Int64) -> JournalPosting? {
        JournalPosting(kind: .interestDue, lines: [.debit(.interestReceivable, interestFen), .credit(.interestIncome, interestFen)])
    }

    public static func penaltyAccrues(penaltyFen: Int64) -> JournalPosting? {
        JournalPosting(
            kind: .penaltyAccrual,
            lines: [.debit(.penaltyInterestReceivable, penaltyFen), .credit(.penaltyInterestIncome, penaltyFen)])
    }

    public static func prepaymentInterest(interestFen: Int64) -> JournalPosting? {
        JournalPosting(
            kind: .prepaymentInterest, lines: [.debit(.interestReceivable, interestFen), .credit(.interestIncome, interestFen)])
    }

    public static func collection(penaltyFen: Int64, interestFen: Int64, principalFen: Int64) -> JournalPosting? {
        JournalPosting(
            kind: .repayment,
            lines: [
                .debit(.settlement, penaltyFen + interestFen + principalFen),
                .credit(.penaltyInterestReceivable, penaltyFen),
                .credit(.interestReceivable, interestFen),
                .credit(.loansReceivable, principalFen),
            ])
    }

    /// Balances per account (debits − credits) of a set of postings; they always sum to zero.
    public static func trialBalance(_ postings: [JournalPosting]) -> [LedgerAccount: Int64] {
        var balances: [LedgerAccount: Int64] = [:]
        for line in postings.flatMap(\.lines) { balances[line.account, default: 0] += line.debitFen - line.creditFen }
        return balances
    }
}
