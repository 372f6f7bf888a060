import Foundation
import LendingCore
import Logging
import Testing

@testable import Providers

/// The engine reading every photo afresh (the process-wide memory of test card readings is for the journeys), and
/// patient (see `patientOCR` in the app's tests): the whole suite reads many cards at once on a busy machine, and the
/// product's limits (15 s in the queue, 20 s to read) have their own tests here.
func patientFreshOCR() -> TesseractIDCardOCR {
    TesseractIDCardOCR(timeLimit: 180, remembersTestCards: false, maxWait: 600, logger: Logger(label: "test.ocr"))
}

/// The real OCR engine (Tesseract, Debian's chi_sim model) on the shipped test cards and on photos altered from
/// them: turned, swapped, smudged, or not a card at all.
@Suite("Tesseract ID card OCR", .serialized)
struct TesseractOCRTests {
    /// Reads every photo afresh (the process-wide memory of test card readings is for the journeys).
    let ocr = patientFreshOCR()

    func card(_ key: String) throws -> (front: Data, back: Data) {
        (try #require(SandboxCards.image(person: key, side: .front)), try #require(SandboxCards.image(person: key, side: .back)))
    }

    /// The image altered by leptonica, as PNG bytes (no longer a shipped test card, so never a remembered reading).
    func altered(_ data: Data, _ change: (LeptonicaImage) -> LeptonicaImage?) throws -> Data {
        let image = try #require(LeptonicaImage.decode(data, maxPixels: 10_000_000))
        let changed = try #require(change(image))
        let png = try #require(changed.pngData())
        #expect(SandboxCards.identify(png) == nil)
        return png
    }

    @Test("the engine reads every field of every test card as printed", arguments: SandboxPersona.all.map(\.key))
    func readsEveryTestCard(key: String) async throws {
        let (front, back) = try card(key)
        let printed = try #require(SandboxCards.reading(person: key))
        let persona = try #require(SandboxPersona.forKey(key))
        let reading = try await ocr.read(front: front, back: back)
        #expect(reading == printed)
        #expect(reading.name == persona.name && reading.idNumber == persona.idNumber.value)
    }

    @Test("a card photographed upside down or sideways, or the two photos given the other way round, reads the same")
    func turnedAndSwapped() async throws {
        let (front, back) = try card("P09")
        let printed = try #require(SandboxCards.reading(person: "P09"))
        #expect(try await ocr.read(front: back, back: front) == printed)
        let upsideDown = try altered(front) { $0.rotated(quarters: 2) }
        let sideways = try altered(back) { $0.rotated(quarters: 1) }
        #expect(try await ocr.read(front: upsideDown, back: sideways) == printed)
    }

    @Test("cards photographed larger and sent as JPEGs: every checked field as printed, the free text nearly always")
    func jpegPhotos() async throws {
        func photo(_ png: Data, _ factor: Float) throws -> Data {
            let image = try #require(LeptonicaImage.decode(png, maxPixels: 10_000_000)?.scaled(by: factor))
            return try #require(image.jpegData(quality: 80))
        }
        var freeText = 0, freeTextRight = 0
        for key in SandboxPersona.all.map(\.key) {
            let (front, back) = try card(key)
            let printed = try #require(SandboxCards.reading(person: key))
            let reading = try await ocr.read(front: try photo(front, 1.8), back: try photo(back, 2.5))
            // Checked against each other or against the card's rules: right, or left empty; here always right.
            #expect(reading.idNumber == printed.idNumber, "\(key)")
            #expect(reading.sex == printed.sex && reading.birthDate == printed.birthDate, "\(key)")
            #expect(reading.validFrom == printed.validFrom && reading.validUntil == printed.validUntil, "\(key)")
            #expect(reading.ethnicity == printed.ethnicity, "\(key)")
            // Name, address and authority are as good as the model; the applicant checks them before confirming.
            let pairs = [(reading.name, printed.name), (reading.address, printed.address), (reading.issuingAuthority, printed.issuingAuthority)]
            freeText += pairs.count
            freeTextRight += pairs.filter { $0.0 == $0.1 }.count
        }
        #expect(freeTextRight * 100 >= freeText * 90, "\(freeTextRight) of \(freeText) names, addresses and authorities read as printed")
    }

    @Test("a field the engine cannot read is left empty for the applicant; the rest is still read")
    func smudgedName() async throws {
        let (front, back) = try card("P01")
        // Paint over the name (姓名 line's value) as a glare would.
        let smudged = try altered(front) { $0.textGrey()?.whitened(PixelRect(x: 95, y: 30, width: 200, height: 40)) }
        let reading = try await ocr.read(front: smudged, back: back)
        #expect(reading.name == "")
        #expect(reading.idNumber == "440305198803152013")
        #expect(reading.address == SandboxCards.reading(person: "P01")?.address)
        #expect(reading.validUntil == .date(CivilDate(iso: "2038-03-20")!))
    }

    @Test("anything that is not both sides of a card cannot be read, and the error says why")
    func unreadable() async throws {
        let (front, back) = try card("P01")
        let blank = try altered(front) { $0.textGrey()?.whitened(PixelRect(x: 0, y: 0, width: $0.width, height: $0.height)) }
        // Something else: the card's back turned into a picture with no card (its emblem corner, much enlarged).
        let other = try altered(back) { $0.clipped(to: PixelRect(x: 0, y: 0, width: 200, height: 150))?.scaled(by: 3) }
        let copy = try altered(front) { $0.rotated(quarters: 0) }
        let truncated = copy.prefix(copy.count / 2)
        let cases: [(String, Data, Data, ProviderError)] = [
            ("not an image", Data("a photo".utf8), back, .imageDamaged),
            ("empty", Data(), Data(), .imageDamaged),
            ("a truncated PNG", Data(truncated), back, .imageDamaged),
            ("a blank picture", blank, back, .blankPhoto),
            ("something else", other, back, .unreadable),
            ("the front twice", front, front, .wrongSide),
            ("the back twice", back, back, .wrongSide),
        ]
        for (what, f, b, error) in cases {
            await #expect(throws: error, "\(what)") { try await ocr.read(front: f, back: b) }
        }
    }

    /// A PNG header (IHDR) for `w` x `h` pixels and no image data.
    static func pngHeader(_ w: UInt32, _ h: UInt32) -> Data {
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        for v in [w, h] { png += Data([UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]) }
        return png + Data([8, 2, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A JPEG's start and SOF0 header for `w` x `h` pixels and no image data.
    static func jpegHeader(_ w: UInt16, _ h: UInt16) -> Data {
        Data([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(h >> 8), UInt8(h & 0xFF), UInt8(w >> 8), UInt8(w & 0xFF), 3,
              1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    }

    @Test("a picture claiming more than 40 megapixels (PNG or JPEG, 20,000 x 20,000) is refused from its header, before it is decoded")
    func hugeImage() async throws {
        let (_, back) = try card("P01")
        for huge in [Self.pngHeader(10_000, 10_000), Self.pngHeader(20_000, 20_000), Self.jpegHeader(20_000, 20_000)] {
            #expect(LeptonicaImage.headerSize(huge) != nil)
            #expect(LeptonicaImage.decode(huge, maxPixels: TesseractIDCardOCR.maxPixels) == nil)
            #expect(TesseractIDCardOCR.photoProblem(huge) == .imageTooLarge)
            await #expect(throws: ProviderError.imageTooLarge) { try await ocr.read(front: huge, back: back) }
        }
        #expect(TesseractIDCardOCR.photoProblem(Self.pngHeader(4000, 3000)) == nil)
    }

    @Test("reads beyond the bound are turned away at once as busy; the others are read")
    func busy() async throws {
        let (original, back) = try card("P03")
        let front = try altered(original) { $0.rotated(quarters: 0) }
        let small = TesseractIDCardOCR(remembersTestCards: false, maxPending: 1, logger: Logger(label: "test.ocr"))
        // The one slot taken, as a read under way takes it (holding it here, not by a read in a task: under the whole
        // suite such a task once did not start for 30 s, and the test could not tell busy from late).
        #expect(small.pending.enter(limit: small.maxPending))
        #expect(small.readsPending == 1)
        await #expect(throws: ProviderError.busy) { try await small.read(front: front, back: back) }
        #expect(small.readsPending == 1)  // the refused read took nothing
        small.pending.leave()
        // With the slot free again a read goes through, and gives its slot back.
        let reading = try await small.read(front: front, back: back)
        #expect(reading.idNumber == "11010819850122401X")
        #expect(small.readsPending == 0)
    }

    @Test("a missing language model is the service unavailable, not a bad photo; running out of time is a timeout")
    func engineFailures() async throws {
        let (original, back) = try card("P02")
        let front = try altered(original) { $0.rotated(quarters: 0) }  // a copy: not a remembered test card
        let missing = TesseractIDCardOCR(language: "no_such_model", logger: Logger(label: "test.ocr"))
        #expect(missing.installationProblem() != nil)
        #expect(ocr.installationProblem() == nil)
        await #expect(throws: ProviderError.unavailable) { try await missing.read(front: front, back: back) }
        let hurried = TesseractIDCardOCR(timeLimit: 0, logger: Logger(label: "test.ocr"))
        await #expect(throws: ProviderError.timeout) { try await hurried.read(front: front, back: back) }
    }

    @Test("a test card read once is remembered; other photos are not")
    func remembersOnlyTestCards() async throws {
        let remembering = TesseractIDCardOCR(logger: Logger(label: "test.ocr"))
        let (front, back) = try card("P04")
        let first = try await remembering.read(front: front, back: back)
        #expect(first == SandboxCards.reading(person: "P04"))
        #expect(SampleCardReadings.shared.reading(front: front, back: back) == first)
        let turned = try altered(front) { $0.rotated(quarters: 2) }
        #expect(try await remembering.read(front: turned, back: back) == first)
        #expect(SampleCardReadings.shared.reading(front: turned, back: back) == nil)
    }
}

/// What IDCardTextReader believes, without the engine.
@Suite("ID card fields from OCR text")
struct IDCardTextRules {
    typealias R = IDCardTextReader

    @Test("an ID number is taken only when its check character, region and birth date are right")
    func idNumber() {
        #expect(R.idNumber("440305198803152013")?.value == "440305198803152013")
        #expect(R.idNumber("号码11010819850122401X")?.value == "11010819850122401X")
        #expect(R.idNumber("440305198803152014") == nil)  // check character
        #expect(R.idNumber("990305198803152013") == nil)  // region
        #expect(R.idNumber("44030519880315201") == nil)  // 17 characters
    }

    @Test("dates: the birth line, and a validity of 5, 10 or 20 years or 长期")
    func dates() {
        #expect(R.birthDate("1988年3月15日") == CivilDate(iso: "1988-03-15"))
        #expect(R.birthDate("1988年13月15日") == nil)
        #expect(R.validity("2018.03.20-2038.03.20")?.0 == CivilDate(iso: "2018-03-20"))
        #expect(R.validity("2018.03.20-2038.03.20")?.1 == IDCardValidUntil.date(CivilDate(iso: "2038-03-20")!))
        #expect(R.validity("2017.03.10-长期")?.0 == CivilDate(iso: "2017-03-10"))
        #expect(R.validity("2017.03.10-长期")?.1 == IDCardValidUntil.longTerm)
        #expect(R.validity("2021.01.15-2031.01.15")?.1 == .date(CivilDate(iso: "2031-01-15")!))
        #expect(R.validity("2018.03.20-2037.03.20") == nil)  // 19 years: a digit was misread
        #expect(R.validity("2018.03.20-2038.08.20") == nil)
        #expect(R.validity("2018.03.20") == nil)
        // The dash of a blurred photo read as a dot, before a whole second date (and found by the line probe).
        #expect(R.validity("2019.09.09.2039.09.09")?.1 == .date(CivilDate(iso: "2039-09-09")!))
        #expect("2019.09.09.2039.09.09".contains(R.dottedDate))
        #expect(!"440305198803152013".contains(R.dottedDate))
        #expect(R.validity("2019.09.09.长期") == nil)
    }

    @Test("names, addresses and authorities: what is printed, or empty when unlikely or read without confidence")
    func textFields() {
        #expect(R.name(OCRText(text: "张伟", minConfidence: 90)) == "张伟")
        #expect(R.name(OCRText(text: "“张伟", minConfidence: 90)) == "张伟")
        #expect(R.name(OCRText(text: "买买提·吐尔逊", minConfidence: 90)) == "买买提·吐尔逊")
        #expect(R.name(OCRText(text: "张", minConfidence: 90)) == "")
        #expect(R.name(OCRText(text: "张伟", minConfidence: 20)) == "")
        #expect(R.address(OCRText(text: "广东省深圳市南山区科苑路15号科兴科学园A栋1201", minConfidence: 80)) == "广东省深圳市南山区科苑路15号科兴科学园A栋1201")
        #expect(R.address(OCRText(text: "5号", minConfidence: 80)) == "")
        #expect(R.address(OCRText(text: "广东省深圳市南山区", minConfidence: 10)) == "")
        #expect(R.authority(OCRText(text: "深圳市公安局南山分局", minConfidence: 80)) == "深圳市公安局南山分局")
        #expect(R.authority(OCRText(text: "中华人民共和国", minConfidence: 80)) == "")
        #expect(R.trimmed("”广东省。") == "广东省")
    }

    @Test("the ethnic group after 民族, one of the 56")
    func ethnicity() {
        func line(_ words: String...) -> String { words.joined() }
        #expect(R.ethnicity(in: line("性别", "男", "民族", "汉")) == "汉")
        #expect(R.ethnicity(in: line("性别", "女", "民族", "维吾尔")) == "维吾尔")
        #expect(R.ethnicity(in: line("性别", "女", "民获", "回")) == "回")
        #expect(R.ethnicity(in: line("性别", "女", "民族", "火星")) == nil)
        #expect(R.ethnicity(in: line("女", "昆旅", "蒙古")) == "蒙古")
        #expect(R.ethnicGroups.count == 56)
    }
}
