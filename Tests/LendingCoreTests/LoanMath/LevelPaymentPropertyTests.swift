import Foundation
import PropertyBased
import Testing

@testable import LendingCore

@Suite("The level payment is the exact annuity rounded half-even")
struct LevelPaymentPropertyTests {
    /// Exact check, in integers, that k·q is the multiple of q nearest to A = P·a·Bⁿ / (C·(Bⁿ − Cⁿ)), r = a/C, B = C + a:
    /// (2k − 1)·q·C·(Bⁿ − Cⁿ) ≤ 2·P·a·Bⁿ ≤ (2k + 1)·q·C·(Bⁿ − Cⁿ).
    static func isNearestMultiple(_ payment: Int64, principal: Int64, rate: ExactMonthlyRate, n: Int, q: Int64) -> Bool
    {
        guard payment % q == 0 else { return false }
        let k = UInt64(payment / q)
        let (a, c) = (rate.numerator, rate.denominator)
        var annuity = ExactNatural.power(c + a, n).multiplied(by: 2)
        annuity.multiply(by: UInt64(principal))
        annuity.multiply(by: a)
        var unit = ExactNatural.power(c + a, n)
        unit.subtract(ExactNatural.power(c, n))
        unit.multiply(by: UInt64(q))
        unit.multiply(by: c)
        let above = unit.multiplied(by: 2 * k + 1)
        guard annuity <= above else { return false }
        if k == 0 { return true }
        return unit.multiplied(by: 2 * k - 1) <= annuity
    }

    @Test("for random principals, rates with up to 4 decimals, terms and roundings")
    func nearestMultiple() async {
        await propertyCheck(
            count: 300, input: Gen.int64(in: 1...10_000_000_000), Gen.int(in: 1...360_000), Gen.int(in: 1...360),
            Gen.element(of: [Int64(1), 10, 100, 10_000]).map { $0 ?? 1 }
        ) { principal, rateTenThousandths, n, q in
            let rate = ExactMonthlyRate(annualPercentNumerator: UInt64(rateTenThousandths), scale: 10_000)
            let payment = LevelPayment.fen(principalFen: principal, rate: rate, periods: n, roundingFen: q)
            #expect(Self.isNearestMultiple(payment, principal: principal, rate: rate, n: n, q: q))
        }
    }

    @Test("the exact check itself rejects a payment one step off")
    func checkCanFail() {
        let rate = ExactMonthlyRate(annualPercentNumerator: 49, scale: 10)
        let payment = LevelPayment.fen(principalFen: 100_000_000, rate: rate, periods: 360, roundingFen: 1)
        #expect(payment == 530_727)
        #expect(Self.isNearestMultiple(payment, principal: 100_000_000, rate: rate, n: 360, q: 1))
        #expect(!Self.isNearestMultiple(payment + 1, principal: 100_000_000, rate: rate, n: 360, q: 1))
        #expect(!Self.isNearestMultiple(payment - 1, principal: 100_000_000, rate: rate, n: 360, q: 1))
    }
}

@Suite("The APR is the exact IRR rounded half-even")
struct AprExactnessPropertyTests {
    @Test(
        "the present value at the rounded APR's lower boundary is at least, and at its upper boundary at most, the amount received"
    )
    func boundariesBracketTheRoot() async {
        await propertyCheck(
            count: 120, input: Gen.int64(in: 100_000...10_000_000_000), Gen.int(in: 0...3600), Gen.int(in: 1...360),
            Gen<RepaymentMethod>.case, Gen.int(in: 0...300)
        ) { fen, rate, n, method, feePermille in
            let feeFen = fen * Int64(feePermille) / 1000
            guard
                let s = try? LoanCalculator.schedule(for: LoanPropertyTests.terms(fen, rate, n, method, feeFen: feeFen))
            else {
                Issue.record("a valid loan was refused")
                return
            }
            let u = s.aprHundredthsOfPercent
            let payments = s.installments.map(\.paymentFen)
            let net = fen - feeFen
            if u > 0 {
                // Root at or above u − ½ (exactly on it only if u is even).
                let below = AnnualPercentageRate.exactSignOfPresentValueMinusNet(
                    atAprBoundaryAbove: UInt64(u - 1), netFen: net, paymentsFen: payments)
                #expect(below > 0 || (below == 0 && u % 2 == 0))
            }
            let above = AnnualPercentageRate.exactSignOfPresentValueMinusNet(
                atAprBoundaryAbove: UInt64(u), netFen: net, paymentsFen: payments)
            #expect(above < 0 || (above == 0 && u % 2 == 0))
        }
    }
}
