import Foundation

/// Decimal helpers for the ZEN language: exact parsing, formatting and the
/// operations Foundation's `Decimal` lacks (remainder, rounding modes, powers).
package enum ZenNumber {
    static let zero = Decimal(0)
    static let one = Decimal(1)

    /// Parses "123", "-1.25", "1_000", "2.5e-3" exactly (no `Double` on the way).
    static func parse(_ text: String) -> Decimal? {
        var utf8 = Array(text.utf8)
        utf8.removeAll { $0 == UInt8(ascii: "_") }
        return parse(utf8: utf8[...])
    }

    static func parse(utf8 s: ArraySlice<UInt8>) -> Decimal? {
        var i = s.startIndex
        let end = s.endIndex
        var negative = false
        if i < end, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        var exponent = 0
        var overflowDigits: [UInt8] = []
        var sawDigit = false
        var sawDot = false
        while i < end {
            let c = s[i]
            if c >= 48 && c <= 57 {
                sawDigit = true
                if overflowDigits.isEmpty && mantissa <= (UInt64.max - 9) / 10 {
                    mantissa = mantissa * 10 + UInt64(c - 48)
                } else {
                    overflowDigits.append(c)
                }
                if sawDot { exponent -= 1 }
            } else if c == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else {
                break
            }
            i += 1
        }
        guard sawDigit else { return nil }
        if i < end {
            guard s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") else { return nil }
            i += 1
            var expNegative = false
            if i < end, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
                expNegative = s[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            var sawExpDigit = false
            while i < end, s[i] >= 48, s[i] <= 57 {
                e = min(e * 10 + Int(s[i] - 48), 10_000)
                sawExpDigit = true
                i += 1
            }
            guard sawExpDigit, i == end else { return nil }
            exponent += expNegative ? -e : e
        }
        if !overflowDigits.isEmpty {
            // Too many digits for the fast path: let Foundation handle the long mantissa.
            let text = String(decoding: s, as: UTF8.self)
            return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        }
        guard exponent > -128 && exponent < 128 else {
            let text = String(decoding: s, as: UTF8.self)
            return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        }
        // Keeps the written scale ("1.50" stays 1.50), as rust_decimal does; a positive exponent
        // ("1e2") becomes digits, since rust_decimal has no negative scale.
        var m = mantissa
        var e = exponent
        while e > 0 {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { break }
            m = r
            e -= 1
        }
        return make(mantissa: m, exponent: e, negative: negative)
    }

    /// Plain decimal text, never scientific notation ("0.3", "-12", "1000000").
    package static func format(_ d: Decimal) -> String {
        if d.isNaN { return "null" }
        if let p = parts(d) {
            // Plain digits with the value's own scale (1.50 stays "1.50", 1e3 is "1000").
            var digits = String(p.mantissa)
            if p.exponent >= 0 {
                if p.mantissa == 0 { return "0" }
                digits += String(repeating: "0", count: p.exponent)
            } else {
                let scale = -p.exponent
                if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
                digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
            }
            return p.negative && p.mantissa != 0 ? "-" + digits : digits
        }
        var value = d
        return NSDecimalString(&value, Locale(identifier: "en_US_POSIX"))
    }

    @inline(__always)
    static func exactInt(_ d: Decimal) -> Int64? {
        guard let p = parts(d), p.exponent >= 0, p.exponent <= 18 else { return nil }
        var m = p.mantissa
        var k = p.exponent
        while k > 0 {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = r
            k -= 1
        }
        guard m <= UInt64(Int64.max) else { return nil }
        return p.negative ? -Int64(m) : Int64(m)
    }

    static func rounded(_ d: Decimal, scale: Int, mode: NSDecimalNumber.RoundingMode) -> Decimal {
        if let r = fastRound(d, scale: scale, mode: mode) { return r }
        var input = d
        var result = Decimal()
        NSDecimalRound(&result, &input, scale, mode)
        return result
    }

    package static func truncated(_ d: Decimal, scale: Int = 0) -> Decimal {
        rounded(d, scale: scale, mode: d.isSignMinus ? .up : .down)
    }

    static func floor(_ d: Decimal) -> Decimal { rounded(d, scale: 0, mode: .down) }
    static func ceil(_ d: Decimal) -> Decimal { rounded(d, scale: 0, mode: .up) }

    /// Half away from zero, like rust_decimal's `MidpointAwayFromZero`.
    static func round(_ d: Decimal, scale: Int = 0) -> Decimal {
        rounded(d, scale: scale, mode: .plain)
    }

    /// Division with rust_decimal's precision: at most 28 fractional digits.
    static func divide(_ a: Decimal, _ b: Decimal) -> Decimal? {
        if b.isZero { return nil }
        if let x = parts(a), let y = parts(b), let q = fastDivide(x, y) { return q.isNaN ? nil : q }
        let q = a / b
        if q.isNaN || abs(q) > maxMagnitude { return nil }
        return limitPrecision(q)
    }

    /// rust_decimal keeps 96 bits of mantissa and 28 fractional digits at most.
    static func limitPrecision(_ d: Decimal) -> Decimal {
        if let p = parts(d), p.exponent >= -28 { return d }
        if d.exponent >= -28 && d.significand < Decimal(string: "79228162514264337593543950335")! { return d }
        var r = rounded(d, scale: 28, mode: .plain)
        // Keep at most 29 significant digits (about 96 bits).
        let magnitude = abs(r)
        if magnitude >= 1 {
            var intDigits = 0
            var t = truncated(magnitude)
            while t >= 1 && intDigits < 40 {
                t = truncated(t / 10)
                intDigits += 1
            }
            let scale = max(0, 28 - (intDigits - 1))
            if scale < 28 { r = rounded(r, scale: scale, mode: .plain) }
        }
        return r
    }

    /// Remainder with the sign of the dividend (Rust's `%`).
    package static func remainder(_ a: Decimal, _ b: Decimal) -> Decimal? {
        if b.isZero { return nil }
        if let x = exactInt(a), let y = exactInt(b) { return Decimal(x % y) }
        let q = truncated(a / b)
        return a - q * b
    }

    static func power(_ base: Decimal, _ exp: Decimal) -> Decimal? {
        // rust_decimal's powd: 0^x is 0 except 0^0 = 1; a negative base keeps its sign.
        if base.isZero { return exp.isZero ? one : zero }
        if let e = exactInt(exp), e >= 0, e <= 1000 {
            var result = one
            var b = base
            var n = e
            while n > 0 {
                if n & 1 == 1 { result *= b }
                n >>= 1
                if n > 0 { b *= b }
                if result.isNaN || b.isNaN { return nil }
            }
            return result
        }
        if let e = exactInt(exp), e < 0, e >= -1000 {
            if base.isSignMinus, let p = power(-base, exp) { return -p }
            guard let p = power(base, Decimal(-e)) else {
                // |base| > 1: the result is below the smallest decimal; |base| < 1: too large.
                return abs(base) > 1 ? zero : nil
            }
            guard !p.isZero else { return nil }
            return divide(one, p)
        }
        let x = NSDecimalNumber(decimal: base).doubleValue
        let y = NSDecimalNumber(decimal: exp).doubleValue
        let r = x < 0 ? -Foundation.pow(-x, y) : Foundation.pow(x, y)
        guard r.isFinite else { return nil }
        return fromDouble(r)
    }

    /// Converts a double through its shortest decimal text.
    static func fromDouble(_ x: Double) -> Decimal {
        if x == x.rounded(), abs(x) < 9e15 { return Decimal(Int64(x)) }
        return parse("\(x)") ?? Decimal(x)
    }

    package static func toInt(_ d: Decimal) -> Int? {
        if let i = exactInt(d) { return Int(i) }
        let t = truncated(d)
        if let i = exactInt(t) { return Int(i) }
        return Int(exactly: NSDecimalNumber(decimal: t).int64Value)
    }

    /// Rust's `to_usize` on a decimal: truncates, fails for negatives.
    static func toIndex(_ d: Decimal) -> Int? {
        guard d >= 0, let i = toInt(d) else { return nil }
        return i
    }
}
