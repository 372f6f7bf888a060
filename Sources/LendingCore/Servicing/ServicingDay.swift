import Foundation

/// What happened to one loan when the business date moved to a new day.
public enum ServicingEvent: Sendable, Equatable {
    /// The installment fell due: its interest became receivable.
    case interestFellDue(installment: Int, interestFen: Int64)
    /// The installment was not paid by the end of its due date.
    case turnedOverdue(installment: Int)
    /// One day of penalty interest on the installment's unpaid principal.
    case penaltyAccrued(installment: Int, date: CivilDate, penaltyFen: Int64)
}

/// The end-of-day rules for one loan, as a pure function of its installments and the day being opened.
///
/// Opening business date D, for each installment not yet paid:
/// 1. due date ≤ D and interest not yet recognized → its interest becomes receivable (status `due`);
/// 2. due date < D and not fully paid → `overdue` (it was not paid by the end of its due date);
/// 3. overdue with unpaid principal → one day of penalty interest for each day after the due date up to D that has
///    not been accrued yet (`penaltyAccruedThrough` makes running the same day twice change nothing).
public enum ServicingDay {
    public static func open(
        _ date: CivilDate, installments: [InstallmentPosition], annualRatePercent: Decimal
    ) -> (installments: [InstallmentPosition], events: [ServicingEvent]) {
        var events: [ServicingEvent] = []
        var result: [InstallmentPosition] = []
        for var p in installments.sorted(by: { $0.number < $1.number }) {
            defer { result.append(p) }
            guard p.dueDate <= date, p.status != .paid || !p.interestRecognized else { continue }
            if !p.interestRecognized {
                p.interestRecognized = true
                events.append(.interestFellDue(installment: p.number, interestFen: p.interestFen))
                if p.status == .scheduled { p.status = p.isSettled ? .paid : .due }
            }
            guard !p.isSettled else { continue }
            if p.dueDate < date, p.status != .overdue {
                p.status = .overdue
                events.append(.turnedOverdue(installment: p.number))
            }
            guard p.status == .overdue else { continue }
            var day = max(p.dueDate, p.penaltyAccruedThrough ?? p.dueDate).adding(days: 1)
            while day <= date {
                let fen = PenaltyInterest.dailyFen(
                    overduePrincipalFen: p.outstandingPrincipalFen, annualRatePercent: annualRatePercent)
                if fen > 0 {
                    p.penaltyFen += fen
                    events.append(.penaltyAccrued(installment: p.number, date: day, penaltyFen: fen))
                }
                day = day.adding(days: 1)
            }
            p.penaltyAccruedThrough = date
        }
        return (result, events)
    }
}
