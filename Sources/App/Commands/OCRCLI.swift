import Foundation
import Providers

/// `yidai ocr FRONT BACK [FRONT BACK …]`: reads ID card photo pairs with the real OCR (Tesseract, as the server
/// does) and prints one JSON line per pair: what was read, how sure the engine was of each field, and how long the
/// read took. For a bank trying Yidai with its own card photos, and for timing the engine in a release build.
public enum OCRCLI {
    static let usage = "usage: yidai ocr FRONT.jpg BACK.jpg [FRONT.jpg BACK.jpg …]"

    /// One pair's answer: the reading, or the error's code (`card_unreadable`, `image_damaged`, …).
    struct Line: Encodable {
        var front: String
        var back: String
        var ms: Int
        var reading: IDCardReading?
        var error: String?
    }

    public static func run(_ arguments: [String]) -> Int32 {
        let (status, lines, errors) = Blocking.wait { await report(arguments) }
        for line in lines { print(line) }
        for error in errors { FileHandle.standardError.write(Data("ocr: \(error)\n".utf8)) }
        return status
    }

    /// The exit status (0 every pair read, 1 some not, 2 wrong arguments), the JSON lines and the error messages.
    static func report(_ arguments: [String], ocr: TesseractIDCardOCR? = nil) async -> (status: Int32, lines: [String], errors: [String]) {
        guard !arguments.isEmpty, arguments.count.isMultiple(of: 2), !arguments.contains(where: { $0.hasPrefix("-") }) else {
            return (2, [], ["give the photos in pairs, front then back\n\(usage)"])
        }
        let ocr = ocr ?? TesseractIDCardOCR(remembersTestCards: false)
        if let problem = ocr.installationProblem() { return (1, [], [problem]) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var status: Int32 = 0
        var lines: [String] = [], errors: [String] = []
        for pair in stride(from: 0, to: arguments.count, by: 2) {
            let (frontPath, backPath) = (arguments[pair], arguments[pair + 1])
            guard let front = FileManager.default.contents(atPath: frontPath), let back = FileManager.default.contents(atPath: backPath) else {
                errors.append("cannot read \(frontPath) or \(backPath)")
                status = 1
                continue
            }
            let started = Date()
            var line = Line(front: frontPath, back: backPath, ms: 0)
            do throws(ProviderError) {
                line.reading = try await ocr.read(front: front, back: back)
            } catch {
                line.error = error.code
                status = 1
            }
            line.ms = Int(Date().timeIntervalSince(started) * 1000)
            if let data = try? encoder.encode(line) { lines.append(String(decoding: data, as: UTF8.self)) }
        }
        return (status, lines, errors)
    }
}

/// Runs async work to its end from synchronous code (a command-line tool's main path, before any event loop).
enum Blocking {
    private final class Box<T>: @unchecked Sendable { var value: T? }

    static func wait<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await work()
            done.signal()
        }
        done.wait()
        return box.value!
    }
}
