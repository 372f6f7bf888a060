import Fluent
import Foundation
import LendingCore
import SQLKit

/// The double-entry ledger: stores balanced postings once per reference, and sums balances per account.
struct Ledger {
    let db: Database
    let clock: AppClock

    /// Posts `posting` under `reference` unless that reference was posted before (then returns false).
    /// Runs inside the caller's transaction, so the entry commits with the change it records.
    @discardableResult
    func post(_ posting: JournalPosting?, reference: String, loanID: UUID?, businessDate: CivilDate, memo: String)
        async throws -> Bool
    {
        guard let posting else { return false }
        guard posting.isBalanced else {
            throw APIError(.internalServerError, code: "internal_error", message: "Refused an unbalanced journal entry.")
        }
        if try await JournalEntry.query(on: db).filter(\.$reference == reference).count() > 0 { return false }
        let entry = JournalEntry()
        entry.id = RandomID.uuid()
        entry.reference = reference
        entry.kind = posting.kind.rawValue
        entry.loanID = loanID
        entry.businessDate = businessDate.iso
        entry.memo = memo
        entry.postedAt = clock.now()
        try await entry.create(on: db)
        // Every line in one INSERT.
        try await posting.lines.map { line in
            let row = JournalLine()
            row.id = RandomID.uuid()
            row.entryID = entry.id!
            row.loanID = loanID
            row.account = line.account.rawValue
            row.debitFen = line.debitFen
            row.creditFen = line.creditFen
            return row
        }.create(on: db)
        return true
    }

    struct AccountBalance: Sendable, Equatable {
        let account: String
        let debitFen: Int64
        let creditFen: Int64
        var balanceFen: Int64 { debitFen - creditFen }
    }

    /// Debits, credits and balance (debits − credits) per account, every known account listed; optionally one loan's.
    func trialBalance(loanID: UUID? = nil) async throws -> [AccountBalance] {
        var query = JournalLine.query(on: db)
        if let loanID { query = query.filter(\.$loanID == loanID) }
        var sums: [String: (Int64, Int64)] = [:]
        for line in try await query.all() {
            let current = sums[line.account] ?? (0, 0)
            sums[line.account] = (current.0 + line.debitFen, current.1 + line.creditFen)
        }
        let known = LedgerAccount.allCases.map(\.rawValue)
        let names = known + sums.keys.filter { !known.contains($0) }.sorted()
        return names.map { AccountBalance(account: $0, debitFen: sums[$0]?.0 ?? 0, creditFen: sums[$0]?.1 ?? 0) }
    }
}
