import Foundation

/// Money at the edges of the system: `Decimal` in, `Decimal` or exact strings out, integer fen inside the engine.
///
/// `roundHalfEven` is THE rounding function of the project: every amount rounded to the fen goes through it (or,
/// inside the loan engine, through its integer twin `FenArithmetic.divideRoundingHalfEven`, which rounds exactly the
/// same way on exact fractions).
public enum Money {
    /// Rounds `value` to `scale` decimal places, exact ties going to the even neighbour (2.675 → 2.68, 0.125 → 0.12).
    public static func roundHalfEven(_ value: Decimal, scale: Int = 2) -> Decimal {
        if value.isNaN { return value }
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, scale, .bankers)
        return result
    }

    /// Exactly two decimals after half-even rounding: "1234.50", "-3.00", "0.00" (never "-0.00").
    public static func string(_ value: Decimal) -> String {
        if let fen = fen(exactly: value) { return string(fen: fen) }
        let rounded = roundHalfEven(value, scale: 2)
        if let fen = fen(exactly: rounded) { return string(fen: fen) }
        // Beyond Int64 fen (above 92 quadrillion yuan): fall back to Decimal's own digits.
        var text = rounded.description
        if !text.contains(".") { text += "." }
        let fraction = text.split(separator: ".", omittingEmptySubsequences: false).last?.count ?? 0
        return text + String(repeating: "0", count: max(0, 2 - fraction))
    }

    /// Two decimals for an amount in fen: 123450 → "1234.50", -300 → "-3.00".
    public static func string(fen: Int64) -> String {
        var magnitude = fen.magnitude
        // Write ASCII backwards into a stack buffer (at most 19 digits, a point and a sign), then copy it out; up
        // to 15 bytes the result is a small (inline) string, without a heap allocation.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { bytes in
            var index = bytes.count
            var digits = 0
            repeat {
                if digits == 2 {
                    index -= 1
                    bytes[index] = UInt8(ascii: ".")
                }
                index -= 1
                bytes[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                digits += 1
            } while magnitude > 0 || digits < 3
            if fen < 0 {
                index -= 1
                bytes[index] = UInt8(ascii: "-")
            }
            let count = bytes.count - index
            let start = index
            return String(unsafeUninitializedCapacity: count) { target in
                for i in 0..<count { target[i] = bytes[start + i] }
                return count
            }
        }
    }

    /// Strict decimal parsing for money and rates typed by people or sent by clients: an optional leading '-',
    /// digits, and optionally '.' followed by digits. Nothing else: nil for "1e5", " 12", "12.", ".5", "+1", "abc", "".
    public static func parse(_ text: String) -> Decimal? {
        var negative = false
        var significand: UInt64 = 0
        var digitCount = 0
        var fractionDigits = 0
        var seenPoint = false
        var digitsAfterPoint = 0
        var overflow = false
        var first = true
        for byte in text.utf8 {
            defer { first = false }
            switch byte {
            case UInt8(ascii: "-") where first:
                negative = true
            case UInt8(ascii: "."):
                guard !seenPoint, digitCount > 0 else { return nil }
                seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digitCount += 1
                if seenPoint {
                    digitsAfterPoint += 1
                    fractionDigits += 1
                }
                let (times10, o1) = significand.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                if o1 || o2 { overflow = true } else { significand = next }
            default:
                return nil
            }
        }
        guard digitCount > 0, !seenPoint || digitsAfterPoint > 0 else { return nil }
        if overflow {
            // Longer than 19 digits: Decimal holds 38 significant digits; refuse what it cannot hold exactly.
            guard digitCount <= 38 else { return nil }
            return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        }
        return Decimal(
            sign: negative && significand != 0 ? .minus : .plus, exponent: -fractionDigits,
            significand: Decimal(significand))
    }

    /// The amount in whole fen when `value` has at most two decimals and fits in Int64; nil otherwise.
    public static func fen(exactly value: Decimal) -> Int64? { scaledInteger(value, scale: 2) }

    /// The `Decimal` for an amount in fen (exact).
    public static func decimal(fen: Int64) -> Decimal {
        Decimal(sign: fen < 0 ? .minus : .plus, exponent: -2, significand: Decimal(fen.magnitude))
    }

    /// `value × 10^scale` as Int64 when that is a whole number that fits; nil otherwise (too many decimals, too big, NaN).
    static func scaledInteger(_ value: Decimal, scale: Int) -> Int64? {
        if value.isNaN { return nil }
        if value.isZero { return 0 }
        let significand = value.significand  // a whole number; the sign is separate
        var magnitude: UInt64
        // Fast path: NSDecimalNumber.doubleValue builds the significand exactly while it is below 2^53.
        let approximate = NSDecimalNumber(decimal: significand).doubleValue
        if approximate < 9.0e15 {
            magnitude = UInt64(approximate)
        } else {
            guard significand <= maxUInt64AsDecimal else { return nil }
            magnitude = NSDecimalNumber(decimal: significand).uint64Value
        }
        var exponent = value.exponent + scale
        while exponent > 0 {
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            magnitude = times10
            exponent -= 1
        }
        while exponent < 0 {
            guard magnitude % 10 == 0 else { return nil }
            magnitude /= 10
            exponent += 1
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return value.sign == .minus ? -Int64(magnitude) : Int64(magnitude)
    }

    private static let maxUInt64AsDecimal = Decimal(UInt64.max)
}
