import Foundation

/// How one payment was split over one installment.
public struct InstallmentAllocation: Sendable, Equatable {
    public var number: Int
    public var penaltyFen: Int64
    public var interestFen: Int64
    public var principalFen: Int64

    public init(number: Int, penaltyFen: Int64, interestFen: Int64, principalFen: Int64) {
        self.number = number
        self.penaltyFen = penaltyFen
        self.interestFen = interestFen
        self.principalFen = principalFen
    }

    public var totalFen: Int64 { penaltyFen + interestFen + principalFen }
}

/// The split of a payment over the installments it settles, and its totals per part.
public struct RepaymentAllocation: Sendable, Equatable {
    public var installments: [InstallmentAllocation]
    /// Left over when the payment was larger than what is owed (callers refuse such payments before collecting).
    public var unallocatedFen: Int64

    public var penaltyFen: Int64 { installments.reduce(0) { $0 + $1.penaltyFen } }
    public var interestFen: Int64 { installments.reduce(0) { $0 + $1.interestFen } }
    public var principalFen: Int64 { installments.reduce(0) { $0 + $1.principalFen } }
    public var allocatedFen: Int64 { penaltyFen + interestFen + principalFen }

    /// Splits `amountFen` over the installments that have fallen due on `date`: the oldest installment first, and
    /// within each installment penalty interest, then interest, then principal.
    public static func allocate(_ amountFen: Int64, over positions: [InstallmentPosition], on date: CivilDate)
        -> RepaymentAllocation
    {
        var left = max(0, amountFen)
        var parts: [InstallmentAllocation] = []
        for position in positions.sorted(by: { $0.number < $1.number }) where position.hasFallenDue(on: date) {
            guard left > 0 else { break }
            guard !position.isSettled else { continue }
            let penalty = min(left, position.outstandingPenaltyFen)
            left -= penalty
            let interest = min(left, position.outstandingInterestFen)
            left -= interest
            let principal = min(left, position.outstandingPrincipalFen)
            left -= principal
            parts.append(
                InstallmentAllocation(
                    number: position.number, penaltyFen: penalty, interestFen: interest, principalFen: principal))
        }
        return RepaymentAllocation(installments: parts, unallocatedFen: left)
    }

    /// The positions after this allocation is paid on `date` (fully paid installments become `paid`).
    public func applied(to positions: [InstallmentPosition], on date: CivilDate) -> [InstallmentPosition] {
        var byNumber = Dictionary(uniqueKeysWithValues: installments.map { ($0.number, $0) })
        return positions.map { position in
            guard let part = byNumber.removeValue(forKey: position.number) else { return position }
            var p = position
            p.paidPenaltyFen += part.penaltyFen
            p.paidInterestFen += part.interestFen
            p.paidPrincipalFen += part.principalFen
            if p.isSettled {
                p.status = .paid
                p.paidOn = date
            }
            return p
        }
    }
}
