import Foundation

/// The level payment of an equal-installment loan: A = P·r / (1 − (1 + r)^−n), rounded half-even to a multiple
/// of the installment rounding.
///
/// Fast and exact: a Double estimate decides the rounding whenever A is clearly away from a rounding midpoint
/// (relative error of the estimate is about 2e-15, the margin 1e-12); when it is not, the comparison with the
/// midpoint is redone in exact integer arithmetic (A is rational: P·a·B^n / (C·(B^n − C^n)) with r = a/C,
/// B = C + a), so exact ties go to the even multiple.
enum LevelPayment {
    static func fen(principalFen: Int64, rate: ExactMonthlyRate, periods n: Int, roundingFen q: Int64) -> Int64 {
        precondition(principalFen >= 0 && n >= 1 && q >= 1)
        let p = UInt64(principalFen)
        if rate.isZero {
            return Int64(FenArithmetic.multiplyDivideRoundingHalfEven(p, 1, UInt64(n) * UInt64(q))) * q
        }
        let r = rate.approximate
        let annuityFactor = -expm1(-Double(n) * log1p(r))  // 1 − (1+r)^−n without cancellation
        let estimate = Double(principalFen) * r / annuityFactor / Double(q)  // in multiples of q
        let j = estimate.rounded(.down)
        let distanceFromMidpoint = abs(estimate - j - 0.5)
        // The estimate's relative error is about 10 × 2⁻⁵³ (expm1/log1p avoid cancellation); the margin is ~500 times that.
        if distanceFromMidpoint > 1e-12 * estimate + 1e-9 {
            return Int64(estimate.rounded(.toNearestOrEven)) * q
        }
        // Near a midpoint (j + ½)·q: decide exactly.
        // A ≥ (j+½)·q  ⇔  2·P·a·B^n ≥ (2j+1)·q·C·(B^n − C^n)
        let jj = UInt64(j)
        let a = rate.numerator
        let c = rate.denominator
        let bPower = ExactNatural.power(c + a, n)
        var left = bPower.multiplied(by: 2)
        left.multiply(by: p)
        left.multiply(by: a)
        var right = bPower
        right.subtract(ExactNatural.power(c, n))
        right.multiply(by: 2 * jj + 1)
        right.multiply(by: UInt64(q))
        right.multiply(by: c)
        if left > right { return Int64(jj + 1) * q }
        if left < right { return Int64(jj) * q }
        return Int64(jj % 2 == 0 ? jj : jj + 1) * q
    }
}
