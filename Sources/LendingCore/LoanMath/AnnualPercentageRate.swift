import Foundation

/// APR (年化利率) by the IRR method: the monthly rate i with
///     netDisbursed = Σ payment_k / (1 + i)^k,   apr = 12 × i × 100, rounded half-even to 0.01.
///
/// How it stays right and always ends:
/// - The root is unique and i ≥ 0 (payments are positive and sum to at least what was disbursed), bracketed by
///   [0, Σpayments / netDisbursed]; a safeguarded Newton iteration (bisection whenever Newton would leave the
///   bracket) runs at most 200 steps, and the bracket only shrinks.
/// - Double gives i to about n·2⁻⁵³·(1+i), far inside 1e-10. Only when the APR sits within a conservative margin of a
///   rounding boundary (x.xx5) is the side of the boundary decided exactly, by the sign of the net present value at
///   the boundary rate computed in integers. So the rounded APR is the correctly rounded APR of the exact IRR.
enum AnnualPercentageRate {
    /// The APR in hundredths of a percent (1200 means 12.00%).
    static func hundredthsOfPercent(netDisbursedFen: Int64, paymentsFen: [Int64], guess: Double) -> Int64 {
        let net = Double(netDisbursedFen)
        let total = paymentsFen.reduce(Int64(0), +)
        guard netDisbursedFen > 0, total > netDisbursedFen else { return 0 }  // zero rate, no fee: IRR is exactly 0
        let i = monthlyRate(net: net, payments: paymentsFen, total: Double(total), guess: guess)

        let x = 120_000 * i  // APR in hundredths of a percent, unrounded
        // Error of i from Double is about n·2⁻⁵³·(1+i); the margin is ~1000 times that, in hundredths of a percent.
        let margin = 1.5e-8 * Double(paymentsFen.count) * (1 + i) + 1e-6
        var low = Int64(max(0, (x - margin).rounded(.toNearestOrEven)))
        var high = Int64((x + margin).rounded(.toNearestOrEven))
        if low == high { return low }
        // Exact bisection on the integer APR u: the answer has its lower boundary (u − ½) below the root and its
        // upper boundary (u + ½) above it.
        while low < high {
            let mid = low + (high - low) / 2
            switch exactSignOfPresentValueMinusNet(
                atAprBoundaryAbove: UInt64(mid), netFen: netDisbursedFen, paymentsFen: paymentsFen)
            {
            case 1: low = mid + 1  // the root lies above the boundary mid + ½
            case -1: high = mid
            default: return mid % 2 == 0 ? mid : mid + 1  // exactly on the boundary: half-even
            }
        }
        return low
    }

    /// Monthly IRR in Double, converged to the last bits.
    static func monthlyRate(net: Double, payments: [Int64], total: Double, guess: Double) -> Double {
        var low = 0.0
        var high = total / net  // f(high) < 0: Σ p_k v^k < v·Σ p_k = net·total/(net+total) < net
        var i = guess > low && guess < high ? guess : (low + high) / 2
        for _ in 0..<200 {
            var value = 0.0
            var slope = 0.0
            let v = 1 / (1 + i)
            var vk = 1.0
            for (index, payment) in payments.enumerated() {
                vk *= v
                let term = Double(payment) * vk
                value += term
                slope += Double(index + 1) * term
            }
            let f = value - net
            if f == 0 { return i }
            if f > 0 { low = i } else { high = i }
            let derivative = -slope * v
            var next = derivative != 0 ? i - f / derivative : .nan
            if !(next > low && next < high) { next = (low + high) / 2 }  // also catches NaN
            let step = abs(next - i)
            i = next
            if step <= 1e-16 * (1 + i) || high - low <= 1e-16 * (1 + i) { break }
        }
        return i
    }

    /// Sign of PV(i_b) − net at the monthly rate i_b = (2u + 1) / 240000, the boundary between APR u and u + 1
    /// hundredths of a percent. With 1/(1+i_b) = E/D: PV = E·N₁ / Dⁿ where N_n = p_n, N_k = p_k·D^(n−k) + E·N_(k+1).
    static func exactSignOfPresentValueMinusNet(atAprBoundaryAbove u: UInt64, netFen: Int64, paymentsFen: [Int64])
        -> Int
    {
        let e: UInt64 = 240_000
        let d: UInt64 = 240_000 + 2 * u + 1
        var accumulated = ExactNatural(0)
        var dPower = ExactNatural(1)  // D^(n−k)
        for payment in paymentsFen.reversed() {
            accumulated.multiply(by: e)
            accumulated.add(dPower.multiplied(by: UInt64(payment)))
            dPower.multiply(by: d)
        }
        // Loop end: accumulated = Σ p_k E^(k-1) D^(n-k) = N₁, dPower = Dⁿ.
        accumulated.multiply(by: e)
        let right = dPower.multiplied(by: UInt64(netFen))
        if accumulated > right { return 1 }
        if accumulated < right { return -1 }
        return 0
    }
}
