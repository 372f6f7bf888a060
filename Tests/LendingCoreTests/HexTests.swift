import Foundation
import LendingCore
import Testing

@Suite("Hexadecimal of bytes")
struct HexTests {
    @Test("bytes read as two lower-case hex digits each, in order, with leading zeros kept")
    func hexOfBytes() {
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.string([0x00, 0x01, 0x0f, 0x10, 0xab, 0xff]) == "00010f10abff")
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.string(all) == all.map { String(format: "%02x", $0) }.joined())
    }

    @Test("the SHA-256 of \"abc\" reads as the standard's test vector")
    func digestVector() {
        // FIPS 180-2, appendix B.1, given here as bytes so this target needs no crypto library.
        let digest: [UInt8] = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
            0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ]
        #expect(Hex.string(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
