/// SHA-1 (FIPS 180-4 section 6.1) and HMAC-SHA1 (RFC 2104), written out here because LendingCore imports
/// Foundation only and RFC 6238 authenticator apps still default to HMAC-SHA1.
///
/// SHA-1 is broken for collision resistance; HMAC-SHA1 is not (its security rests on the compression function
/// as a PRF), which is why TOTP may keep using it. Use this for one-time passwords only, never to fingerprint
/// documents or sign anything.
public enum SHA1 {
    /// Bytes in a SHA-1 digest.
    public static let digestLength = 20
    /// Bytes in a SHA-1 message block; HMAC pads its key to this length.
    public static let blockLength = 64

    /// The 20-byte SHA-1 digest of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
            0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
        )
        var words = [UInt32](repeating: 0, count: 80)

        // Full blocks straight from the message, then the padded tail (one or two blocks): 0x80, zeros,
        // and the message length in bits as a 64-bit big-endian number.
        let fullBlocks = message.count / blockLength
        for block in 0..<fullBlocks {
            compress(message, from: block * blockLength, into: &state, words: &words)
        }
        var tail = Array(message[(fullBlocks * blockLength)...])
        tail.append(0x80)
        while tail.count % blockLength != blockLength - 8 {
            tail.append(0)
        }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        for start in stride(from: 0, to: tail.count, by: blockLength) {
            compress(tail, from: start, into: &state, words: &words)
        }

        var digest: [UInt8] = []
        digest.reserveCapacity(digestLength)
        for word in [state.0, state.1, state.2, state.3, state.4] {
            digest.append(contentsOf: bigEndianBytes(word))
        }
        return digest
    }

    /// HMAC-SHA1 of `message` under `key` (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), where a key
    /// longer than a block is first hashed and a shorter one is padded with zeros.
    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var blockKey = key.count > blockLength ? hash(key) : key
        blockKey.append(contentsOf: [UInt8](repeating: 0, count: blockLength - blockKey.count))
        let inner = hash(blockKey.map { $0 ^ 0x36 } + message)
        return hash(blockKey.map { $0 ^ 0x5C } + inner)
    }

    /// One application of the SHA-1 compression function to the 64 bytes of `bytes` starting at `start`.
    private static func compress(
        _ bytes: [UInt8], from start: Int, into state: inout (UInt32, UInt32, UInt32, UInt32, UInt32),
        words w: inout [UInt32]
    ) {
        for t in 0..<16 {
            let i = start + 4 * t
            w[t] =
                UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        }
        for t in 16..<80 {
            w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], by: 1)
        }

        var (a, b, c, d, e) = state
        for t in 0..<80 {
            let f: UInt32
            let k: UInt32
            switch t {
            case 0..<20:
                f = (b & c) | (~b & d)
                k = 0x5A82_7999
            case 20..<40:
                f = b ^ c ^ d
                k = 0x6ED9_EBA1
            case 40..<60:
                f = (b & c) | (b & d) | (c & d)
                k = 0x8F1B_BCDC
            default:
                f = b ^ c ^ d
                k = 0xCA62_C1D6
            }
            let temp = rotateLeft(a, by: 5) &+ f &+ e &+ k &+ w[t]
            e = d
            d = c
            c = rotateLeft(b, by: 30)
            b = a
            a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }

    private static func rotateLeft(_ x: UInt32, by n: UInt32) -> UInt32 {
        (x << n) | (x >> (32 - n))
    }

    private static func bigEndianBytes(_ word: UInt32) -> [UInt8] {
        [
            UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8),
            UInt8(truncatingIfNeeded: word),
        ]
    }
}
