/// What is wrong with a base32 text: a character outside the RFC 4648 alphabet, or a length no byte string
/// encodes to. Offsets count characters of the text as given (spaces included), so a form can point at them.
public enum Base32Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// `character` at `offset` is not in A–Z, 2–7 (nor a space, nor trailing `=` padding).
    case invalidCharacter(Character, offset: Int)
    /// `count` base32 characters (padding and spaces left out) cannot come from whole bytes: 1, 3 or 6 modulo 8.
    case invalidLength(Int)

    public var description: String {
        switch self {
        case .invalidCharacter(let character, let offset):
            "'\(character)' at position \(offset + 1) is not a base32 character (A-Z, 2-7)"
        case .invalidLength(let count):
            "\(count) base32 characters cannot encode whole bytes"
        }
    }
}

/// RFC 4648 base32 (section 6), the form in which authenticator apps exchange TOTP secrets.
///
/// Encoding gives upper case without `=` padding, as Google Authenticator and the `otpauth` key URI format
/// expect. Decoding is lenient where people copy secrets by hand: lower case, spaces and trailing padding are
/// accepted; anything else is refused with a typed error rather than silently dropped, because a secret that
/// decodes to the wrong bytes would only surface later as codes that never match.
public enum Base32 {
    /// The RFC 4648 alphabet, A–Z then 2–7.
    public static let alphabet: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// `bytes` in upper-case base32; with `padded`, `=` fills the last group to 8 characters.
    public static func encode(_ bytes: [UInt8], padded: Bool = false) -> String {
        var out = ""
        out.reserveCapacity((bytes.count * 8 + 4) / 5 + 6)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 0x1F)])
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1F)])
        }
        if padded {
            while out.count % 8 != 0 {
                out.append("=")
            }
        }
        return out
    }

    /// The bytes `text` encodes. Upper or lower case; spaces (any whitespace) are ignored; `=` padding is
    /// optional but only at the end. Leftover bits after the last whole byte are dropped (RFC 4648 3.5 lets a
    /// decoder accept them).
    public static func decode(_ text: String) throws(Base32Error) -> [UInt8] {
        let characters = Array(text)
        // Trailing padding (possibly with spaces around it) is cut off; any `=` left is a misplaced one.
        var end = characters.count
        while end > 0, characters[end - 1] == "=" || characters[end - 1].isWhitespace {
            end -= 1
        }

        var out: [UInt8] = []
        out.reserveCapacity(end * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        var count = 0
        for offset in 0..<end {
            let character = characters[offset]
            if character.isWhitespace { continue }
            guard let value = value(of: character) else {
                throw .invalidCharacter(character, offset: offset)
            }
            buffer = (buffer << 5) | value
            bits += 5
            count += 1
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        guard ![1, 3, 6].contains(count % 8) else {
            throw .invalidLength(count)
        }
        return out
    }

    /// The 5-bit value of one base32 character, either case; nil outside the alphabet.
    private static func value(of character: Character) -> UInt32? {
        guard let ascii = character.asciiValue else { return nil }
        switch ascii {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(ascii - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(ascii - UInt8(ascii: "a"))
        case UInt8(ascii: "2")...UInt8(ascii: "7"): return UInt32(ascii - UInt8(ascii: "2")) + 26
        default: return nil
        }
    }
}
