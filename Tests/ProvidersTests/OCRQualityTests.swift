import Foundation
import LendingCore
import Logging
import Testing

@testable import Providers

/// The OCR on the generated set: 100 made-up cards drawn in the standard layout and photographed in software
/// (scripts/make-ocr-photos.py: turned up to ±10°, mild perspective, 60–100 % of the picture, blur, noise, uneven
/// light, JPEG 50–95), each field compared with its truth (OCRPhotos/truth.json), against the issue's floors.
/// scripts/ocr-quality.sh runs this test and prints the figures (OCR_QUALITY_REPORT names a file for them).
@Suite("OCR quality on the generated photo set", .serialized)
struct OCRQualityTests {
    let ocr = patientFreshOCR()

    /// What issue 14 asks for: ID number, name, address (character accuracy), validity.
    static let issueFloors = (id: 0.97, name: 0.93, address: 0.95, validity: 0.95)

    /// The set checked in (OCRPhotos), or the folder OCR_PHOTOS names (another set made by the script, to measure on).
    static let folder = ProcessInfo.processInfo.environment["OCR_PHOTOS"].map { URL(fileURLWithPath: $0) }
        ?? Bundle.module.url(forResource: "OCRPhotos", withExtension: nil)

    /// Levenshtein distance in characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    @Test("distance counts inserted, removed and changed characters")
    func distanceCounts() {
        #expect(Self.distance("广东省深圳市", "广东省深圳市") == 0)
        #expect(Self.distance("广东省深圳市", "广东深川市") == 2)
        #expect(Self.distance("", "深圳") == 2)
    }

    @Test("ID number, name, address, validity at or above the floors; a wrong ID number is never passed on")
    func generatedSet() async throws {
        let folder = try #require(Self.folder)
        let truth = try JSONDecoder().decode([String: IDCardReading].self, from: Data(contentsOf: folder.appending(path: "truth.json")))
        #expect(truth.count >= 100)
        var idExact = 0, nameExact = 0, validityExact = 0, addressChars = 0, addressRight = 0, unreadable = 0
        var wrongIDs: [String] = []
        var misses: [String] = []
        var times: [(String, Double)] = []
        for key in truth.keys.sorted() {
            let printed = truth[key]!
            let front = try Data(contentsOf: folder.appending(path: "\(key)-front.jpg"))
            let back = try Data(contentsOf: folder.appending(path: "\(key)-back.jpg"))
            let started = Date()
            let reading: IDCardReading
            do {
                reading = try await ocr.read(front: front, back: back)
            } catch {
                times.append((key, Date().timeIntervalSince(started)))
                unreadable += 1
                addressChars += printed.address.count
                misses.append("\(key): unreadable (\(error.code))")
                continue
            }
            times.append((key, Date().timeIntervalSince(started)))
            if reading.idNumber == printed.idNumber { idExact += 1 } else if !reading.idNumber.isEmpty { wrongIDs.append("\(key): \(reading.idNumber) for \(printed.idNumber)") }
            if reading.name == printed.name { nameExact += 1 }
            if reading.validFrom == printed.validFrom, reading.validUntil == printed.validUntil { validityExact += 1 }
            addressChars += printed.address.count
            addressRight += max(0, printed.address.count - Self.distance(reading.address, printed.address))
            for (field, got, want) in [
                ("id", reading.idNumber, printed.idNumber), ("name", reading.name, printed.name), ("address", reading.address, printed.address),
                ("validity", "\(reading.validFrom?.iso ?? "")-\(reading.validUntil?.description ?? "")", "\(printed.validFrom?.iso ?? "")-\(printed.validUntil?.description ?? "")"),
            ] where got != want {
                misses.append("\(key) \(field): \"\(got)\" for \"\(want)\"")
            }
        }
        let n = Double(truth.count)
        let figures = (
            id: Double(idExact) / n, name: Double(nameExact) / n, address: Double(addressRight) / Double(addressChars),
            validity: Double(validityExact) / n
        )
        let slowest = times.max { $0.1 < $1.1 }!
        let mean = times.map(\.1).reduce(0, +) / Double(times.count)
        let overBudget = times.filter { $0.1 > 2 }.count
        func pc(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
        let report = """
            cards: \(truth.count) (unreadable: \(unreadable))
            ID number exact: \(pc(figures.id)) (floor 97 %); wrong valid-looking numbers: \(wrongIDs.count)
            name exact: \(pc(figures.name)) (floor 93 %)
            address character accuracy: \(pc(figures.address)) (floor 95 %)
            validity exact: \(pc(figures.validity)) (floor 95 %)
            time per card: mean \(String(format: "%.2f", mean)) s, slowest \(slowest.0) \(String(format: "%.2f", slowest.1)) s (budget 2 s), over 2 s: \(overBudget)
            misses:
            \(misses.joined(separator: "\n"))
            """
        print(report)
        if let path = ProcessInfo.processInfo.environment["OCR_QUALITY_REPORT"] {
            try report.write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(wrongIDs.isEmpty, "\(wrongIDs)")
        #expect(figures.id >= Self.issueFloors.id)
        #expect(figures.name >= Self.issueFloors.name)
        #expect(figures.address >= Self.issueFloors.address)
        #expect(figures.validity >= Self.issueFloors.validity)
    }
}
