import Foundation

/// RFC 6238 time-based one-time passwords (HMAC-SHA1, 30-second steps), the second factor of the staff
/// workbench login, compatible with any authenticator app that scans an `otpauth://` QR code.
///
/// Pure: the caller passes the clock's `Date` and the last time step it accepted for this staff member, and
/// stores the step `verify` returns, so replay protection survives restarts and works across servers.
public struct TimeBasedOneTimePassword: Sendable, Equatable {
    /// Code lengths RFC 4226 allows that authenticator apps show; 6 is what staff use, 8 is for RFC vectors.
    public enum Digits: Int, Sendable, CaseIterable {
        case six = 6
        case eight = 8
    }

    public let digits: Digits
    /// Seconds in one time step (X in RFC 6238); steps count from the Unix epoch (T0 = 0).
    public let period: Int64
    /// Steps of clock difference accepted either way: the RFC's recommended one step covers a phone clock a
    /// little off and a code typed just as it changed, without widening the window much beyond 90 seconds.
    public let allowedDrift: Int64 = 1

    /// The staff workbench's setting: 6 digits every 30 seconds, what every authenticator app assumes.
    public static let standard = TimeBasedOneTimePassword()

    public init(digits: Digits = .six, period: Int64 = 30) {
        precondition(period > 0, "a TOTP period is a positive number of seconds")
        self.digits = digits
        self.period = period
    }

    /// The time step that `date` falls in: floor(unix seconds / period). A clock before 1970 is broken and
    /// counts as step 0; a date beyond any real clock is capped rather than trapping on conversion.
    public func timeStep(at date: Date) -> Int64 {
        let steps = (date.timeIntervalSince1970 / Double(period)).rounded(.down)
        guard steps.isFinite, steps > 0 else { return 0 }
        return steps < 0x1p62 ? Int64(steps) : 1 << 62
    }

    /// The code an authenticator app shows at `date` for `secret` (the raw bytes, not their base32).
    public func code(secret: [UInt8], at date: Date) -> String {
        code(secret: secret, step: timeStep(at: date))
    }

    /// The code of one time step: RFC 4226 HOTP with the step as its 8-byte big-endian counter.
    public func code(secret: [UInt8], step: Int64) -> String {
        let counter = UInt64(clamping: step)
        let message = (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * $0)) }
        let mac = SHA1.hmac(key: secret, message: message)
        // Dynamic truncation: the low nibble of the last byte picks where 31 bits are read.
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            UInt32(mac[offset] & 0x7F) << 24 | UInt32(mac[offset + 1]) << 16 | UInt32(mac[offset + 2]) << 8
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits.rawValue { modulus *= 10 }
        let number = String(binary % modulus)
        return String(repeating: "0", count: digits.rawValue - number.count) + number
    }

    /// The time step `code` belongs to if it is right for `secret` within one step of `date`, or nil.
    ///
    /// Any step at or before `lastUsedStep` is refused, so a code that has been accepted once cannot be
    /// accepted again while it is still valid (RFC 6238 section 5.2), nor can an older one. Spaces in the
    /// code are ignored (apps show `123 456`); anything but exactly `digits` ASCII digits is refused. Every
    /// candidate step is computed and compared in constant time, so timing says nothing about which one (or
    /// how much of one) matched. If two steps happen to give the same code the latest one is returned, so
    /// storing it as `lastUsedStep` blocks that code in all of them.
    public func verify(code: String, secret: [UInt8], at date: Date, lastUsedStep: Int64?) -> Int64? {
        let given = Array(code.utf8.filter { $0 != UInt8(ascii: " ") })
        guard given.count == digits.rawValue,
            given.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }

        let current = timeStep(at: date)
        var matched: Int64?
        for step in (current - allowedDrift)...(current + allowedDrift) {
            let expected = Array(self.code(secret: secret, step: step).utf8)
            let fresh = step >= 0 && step > (lastUsedStep ?? -1)
            if Self.constantTimeEquals(expected, given) && fresh {
                matched = step
            }
        }
        return matched
    }

    /// The `otpauth://` key URI (Google Authenticator "Key Uri Format") to show as a QR code when a staff
    /// member enrols: `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
    ///
    /// Issuer and account are percent-encoded as UTF-8 (so 易贷 becomes `%E6%98%93%E8%B4%B7`), keeping only
    /// RFC 3986 unreserved characters, so a `:`, `&`, `?` or space inside them cannot break the URI. The issuer
    /// is given both in the label and as a parameter, as the format recommends. The secret is normalised to
    /// upper case without spaces or padding, the form authenticator apps accept.
    public func otpauthURI(secretBase32: String, account: String, issuer: String) -> String {
        let secret = String(secretBase32.filter { !$0.isWhitespace && $0 != "=" }).uppercased()
        let label = Self.percentEncoded(issuer) + ":" + Self.percentEncoded(account)
        return "otpauth://totp/\(label)?secret=\(Self.percentEncoded(secret))&issuer=\(Self.percentEncoded(issuer))"
            + "&algorithm=SHA1&digits=\(digits.rawValue)&period=\(period)"
    }

    /// Equal length and equal bytes, taking the same time whichever byte differs.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count {
            difference |= a[i] ^ b[i]
        }
        return difference == 0
    }

    /// UTF-8 percent-encoding of everything but RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}
