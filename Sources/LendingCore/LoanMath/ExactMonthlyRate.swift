import Foundation

/// Integer helpers for amounts in fen.
enum FenArithmetic {
    /// round_half_even(x × y / d) for non-negative x, y and positive d, exact (128-bit intermediate).
    /// The integer twin of `Money.roundHalfEven`: identical results on the exact fraction.
    @inline(__always)
    static func multiplyDivideRoundingHalfEven(_ x: UInt64, _ y: UInt64, _ d: UInt64) -> UInt64 {
        let product = x.multipliedFullWidth(by: y)
        let (quotient, remainder) = d.dividingFullWidth(product)
        let rest = d - remainder  // remainder < d, so no overflow; compare 2·remainder with d without doubling
        if remainder > rest || (remainder == rest && quotient & 1 == 1) { return quotient + 1 }
        return quotient
    }
}

/// The annual percentage rate as an exact fraction, so each period's interest is rounded from the exact product
/// (remaining × annual / 100 / 12) and not from a rate already cut to some number of digits.
struct ExactMonthlyRate: Sendable, Equatable {
    /// annual percent = annualPercentNumerator / annualPercentScale.
    let annualPercentNumerator: UInt64
    let annualPercentScale: UInt64
    /// monthly rate r = numerator / denominator (reduced).
    let numerator: UInt64
    let denominator: UInt64

    /// nil for a negative rate, or one with more than `maximumDecimals` decimals or above 1,000,000 percent.
    init?(annualPercent: Decimal, maximumDecimals: Int) {
        guard annualPercent >= 0 else { return nil }
        var scale: UInt64 = 1
        var decimals = 0
        var scaled = Money.scaledInteger(annualPercent, scale: 0)
        while scaled == nil, decimals < maximumDecimals {
            decimals += 1
            scale *= 10
            scaled = Money.scaledInteger(annualPercent, scale: decimals)
        }
        guard let numerator = scaled, numerator >= 0, numerator <= 1_000_000 * Int64(scale) else { return nil }
        self.init(annualPercentNumerator: UInt64(numerator), scale: scale)
    }

    init(annualPercentNumerator: UInt64, scale: UInt64) {
        self.annualPercentNumerator = annualPercentNumerator
        self.annualPercentScale = scale
        let monthlyDenominator = 1200 * scale
        let g = Self.gcd(annualPercentNumerator, monthlyDenominator)
        numerator = annualPercentNumerator / g
        denominator = monthlyDenominator / g
    }

    var isZero: Bool { numerator == 0 }

    /// Monthly rate as a Double, for estimates only (the solver and the level payment verify exactly).
    var approximate: Double { Double(numerator) / Double(denominator) }

    /// One period's interest (360/30): round_half_even(remaining × r) in fen.
    @inline(__always)
    func periodInterest(onFen remaining: Int64) -> Int64 {
        Int64(FenArithmetic.multiplyDivideRoundingHalfEven(UInt64(remaining), numerator, denominator))
    }

    /// Interest for a broken period of `days` actual days (actual/360): round_half_even(remaining × annual/100 × days/360).
    func interest(onFen remaining: Int64, days: Int) -> Int64 {
        guard days > 0, remaining > 0 else { return 0 }
        return Int64(
            FenArithmetic.multiplyDivideRoundingHalfEven(
                UInt64(remaining), annualPercentNumerator * UInt64(days), 36_000 * annualPercentScale))
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

/// A natural number of any size, just big enough an API for the exact tie checks of the level payment and the APR
/// (products of powers like (C + a)^360). Little-endian 64-bit limbs.
struct ExactNatural: Comparable, Sendable {
    private(set) var limbs: [UInt64]

    init(_ value: UInt64) { limbs = [value] }

    mutating func multiply(by factor: UInt64) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let (high, low) = limbs[i].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limbs[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        if carry != 0 { limbs.append(carry) }
        normalize()
    }

    func multiplied(by factor: UInt64) -> ExactNatural {
        var copy = self
        copy.multiply(by: factor)
        return copy
    }

    mutating func add(_ other: ExactNatural) {
        if other.limbs.count > limbs.count { limbs += Array(repeating: 0, count: other.limbs.count - limbs.count) }
        var carry: UInt64 = 0
        for i in limbs.indices {
            let addend = i < other.limbs.count ? other.limbs[i] : 0
            let (s1, o1) = limbs[i].addingReportingOverflow(addend)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            limbs[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        if carry != 0 { limbs.append(carry) }
    }

    /// self − other; requires self ≥ other.
    mutating func subtract(_ other: ExactNatural) {
        precondition(self >= other, "ExactNatural subtraction would be negative")
        var borrow: UInt64 = 0
        for i in limbs.indices {
            let subtrahend = i < other.limbs.count ? other.limbs[i] : 0
            let (d1, o1) = limbs[i].subtractingReportingOverflow(subtrahend)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            limbs[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        normalize()
    }

    private mutating func normalize() {
        while limbs.count > 1, limbs.last == 0 { limbs.removeLast() }
    }

    static func < (lhs: ExactNatural, rhs: ExactNatural) -> Bool {
        if lhs.limbs.count != rhs.limbs.count { return lhs.limbs.count < rhs.limbs.count }
        for i in stride(from: lhs.limbs.count - 1, through: 0, by: -1) where lhs.limbs[i] != rhs.limbs[i] {
            return lhs.limbs[i] < rhs.limbs[i]
        }
        return false
    }

    static func power(_ base: UInt64, _ exponent: Int) -> ExactNatural {
        var result = ExactNatural(1)
        for _ in 0..<exponent { result.multiply(by: base) }
        return result
    }
}
