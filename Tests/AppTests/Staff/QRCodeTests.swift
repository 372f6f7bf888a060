import Foundation
import Providers
import Testing

@testable import App

@Suite("QR codes (libqrencode)")
struct QRCodeTests {
    static let uri = "otpauth://totp/%E6%98%93%E8%B4%B7:risk2?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=%E6%98%93%E8%B4%B7&algorithm=SHA1&digits=6&period=30"

    @Test("an enrolment URI drawn as PNG is read back by a real QR decoder (zbarimg)")
    func decodes() throws {
        let code = try QRCode(Self.uri)
        let png = try #require(code.png(pixels: 600))
        let file = NSTemporaryDirectory() + "yidai-qr-\(UUID().uuidString).png"
        try png.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let decoder = ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let zbarimg = try #require(decoder, "zbarimg (Debian zbar-tools) is needed; scripts/test.sh installs it")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: zbarimg)
        process.arguments = ["--raw", "-q", file]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text == Self.uri)
    }

    @Test("the SVG keeps the quiet zone and draws every dark module")
    func svg() throws {
        let code = try QRCode("otpauth://totp/x?secret=ABC")
        let svg = code.svg()
        let total = code.width + 2 * QRCode.quietZone
        #expect(svg.contains("viewBox=\"0 0 \(total) \(total)\""))
        #expect(svg.components(separatedBy: "h1v1h-1z").count - 1 == code.modules.filter { $0 }.count)
        #expect(!svg.contains("M0 0"))  // nothing drawn in the quiet zone
    }
}
