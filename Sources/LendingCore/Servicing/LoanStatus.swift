import Foundation

/// A disbursed loan's status (domain.md): `active → overdue ↔ active → paid_off`, or `written_off`.
public enum LoanStatus: String, Sendable, Codable, CaseIterable {
    case active
    case overdue
    case paidOff = "paid_off"
    case writtenOff = "written_off"

    public var isClosed: Bool { self == .paidOff || self == .writtenOff }

    public var labelZh: String {
        switch self {
        case .active: "还款中"
        case .overdue: "已逾期"
        case .paidOff: "已结清"
        case .writtenOff: "已核销"
        }
    }
}

/// Guarded loan status transitions: a closed loan never reopens, and nothing skips to a state it cannot reach.
public enum LoanStatusMachine {
    public static let allowedTransitions: [LoanStatus: Set<LoanStatus>] = [
        .active: [.overdue, .paidOff],
        .overdue: [.active, .paidOff, .writtenOff],
        .paidOff: [],
        .writtenOff: [],
    ]

    public static func canTransition(from: LoanStatus, to: LoanStatus) -> Bool {
        from == to || (allowedTransitions[from]?.contains(to) ?? false)
    }

    /// Returns `to` when the move is allowed (staying put is always allowed), throws otherwise.
    @discardableResult
    public static func transition(from: LoanStatus, to: LoanStatus) throws(FieldError) -> LoanStatus {
        guard canTransition(from: from, to: to) else {
            throw FieldError(
                field: "status", code: "invalid_transition",
                message: "A loan cannot go from \(from.rawValue) to \(to.rawValue).",
                messageZh: "贷款状态不能从「\(from.labelZh)」变为「\(to.labelZh)」。")
        }
        return to
    }

    /// The status the installments call for: paid off when nothing is owed any more, overdue while an installment
    /// past its due date is unpaid, active otherwise. A written-off loan stays written off.
    public static func status(for installments: [InstallmentPosition], current: LoanStatus) -> LoanStatus {
        if current.isClosed { return current }
        if installments.allSatisfy(\.isSettled) { return .paidOff }
        if installments.contains(where: { $0.status == .overdue && !$0.isSettled }) { return .overdue }
        return .active
    }
}
