import Foundation

/// Fast paths for the decimals that decisions use (up to 19 significant digits).
/// Foundation's `Decimal` arithmetic is slow on Linux; these read its storage directly.
/// The storage layout is checked once against Foundation itself, and every fast path
/// falls back to Foundation when the layout differs or a value is too large.
package struct ZenDecimalParts {
    var mantissa: UInt64
    package var exponent: Int
    var negative: Bool
}

extension ZenNumber {
    static let pow10: [UInt64] = (0...19).map { (i: Int) -> UInt64 in
        var v: UInt64 = 1
        for _ in 0..<i { v *= 10 }
        return v
    }

    /// Whether this Foundation stores `Decimal` as: exponent byte, (length << 4 | sign 0x08 | compact 0x04),
    /// two reserved bytes, then eight little-endian 16-bit mantissa words.
    static let fastLayout: Bool = {
        let samples: [(String, UInt64, Int, Bool)] = [
            ("0", 0, 0, false), ("1", 1, 0, false), ("-1", 1, 0, true), ("12345.678", 12_345_678, -3, false),
            ("-0.5", 5, -1, true), ("18446744073709551615", UInt64.max, 0, false), ("1e20", 1, 20, false),
        ]
        for (text, m, e, neg) in samples {
            guard let d = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return false }
            guard let p = rawParts(d), p.mantissa == m, p.exponent == e, p.negative == neg || m == 0 else {
                return false
            }
            let rebuilt = rawMake(ZenDecimalParts(mantissa: m, exponent: e, negative: neg))
            guard rebuilt == d, rebuilt.description == d.description else { return false }
        }
        let sum = Decimal(string: "0.1")! + Decimal(string: "0.2")!
        guard let p = rawParts(sum), p.mantissa == 3, p.exponent == -1 else { return false }
        return true
    }()

    @inline(__always)
    static func rawParts(_ d: Decimal) -> ZenDecimalParts? {
        withUnsafeBytes(of: d) { b -> ZenDecimalParts? in
            let head = b.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian
            let flags = UInt8(truncatingIfNeeded: head >> 8)
            let length = Int(flags >> 4)
            guard length <= 4 else { return nil }
            let low = b.loadUnaligned(fromByteOffset: 4, as: UInt64.self).littleEndian
            let high = b.loadUnaligned(fromByteOffset: 12, as: UInt64.self).littleEndian
            guard high == 0 else { return nil }
            return ZenDecimalParts(
                mantissa: low, exponent: Int(Int8(truncatingIfNeeded: head)),
                negative: (flags & 0x08) != 0 && length > 0)
        }
    }

    @inline(__always)
    static func rawMake(_ p: ZenDecimalParts) -> Decimal {
        var d = Decimal()
        let m = p.mantissa
        let length: Int = m == 0 ? 0 : (m >> 16 == 0 ? 1 : (m >> 32 == 0 ? 2 : (m >> 48 == 0 ? 3 : 4)))
        withUnsafeMutableBytes(of: &d) { b in
            b[0] = UInt8(bitPattern: Int8(truncatingIfNeeded: p.exponent))
            var flags = UInt8(length << 4)
            if p.negative && length > 0 { flags |= 0x08 }
            b[1] = flags
            b[2] = 0
            b[3] = 0
            var v = m
            for i in 0..<8 {
                b[4 + i * 2] = UInt8(truncatingIfNeeded: v)
                b[5 + i * 2] = UInt8(truncatingIfNeeded: v >> 8)
                v >>= 16
            }
        }
        return d
    }

    @inline(__always)
    package static func parts(_ d: Decimal) -> ZenDecimalParts? {
        guard fastLayout else { return nil }
        return rawParts(d)
    }

    @inline(__always)
    static func make(mantissa: UInt64, exponent: Int, negative: Bool) -> Decimal {
        if fastLayout && exponent >= -127 && exponent <= 127 {
            return rawMake(ZenDecimalParts(mantissa: mantissa, exponent: exponent, negative: negative))
        }
        let r = Decimal(sign: .plus, exponent: exponent, significand: Decimal(mantissa))
        return negative ? -r : r
    }

    /// Compares magnitudes m1·10^e1 and m2·10^e2; nil when it cannot decide cheaply.
    @inline(__always)
    static func compareMagnitude(_ m1: UInt64, _ e1: Int, _ m2: UInt64, _ e2: Int) -> Int? {
        if m1 == 0 || m2 == 0 { return m1 == m2 ? 0 : (m1 == 0 ? -1 : 1) }
        if e1 == e2 { return m1 < m2 ? -1 : (m1 == m2 ? 0 : 1) }
        if e1 > e2 {
            let d = e1 - e2
            guard d <= 19 else { return 1 }
            let (h, l) = m1.multipliedFullWidth(by: pow10[d])
            if h > 0 { return 1 }
            return l < m2 ? -1 : (l == m2 ? 0 : 1)
        } else {
            let d = e2 - e1
            guard d <= 19 else { return -1 }
            let (h, l) = m2.multipliedFullWidth(by: pow10[d])
            if h > 0 { return -1 }
            return m1 < l ? -1 : (m1 == l ? 0 : 1)
        }
    }

    /// -1, 0 or 1; exact.
    @inline(__always)
    package static func compare(_ a: Decimal, _ b: Decimal) -> Int {
        if let x = parts(a), let y = parts(b) {
            let xz = x.mantissa == 0
            let yz = y.mantissa == 0
            let xs = xz ? 0 : (x.negative ? -1 : 1)
            let ys = yz ? 0 : (y.negative ? -1 : 1)
            if xs != ys { return xs < ys ? -1 : 1 }
            if xs == 0 { return 0 }
            // Magnitudes that differ by more than 19 orders are decided by the exponent alone (not exact
            // for mantissas with many trailing zeros, so only trust the cheap path when it is certain).
            let d = x.exponent - y.exponent
            if abs(d) <= 19, let c = compareMagnitude(x.mantissa, x.exponent, y.mantissa, y.exponent) {
                return xs > 0 ? c : -c
            }
        }
        return a < b ? -1 : (a == b ? 0 : 1)
    }

    @inline(__always)
    package static func equal(_ a: Decimal, _ b: Decimal) -> Bool { compare(a, b) == 0 }

    /// Aligns two small decimals to a common exponent; nil on overflow.
    @inline(__always)
    static func aligned(_ x: ZenDecimalParts, _ y: ZenDecimalParts) -> (UInt64, UInt64, Int)? {
        if x.exponent == y.exponent { return (x.mantissa, y.mantissa, x.exponent) }
        if x.exponent > y.exponent {
            let d = x.exponent - y.exponent
            guard d <= 19 else { return nil }
            let (r, o) = x.mantissa.multipliedReportingOverflow(by: pow10[d])
            return o ? nil : (r, y.mantissa, y.exponent)
        }
        let d = y.exponent - x.exponent
        guard d <= 19 else { return nil }
        let (r, o) = y.mantissa.multipliedReportingOverflow(by: pow10[d])
        return o ? nil : (x.mantissa, r, x.exponent)
    }

    /// rust_decimal's largest magnitude (2^96 - 1); zen-engine fails beyond it.
    static let maxMagnitude = Decimal(string: "79228162514264337593543950335")!

    @inline(__always)
    static func inRange(_ d: Decimal) -> Decimal? {
        d.isNaN || abs(d) > maxMagnitude ? nil : d
    }

    @inline(__always)
    static func add(_ a: Decimal, _ b: Decimal) -> Decimal? {
        if let x = parts(a), let y = parts(b) {
            // rust_decimal returns the other operand untouched when one is zero (its scale shows).
            if x.mantissa == 0 { return b }
            if y.mantissa == 0 { return a }
        }
        if let x = parts(a), let y = parts(b), let (mx, my, e) = aligned(x, y) {
            if x.negative == y.negative {
                let (s, o) = mx.addingReportingOverflow(my)
                if !o { return make(mantissa: s, exponent: e, negative: x.negative) }
            } else if mx >= my {
                return make(mantissa: mx - my, exponent: e, negative: x.negative)
            } else {
                return make(mantissa: my - mx, exponent: e, negative: y.negative)
            }
        }
        return inRange(limitPrecision(a + b))
    }

    @inline(__always)
    static func subtract(_ a: Decimal, _ b: Decimal) -> Decimal? {
        if var y = parts(b), parts(a) != nil {
            y.negative.toggle()
            return add(a, make(mantissa: y.mantissa, exponent: y.exponent, negative: y.negative))
        }
        return inRange(limitPrecision(a - b))
    }

    @inline(__always)
    static func multiply(_ a: Decimal, _ b: Decimal) -> Decimal? {
        if let x = parts(a), let y = parts(b) {
            let (m, o) = x.mantissa.multipliedReportingOverflow(by: y.mantissa)
            if !o && m == 0 { return make(mantissa: 0, exponent: 0, negative: false) }
            let e = x.exponent + y.exponent
            if !o && e >= -28 && e <= 100 {
                return make(mantissa: m, exponent: e, negative: x.negative != y.negative)
            }
        }
        return inRange(limitPrecision(a * b))
    }
}

