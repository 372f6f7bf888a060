import Foundation

/// Where one installment of a loan stands.
public enum InstallmentStatus: String, Sendable, Codable, CaseIterable {
    /// Not yet due.
    case scheduled
    /// Due today (its due date is the business date) and not fully paid.
    case due
    /// Past its due date and not fully paid: penalty interest accrues on its unpaid principal.
    case overdue
    /// Fully paid.
    case paid
}

/// One installment of a disbursed loan: what the plan asks (principal, interest), the penalty accrued on it, and what
/// has been paid of each part. Amounts in fen.
public struct InstallmentPosition: Sendable, Equatable {
    public var number: Int
    public var dueDate: CivilDate
    public var principalFen: Int64
    public var interestFen: Int64
    public var penaltyFen: Int64
    public var paidPrincipalFen: Int64
    public var paidInterestFen: Int64
    public var paidPenaltyFen: Int64
    /// The interest became receivable (it fell due, or was paid off): posted to the ledger once.
    public var interestRecognized: Bool
    /// The last business date whose penalty interest has been accrued.
    public var penaltyAccruedThrough: CivilDate?
    public var status: InstallmentStatus
    public var paidOn: CivilDate?

    public init(
        number: Int, dueDate: CivilDate, principalFen: Int64, interestFen: Int64, penaltyFen: Int64 = 0,
        paidPrincipalFen: Int64 = 0, paidInterestFen: Int64 = 0, paidPenaltyFen: Int64 = 0,
        interestRecognized: Bool = false, penaltyAccruedThrough: CivilDate? = nil,
        status: InstallmentStatus = .scheduled, paidOn: CivilDate? = nil
    ) {
        self.number = number
        self.dueDate = dueDate
        self.principalFen = principalFen
        self.interestFen = interestFen
        self.penaltyFen = penaltyFen
        self.paidPrincipalFen = paidPrincipalFen
        self.paidInterestFen = paidInterestFen
        self.paidPenaltyFen = paidPenaltyFen
        self.interestRecognized = interestRecognized
        self.penaltyAccruedThrough = penaltyAccruedThrough
        self.status = status
        self.paidOn = paidOn
    }

    /// A new installment from a row of the engine's repayment plan.
    public init(_ row: ScheduledInstallment) {
        self.init(number: row.number, dueDate: row.dueDate, principalFen: row.principalFen, interestFen: row.interestFen)
    }

    public var outstandingPrincipalFen: Int64 { principalFen - paidPrincipalFen }
    public var outstandingInterestFen: Int64 { interestFen - paidInterestFen }
    public var outstandingPenaltyFen: Int64 { penaltyFen - paidPenaltyFen }
    public var outstandingFen: Int64 { outstandingPrincipalFen + outstandingInterestFen + outstandingPenaltyFen }
    public var isSettled: Bool { outstandingFen == 0 }
    public var paidFen: Int64 { paidPrincipalFen + paidInterestFen + paidPenaltyFen }

    /// Fallen due on `date`: the borrower owes it now.
    public func hasFallenDue(on date: CivilDate) -> Bool { dueDate <= date }
}

extension Array where Element == InstallmentPosition {
    /// What the borrower owes on `date`: everything of the installments that have fallen due, penalty included.
    public func owedFen(on date: CivilDate) -> Int64 {
        filter { $0.hasFallenDue(on: date) }.reduce(0) { $0 + $1.outstandingFen }
    }

    /// Principal of the installments not yet due on `date` (what an early payment can repay).
    public func futurePrincipalFen(on date: CivilDate) -> Int64 {
        filter { !$0.hasFallenDue(on: date) }.reduce(0) { $0 + $1.outstandingPrincipalFen }
    }

    /// All principal still owed, due or not.
    public var outstandingPrincipalFen: Int64 { reduce(0) { $0 + $1.outstandingPrincipalFen } }
}
