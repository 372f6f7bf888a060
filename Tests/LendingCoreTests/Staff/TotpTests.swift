import Foundation
import LendingCore
import Testing

/// Lower-case hex of bytes, to compare digests with the published vectors.
private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("SHA-1 and HMAC-SHA1 (FIPS 180-4, RFC 2202)")
struct SHA1Tests {
    @Test("the FIPS 180 example messages give the published digests")
    func fipsVectors() {
        #expect(hex(SHA1.hash(bytes("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(
            hex(SHA1.hash(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test("a million 'a' give the published digest")
    func millionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(SHA1.hash(message)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// Lengths around the padding boundary (55 still fits the length in the block, 56 needs another),
    /// digests from Python's hashlib.
    @Test(
        "messages whose padding spills into an extra block hash correctly",
        arguments: [
            (55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"), (56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
            (63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"), (64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
            (65, "11655326c708d70319be2610e8a57d9a5b959d3b"), (119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"),
            (120, "f34c1488385346a55709ba056ddd08280dd4c6d6"),
        ])
    func paddingBoundaries(length: Int, digest: String) {
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: length))) == digest)
    }

    @Test(
        "the RFC 2202 HMAC-SHA1 test cases give the published MACs",
        arguments: [
            ([UInt8](repeating: 0x0B, count: 20), bytes("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"),
            (bytes("Jefe"), bytes("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (
                [UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3"
            ),
            (Array(1...25), [UInt8](repeating: 0xCD, count: 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
            (
                [UInt8](repeating: 0x0C, count: 20), bytes("Test With Truncation"),
                "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"
            ),
            (
                [UInt8](repeating: 0xAA, count: 80), bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
                "aa4ae5e15272d00e95705637ce8a3b55ed402112"
            ),
            (
                [UInt8](repeating: 0xAA, count: 80),
                bytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"
            ),
        ] as [([UInt8], [UInt8], String)])
    func rfc2202(key: [UInt8], message: [UInt8], mac: String) {
        #expect(hex(SHA1.hmac(key: key, message: message)) == mac)
    }
}

@Suite("RFC 4648 base32")
struct Base32Tests {
    @Test(
        "the RFC 4648 examples encode and decode, padded or not",
        arguments: [
            ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======"),
        ])
    func rfcExamples(plain: String, encoded: String) throws {
        #expect(Base32.encode(bytes(plain), padded: true) == encoded)
        let unpadded = encoded.filter { $0 != "=" }
        #expect(Base32.encode(bytes(plain)) == unpadded)
        #expect(try Base32.decode(encoded) == bytes(plain))
        #expect(try Base32.decode(unpadded) == bytes(plain))
    }

    @Test("every length of bytes round-trips through base32")
    func roundTrips() throws {
        var seed: UInt32 = 0x1234_5678
        for length in 0...70 {
            let data = (0..<length).map { _ in
                seed = seed &* 1_664_525 &+ 1_013_904_223
                return UInt8(truncatingIfNeeded: seed >> 24)
            }
            #expect(try Base32.decode(Base32.encode(data)) == data)
            #expect(try Base32.decode(Base32.encode(data, padded: true)) == data)
        }
    }

    @Test("the demo TOTP secret decodes to 20 bytes and encodes back to itself")
    func demoSecret() throws {
        let secret = try Base32.decode("YIDAIDEMOTOTPSECRETYIDAIDEMO2345")
        #expect(secret.count == 20)
        #expect(hex(secret) == "c206040c8c74dd37c8828927840c081918ed6f9d")  // Python's base64.b32decode
        #expect(Base32.encode(secret) == "YIDAIDEMOTOTPSECRETYIDAIDEMO2345")
    }

    @Test("lower case and spaces are accepted as people type them")
    func lenientInput() throws {
        let secret = try Base32.decode("YIDAIDEMOTOTPSECRETYIDAIDEMO2345")
        #expect(try Base32.decode("yidaidemototpsecretyidaidemo2345") == secret)
        #expect(try Base32.decode(" yida idem otot psec rety idai demo 2345 ") == secret)
        #expect(try Base32.decode("MZXW 6YQ=") == bytes("foob"))
    }

    @Test("a character outside the alphabet is refused with its position")
    func badCharacters() {
        #expect(throws: Base32Error.invalidCharacter("1", offset: 7)) { try Base32.decode("MZXW6YT1") }
        #expect(throws: Base32Error.invalidCharacter("0", offset: 0)) { try Base32.decode("0ZXW6YTB") }
        #expect(throws: Base32Error.invalidCharacter("8", offset: 2)) { try Base32.decode("MZ8W6YTB") }
        #expect(throws: Base32Error.invalidCharacter("=", offset: 2)) { try Base32.decode("MZ=W6YTB") }
        #expect(throws: Base32Error.invalidCharacter("易", offset: 1)) { try Base32.decode("M易") }
        #expect(
            Base32Error.invalidCharacter("1", offset: 7).description
                == "'1' at position 8 is not a base32 character (A-Z, 2-7)")
    }

    @Test("a length no bytes encode to is refused")
    func badLengths() {
        #expect(throws: Base32Error.invalidLength(1)) { try Base32.decode("M") }
        #expect(throws: Base32Error.invalidLength(3)) { try Base32.decode("MZX") }
        #expect(throws: Base32Error.invalidLength(6)) { try Base32.decode("MZXW6Y==") }
        #expect(throws: Base32Error.invalidLength(9)) { try Base32.decode("MZXW6YTBO") }
    }
}

@Suite("RFC 6238 time-based one-time passwords")
struct TotpTests {
    static let rfcSecret = bytes("12345678901234567890")
    static let demoSecret: [UInt8] = try! Base32.decode("YIDAIDEMOTOTPSECRETYIDAIDEMO2345")
    /// 2026-01-01T00:00:00Z, the start of time step 58,907,520.
    static let newYear = Date(timeIntervalSince1970: 1_767_225_600)

    @Test(
        "the RFC 6238 SHA-1 vectors give the published codes",
        arguments: [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ] as [(Int64, String)])
    func rfcVectors(unixTime: Int64, expected: String) {
        let totp = TimeBasedOneTimePassword(digits: .eight)
        #expect(totp.code(secret: Self.rfcSecret, at: Date(timeIntervalSince1970: TimeInterval(unixTime))) == expected)
    }

    @Test("six-digit codes are the last six digits of the eight-digit ones, leading zeros kept")
    func sixDigits() {
        let totp = TimeBasedOneTimePassword.standard
        #expect(totp.code(secret: Self.rfcSecret, at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.code(secret: Self.rfcSecret, at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
    }

    @Test("the demo secret gives the codes Python's hmac module computes")
    func demoSecretCodes() {
        let totp = TimeBasedOneTimePassword.standard
        #expect(totp.timeStep(at: Self.newYear) == 58_907_520)
        #expect(totp.code(secret: Self.demoSecret, at: Self.newYear) == "604852")
        #expect(totp.code(secret: Self.demoSecret, at: Self.newYear.addingTimeInterval(29.999)) == "604852")
        #expect(totp.code(secret: Self.demoSecret, at: Self.newYear.addingTimeInterval(30)) == "800595")
        #expect(totp.code(secret: Self.demoSecret, at: Self.newYear.addingTimeInterval(-0.001)) == "718737")
    }

    @Test("the current code and one step of drift either way are accepted, returning their step")
    func drift() {
        let totp = TimeBasedOneTimePassword.standard
        let now = Self.newYear.addingTimeInterval(12)
        for (code, step): (String, Int64) in [("718737", 58_907_519), ("604852", 58_907_520), ("800595", 58_907_521)] {
            #expect(totp.verify(code: code, secret: Self.demoSecret, at: now, lastUsedStep: nil) == step)
        }
    }

    @Test("codes two steps away are refused")
    func tooMuchDrift() {
        let totp = TimeBasedOneTimePassword.standard
        let now = Self.newYear.addingTimeInterval(12)
        #expect(totp.verify(code: "097080", secret: Self.demoSecret, at: now, lastUsedStep: nil) == nil)
        #expect(totp.verify(code: "896955", secret: Self.demoSecret, at: now, lastUsedStep: nil) == nil)
    }

    @Test("a code already used is refused, and so is any earlier one, while later ones still pass")
    func replay() {
        let totp = TimeBasedOneTimePassword.standard
        let now = Self.newYear.addingTimeInterval(12)
        let used = totp.verify(code: "604852", secret: Self.demoSecret, at: now, lastUsedStep: nil)
        #expect(used == 58_907_520)
        #expect(totp.verify(code: "604852", secret: Self.demoSecret, at: now, lastUsedStep: used) == nil)
        #expect(
            totp.verify(code: "604852", secret: Self.demoSecret, at: now.addingTimeInterval(30), lastUsedStep: used)
                == nil)
        #expect(totp.verify(code: "718737", secret: Self.demoSecret, at: now, lastUsedStep: used) == nil)
        #expect(totp.verify(code: "800595", secret: Self.demoSecret, at: now, lastUsedStep: used) == 58_907_521)
    }

    @Test("a wrong code, a wrong secret or a malformed code is refused; spaces inside are accepted")
    func malformed() {
        let totp = TimeBasedOneTimePassword.standard
        let now = Self.newYear.addingTimeInterval(12)
        for code in ["604853", "60485", "6048520", "60485a", "", "６０４８５２", "604852\n"] {
            #expect(totp.verify(code: code, secret: Self.demoSecret, at: now, lastUsedStep: nil) == nil)
        }
        #expect(totp.verify(code: "604852", secret: Self.rfcSecret, at: now, lastUsedStep: nil) == nil)
        #expect(totp.verify(code: "604 852", secret: Self.demoSecret, at: now, lastUsedStep: nil) == 58_907_520)
    }

    @Test("the RFC vectors verify with eight digits")
    func verifyEightDigits() {
        let totp = TimeBasedOneTimePassword(digits: .eight)
        let at = Date(timeIntervalSince1970: 1_111_111_111)
        #expect(totp.verify(code: "14050471", secret: Self.rfcSecret, at: at, lastUsedStep: nil) == 37_037_037)
        #expect(totp.verify(code: "050471", secret: Self.rfcSecret, at: at, lastUsedStep: nil) == nil)
    }

    @Test("a clock before 1970 counts as step 0 instead of trapping")
    func brokenClock() {
        let totp = TimeBasedOneTimePassword.standard
        #expect(totp.timeStep(at: Date(timeIntervalSince1970: -1_000)) == 0)
        #expect(totp.timeStep(at: .distantFuture) > 0)
    }

    @Test("the otpauth URI names issuer and account, percent-encoding Chinese and reserved characters")
    func otpauthURI() {
        let totp = TimeBasedOneTimePassword.standard
        #expect(
            totp.otpauthURI(secretBase32: "YIDAIDEMOTOTPSECRETYIDAIDEMO2345", account: "sz-cm1", issuer: "易贷")
                == "otpauth://totp/%E6%98%93%E8%B4%B7:sz-cm1?secret=YIDAIDEMOTOTPSECRETYIDAIDEMO2345"
                + "&issuer=%E6%98%93%E8%B4%B7&algorithm=SHA1&digits=6&period=30")
        #expect(
            totp.otpauthURI(secretBase32: "mzxw 6ytb oi======", account: "林晓 a@b:c", issuer: "Yidai & Co")
                == "otpauth://totp/Yidai%20%26%20Co:%E6%9E%97%E6%99%93%20a%40b%3Ac?secret=MZXW6YTBOI"
                + "&issuer=Yidai%20%26%20Co&algorithm=SHA1&digits=6&period=30")
    }
}
