import Foundation

/// One row of a repayment plan. Amounts are kept in fen (exact integers) and offered as `Decimal`.
public struct ScheduledInstallment: Sendable, Equatable {
    public var number: Int
    public var dueDate: CivilDate
    public var principalFen: Int64
    public var interestFen: Int64
    public var remainingPrincipalFen: Int64

    public init(number: Int, dueDate: CivilDate, principalFen: Int64, interestFen: Int64, remainingPrincipalFen: Int64)
    {
        self.number = number
        self.dueDate = dueDate
        self.principalFen = principalFen
        self.interestFen = interestFen
        self.remainingPrincipalFen = remainingPrincipalFen
    }

    /// Amounts with more than 2 decimals are rounded half-even to the fen.
    public init(number: Int, dueDate: CivilDate, principal: Decimal, interest: Decimal, remainingPrincipal: Decimal) {
        func fen(_ d: Decimal) -> Int64 { Money.fen(exactly: Money.roundHalfEven(d)) ?? 0 }
        self.init(
            number: number, dueDate: dueDate, principalFen: fen(principal), interestFen: fen(interest),
            remainingPrincipalFen: fen(remainingPrincipal))
    }

    public var paymentFen: Int64 { principalFen + interestFen }
    /// Principal repaid by this installment.
    public var principal: Decimal { Money.decimal(fen: principalFen) }
    /// Interest of this installment.
    public var interest: Decimal { Money.decimal(fen: interestFen) }
    /// What is due: principal + interest.
    public var payment: Decimal { Money.decimal(fen: paymentFen) }
    /// Principal still owed after this installment is paid.
    public var remainingPrincipal: Decimal { Money.decimal(fen: remainingPrincipalFen) }
}

/// A loan's full repayment plan with its totals and APR (immutable: the totals always match the rows).
public struct RepaymentSchedule: Sendable, Equatable {
    public let terms: LoanTerms
    public let installments: [ScheduledInstallment]
    public let totalInterestFen: Int64
    public let totalPaymentFen: Int64
    /// APR in hundredths of a percent (1268 means 12.68%).
    public let aprHundredthsOfPercent: Int64

    public init(terms: LoanTerms, installments: [ScheduledInstallment], aprHundredthsOfPercent: Int64) {
        self.terms = terms
        self.installments = installments
        self.totalInterestFen = installments.reduce(0) { $0 + $1.interestFen }
        self.totalPaymentFen = installments.reduce(0) { $0 + $1.paymentFen }
        self.aprHundredthsOfPercent = aprHundredthsOfPercent
    }

    public var totalInterest: Decimal { Money.decimal(fen: totalInterestFen) }
    public var totalPayment: Decimal { Money.decimal(fen: totalPaymentFen) }
    /// 年化利率 in percent with 2 decimals (IRR method, upfront fee included).
    public var apr: Decimal { Decimal(sign: .plus, exponent: -2, significand: Decimal(aprHundredthsOfPercent)) }
}
