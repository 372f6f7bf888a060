import Fluent
import Foundation
import LendingCore
import SQLKit

/// A loan's money under its lock: every change to a loan's installments, status or ledger goes through
/// `LoanBook.locked`, which runs in one transaction that first bumps the loan's `version` row. On PostgreSQL that
/// UPDATE holds the row lock until commit, so a second payment or end of day for the same loan waits and then
/// reads what the first committed; on SQLite the write takes the database's write lock. Either way two writers
/// never allocate against the same stale balances.
struct LoanBook {
    let tx: Database
    let loan: Loan
    var installments: [LoanInstallment]

    var positions: [InstallmentPosition] {
        get throws { try installments.map { try $0.position } }
    }

    /// Runs `body` with the loan locked, retrying a few times when the database reports a lock conflict.
    static func locked<T: Sendable>(
        _ loanID: UUID, on db: Database, _ body: @escaping @Sendable (inout LoanBook) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await db.writeTransaction { tx in
                    try await bumpVersion(loanID, on: tx)
                    guard let loan = try await Loan.find(loanID, on: tx) else { throw APIError.notFound("loan") }
                    let rows = try await LoanInstallment.query(on: tx).filter(\.$loanID == loanID).sort(\.$number).all()
                    var book = LoanBook(tx: tx, loan: loan, installments: rows)
                    return try await body(&book)
                }
            } catch let error as APIError {
                throw error
            } catch {
                attempt += 1
                guard attempt < 8, Self.isTransient(error) else { throw error }
                try await Task.sleep(nanoseconds: UInt64(20_000_000 * attempt))
            }
        }
    }

    static func bumpVersion(_ loanID: UUID, on db: Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.update(Loan.schema)
            .set(SQLIdentifier("version"), to: SQLRaw("version + 1"))
            .where(SQLIdentifier("id"), .equal, SQLBind(loanID))
            .run()
    }

    /// What `writeTransaction` already retries (lock waits, deadlocks, serialization failures), and also a
    /// clash on a unique key or an aborted transaction: the rerun then reads the row the other writer made.
    static func isTransient(_ error: Error) -> Bool {
        if DatabaseContention.isTransient(error) { return true }
        let text = String(reflecting: error).lowercased()
        return text.contains("locked") || text.contains("unique") || text.contains("duplicate") || text.contains("constraint")
            || text.contains("aborted") || text.contains("25p02")
    }

    /// Writes `positions` back: changed rows updated, new numbers created, numbers no longer in the plan deleted.
    mutating func save(_ positions: [InstallmentPosition]) async throws {
        let loanID = try loan.requireID()
        var byNumber = Dictionary(uniqueKeysWithValues: installments.map { ($0.number, $0) })
        var kept: [LoanInstallment] = []
        var created: [LoanInstallment] = []
        for position in positions.sorted(by: { $0.number < $1.number }) {
            if let row = byNumber.removeValue(forKey: position.number) {
                if try row.position != position {
                    row.update(from: position)
                    try await row.save(on: tx)
                }
                kept.append(row)
            } else {
                let row = LoanInstallment(loanID: loanID, position: position)
                created.append(row)
                kept.append(row)
            }
        }
        for row in byNumber.values { try await row.delete(on: tx) }
        try await LoanInstallment.create(created, on: tx)
        installments = kept
    }

    /// Moves the loan to the status its installments call for (through the guarded transitions).
    /// Returns the old status when it changed; the change's notification (paid off) is queued in the same transaction.
    mutating func updateStatus(on date: CivilDate, services: YidaiServices) async throws -> LoanStatus? {
        let current = try loan.loanStatus
        let target = LoanStatusMachine.status(for: try positions, current: current)
        guard target != current else { return nil }
        try withFieldErrors(status: .conflict) { try LoanStatusMachine.transition(from: current, to: target) }
        loan.status = target.rawValue
        if target.isClosed { loan.closedOn = date.iso }
        try await loan.save(on: tx)
        try await LoanCounts.move(managerCode: loan.managerCode, from: current, to: target, on: tx)
        try await Milestones.loanMoved(loan, to: target, on: tx, services: services)
        return current
    }
}