// MARK: - Division and rounding without Foundation's slow paths

extension ZenNumber {
    /// 2^96 - 1 as (high, low) words: rust_decimal's largest mantissa.
    static let max96: (UInt64, UInt64) = (0xFFFF_FFFF, UInt64.max)

    @inline(__always)
    static func lessOrEqual(_ a: (UInt64, UInt64), _ b: (UInt64, UInt64)) -> Bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1)
    }

    /// m·10 + d on a 128-bit number; nil on overflow.
    @inline(__always)
    static func times10plus(_ m: (UInt64, UInt64), _ d: UInt64) -> (UInt64, UInt64)? {
        let (lh, ll) = m.1.multipliedFullWidth(by: 10)
        let (hh, hl) = m.0.multipliedFullWidth(by: 10)
        guard hh == 0 else { return nil }
        let (high, o1) = hl.addingReportingOverflow(lh)
        guard !o1 else { return nil }
        let (low, o2) = ll.addingReportingOverflow(d)
        if o2 {
            let (h2, o3) = high.addingReportingOverflow(1)
            guard !o3 else { return nil }
            return (h2, low)
        }
        return (high, low)
    }

    static func rawMake128(_ m: (UInt64, UInt64), exponent: Int, negative: Bool) -> Decimal {
        if m.0 == 0 { return rawMake(ZenDecimalParts(mantissa: m.1, exponent: exponent, negative: negative)) }
        var d = Decimal()
        let hiWords = m.0 >> 48 != 0 ? 4 : (m.0 >> 32 != 0 ? 3 : (m.0 >> 16 != 0 ? 2 : 1))
        let length = 4 + hiWords
        withUnsafeMutableBytes(of: &d) { b in
            b[0] = UInt8(bitPattern: Int8(truncatingIfNeeded: exponent))
            var flags = UInt8(length << 4)
            if negative { flags |= 0x08 }
            b[1] = flags
            b[2] = 0
            b[3] = 0
            var v = m.1
            for i in 0..<4 {
                b[4 + i * 2] = UInt8(truncatingIfNeeded: v)
                b[5 + i * 2] = UInt8(truncatingIfNeeded: v >> 8)
                v >>= 16
            }
            v = m.0
            for i in 4..<8 {
                b[4 + i * 2] = UInt8(truncatingIfNeeded: v)
                b[5 + i * 2] = UInt8(truncatingIfNeeded: v >> 8)
                v >>= 16
            }
        }
        return d
    }

    /// Long division with rust_decimal's limits (scale ≤ 28, mantissa < 2^96), rounding the last digit
    /// half to even. nil when the operands are too large for the fast path.
    static func fastDivide(_ x: ZenDecimalParts, _ y: ZenDecimalParts) -> Decimal? {
        guard fastLayout, y.mantissa != 0 else { return nil }
        let negative = x.negative != y.negative
        if x.mantissa == 0 { return rawMake(ZenDecimalParts(mantissa: 0, exponent: 0, negative: false)) }
        // rust_decimal: an exact quotient of the mantissas keeps the scale difference; otherwise the
        // result shows at least two more decimals than that (10/4 is 2.50, 1.5/2 is 0.750).
        if x.mantissa % y.mantissa == 0 {
            var m = x.mantissa / y.mantissa
            var e = x.exponent - y.exponent
            while e > 0 {
                let (r, o) = m.multipliedReportingOverflow(by: 10)
                if o { break }
                m = r
                e -= 1
            }
            if e >= -28 && e <= 0 { return rawMake(ZenDecimalParts(mantissa: m, exponent: e, negative: negative)) }
        }
        let minScale = min(28, (-x.exponent) - (-y.exponent) + 2)
        var exp = x.exponent - y.exponent
        let my = y.mantissa
        var m: (UInt64, UInt64) = (0, x.mantissa / my)
        var r = x.mantissa % my
        var nextDigit: UInt64 = 0
        var sticky = false
        var stopped = false
        while r != 0 {
            let (h, l) = r.multipliedFullWidth(by: 10)
            let (d, rem) = my.dividingFullWidth((h, l))
            if -exp >= 28 {
                nextDigit = d
                sticky = rem != 0
                stopped = true
                break
            }
            guard let n = times10plus(m, d), lessOrEqual(n, max96) else {
                nextDigit = d
                sticky = rem != 0
                stopped = true
                break
            }
            m = n
            r = rem
            exp -= 1
        }
        if stopped && (nextDigit > 5 || (nextDigit == 5 && (sticky || m.1 & 1 == 1))) {
            let (low, o) = m.1.addingReportingOverflow(1)
            m = (o ? m.0 + 1 : m.0, low)
        }
        // Pad to the minimum scale while the mantissa stays within 96 bits.
        while -exp < minScale, let n = times10plus(m, 0), lessOrEqual(n, max96) {
            m = n
            exp -= 1
        }
        guard exp >= -127 && exp <= 127 else { return nil }
        if exp > 0 {
            // Beyond rust_decimal's range: zen-engine's division yields null (signalled as NaN here).
            var big = m
            for _ in 0..<exp {
                guard let n = times10plus(big, 0), lessOrEqual(n, max96) else { return Decimal.nan }
                big = n
            }
            return rawMake128(big, exponent: 0, negative: negative)
        }
        return rawMake128(m, exponent: exp, negative: negative)
    }

    /// Rounds to `scale` fractional digits on the decimal's parts; nil when Foundation must do it.
    static func fastRound(_ d: Decimal, scale: Int, mode: NSDecimalNumber.RoundingMode) -> Decimal? {
        guard let p = parts(d) else { return nil }
        if -p.exponent <= scale { return d }
        let k = -p.exponent - scale
        guard k <= 19 else {
            // Everything is dropped; only a non-zero value rounded away from zero gives one unit.
            let up: Bool
            switch mode {
            case .up: up = !p.negative && p.mantissa != 0
            case .down: up = p.negative && p.mantissa != 0
            default: up = false
            }
            return make(mantissa: up ? 1 : 0, exponent: -scale, negative: p.negative && up)
        }
        let divisor = pow10[k]
        var q = p.mantissa / divisor
        let rem = p.mantissa % divisor
        switch mode {
        case .plain:
            if rem >= divisor / 2 { q += 1 }  // half away from zero
        case .up:  // toward +infinity
            if !p.negative && rem != 0 { q += 1 }
        case .down:  // toward -infinity
            if p.negative && rem != 0 { q += 1 }
        case .bankers:
            let half = divisor / 2
            if rem > half || (rem == half && q & 1 == 1) { q += 1 }
        @unknown default:
            return nil
        }
        return make(mantissa: q, exponent: -scale, negative: p.negative && q != 0)
    }
}
