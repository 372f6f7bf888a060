import Foundation
import Providers
import Testing

@testable import App

/// `yidai ocr`: card photos read from the command line, as the server reads them.
@Suite("The ocr command")
struct OCRCommandTests {
    static let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "ProvidersTests/OCRPhotos")

    @Test("a pair of card photos is read into one JSON line with the fields and the time; a damaged pair is an error line and exit status 1")
    func readsPairs() async throws {
        let front = Self.photos.appending(path: "C005-front.jpg").path, back = Self.photos.appending(path: "C005-back.jpg").path
        let (status, lines, errors) = await OCRCLI.report([front, back, "/etc/hostname", "/etc/hostname"])
        #expect(status == 1)
        #expect(errors.isEmpty)
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let reading = first?["reading"] as? [String: Any]
        #expect(reading?["idNumber"] as? String == "310115197208199157")
        #expect(reading?["name"] as? String == "邹海")
        #expect((first?["ms"] as? Int ?? -1) >= 0)
        #expect(lines[1].contains("\"error\":\"image_damaged\""))
    }

    @Test("photos not given in pairs, or an option, is a usage error with status 2")
    func usage() async {
        #expect(await OCRCLI.report([]).status == 2)
        #expect(await OCRCLI.report(["a.jpg"]).status == 2)
        #expect(await OCRCLI.report(["--fast", "a.jpg"]).status == 2)
        #expect(await OCRCLI.report(["a.jpg"]).errors.first?.contains("pairs") == true)
    }
}
