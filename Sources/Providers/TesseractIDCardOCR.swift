import Foundation
import LendingCore
import Logging

/// The real ID card OCR: Tesseract 5 with the Simplified Chinese model (Debian: libtesseract-dev to build,
/// tesseract-ocr-chi-sim at run time) reads both photos. It is used in the sandbox too, where the "use test card"
/// helper hands it the shipped test card images (SandboxCards) like any other photo.
///
/// Each photo is turned upright if it was taken sideways or upside down, reduced to its green channel (the red of
/// stamps and watermarks fades, the black print stays), and read by IDCardTextReader. Photos given in the wrong
/// order are taken the right way round. A photo that is not an image, or in which no side of a card can be found,
/// is `.unreadable` (please retake); a field the engine is unsure of comes back empty (or nil) for the applicant
/// to type. A missing language model is `.unavailable`, a read that runs past `timeLimit` `.timeout`.
public final class TesseractIDCardOCR: IDCardOCR, @unchecked Sendable {
    public let serviceName = "ocr"
    public let isSandbox = false
    /// Label `yidai.ocr` unless another logger is given.
    public let logger: Logger
    public let timeLimit: TimeInterval

    /// Where the traineddata files are (nil: Tesseract's default, or TESSDATA_PREFIX) and which model.
    let dataPath: String?
    let language: String
    /// Photos larger than this (in pixels, read from the file's header) are refused before decoding.
    static let maxPixels = 40_000_000
    /// Whether readings of the shipped test cards are kept for the process (SampleCardReadings).
    let remembersTestCards: Bool

    /// Reads running or waiting for an engine at most; and how long one waits for an engine before giving up.
    let maxPending: Int
    let maxWait: TimeInterval
    let pending = PendingCount()  // internal: the busy test holds the slots itself
    /// Reads running or waiting now (tests wait on it).
    var readsPending: Int { pending.current }
    private let engines: EnginePool
    private let queue: OperationQueue

    /// The engine with Tesseract's default model folder, shared by every ProviderSet of the process.
    public static let standard = TesseractIDCardOCR()

    public init(
        dataPath: String? = nil, language: String = "chi_sim", timeLimit: TimeInterval = 20, remembersTestCards: Bool = true,
        maxPending: Int = 16, maxWait: TimeInterval = 15, logger: Logger? = nil
    ) {
        self.maxPending = maxPending
        self.maxWait = maxWait
        self.dataPath = dataPath
        self.remembersTestCards = remembersTestCards
        self.language = language
        self.timeLimit = timeLimit
        self.logger = logger ?? Logger(label: "yidai.ocr")
        self.engines = EnginePool(dataPath: dataPath, language: language)
        let queue = OperationQueue()
        queue.name = "yidai.ocr"
        queue.maxConcurrentOperationCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
        self.queue = queue
        // The font's drawings of the likely name characters (GlyphMatcher), made once per process before a card needs them.
        queue.addOperation { _ = GlyphMatcher.quickTemplates }
    }

    /// Nil if the engine and its language model load; otherwise what is missing (for the start-up log).
    public func installationProblem() -> String? {
        guard let engine = engines.take() else {
            return "Tesseract could not load the \(language) model (install tesseract-ocr-chi-sim, or set TESSDATA_PREFIX)"
        }
        engines.give(back: engine)
        return nil
    }

    public func read(front: Data, back: Data) async throws(ProviderError) -> IDCardReading {
        if remembersTestCards,
            let result = await SampleCardReadings.shared.reading(front: front, back: back, readingWith: { await self.engineRead(front: front, back: back) })
        {
            return try result.get()
        }
        return try await engineRead(front: front, back: back).get()
    }

    /// One read by the engine, queued behind the others (at most one per processor at a time); `timeLimit` counts
    /// from when the engine starts on it.
    private func engineRead(front: Data, back: Data) async -> Result<IDCardReading, ProviderError> {
        // At most `maxPending` reads running or waiting (each holds its photos, up to 2 x 5 MB): more are turned away
        // at once (.busy, 503 ocr_busy); one that waited longer than `maxWait` for an engine gives up the same way.
        guard pending.enter(limit: maxPending) else {
            logger.warning("OCR busy: \(maxPending) reads already running or waiting")
            return .failure(.busy)
        }
        defer { pending.leave() }
        let queued = Date()
        let result: Result<IDCardReading, ProviderError> = await withCheckedContinuation { continuation in
            queue.addOperation { [self] in
                guard Date().timeIntervalSince(queued) <= maxWait else { return continuation.resume(returning: .failure(.busy)) }
                continuation.resume(returning: readNow(front: front, back: back, deadline: Date() + timeLimit))
            }
        }
        let ms = Int(Date().timeIntervalSince(queued) * 1000)
        switch result {
        case .success(let reading):
            logger.info("OCR read a card in \(ms) ms: \(PersonalDataMask.name(reading.name)), \(reading.idNumber.isEmpty ? "no ID number" : PersonalDataMask.idNumber(reading.idNumber))")
        case .failure(let error):
            logger.info("OCR could not read the card (\(front.count) + \(back.count) bytes) in \(ms) ms: \(error.code)")
        }
        return result
    }

    /// Runs on the OCR queue: Tesseract calls block.
    private func readNow(front: Data, back: Data, deadline: Date) -> Result<IDCardReading, ProviderError> {
        guard let engine = engines.take() else {
            logger.error("OCR engine unavailable: Tesseract could not load the \(language) model")
            return .failure(.unavailable)
        }
        defer { engines.give(back: engine) }
        if let problem = Self.photoProblem(front) ?? Self.photoProblem(back) { return .failure(problem) }
        guard let first = Self.prepared(front), let second = Self.prepared(back) else { return .failure(.imageDamaged) }
        if first.greySpread() < Self.blankSpread || second.greySpread() < Self.blankSpread { return .failure(.blankPhoto) }
        let reader = IDCardTextReader(engine: engine, deadline: deadline)
        var sides = (front: Self.find(reader.front, in: first), back: Self.find(reader.back, in: second))
        if sides.front == nil || sides.back == nil, Date() < deadline {
            // Perhaps the photos were given the other way round.
            let swapped = (front: Self.find(reader.front, in: second), back: Self.find(reader.back, in: first))
            if swapped.front != nil, swapped.back != nil { sides = swapped }
        }
        guard Date() < deadline else { return .failure(.timeout) }
        if sides.front == nil || sides.back == nil, Date() < deadline {
            // Both photos of the same side? (Checked only when the pair failed, so a good pair costs nothing.)
            let fronts = [first, second].filter { Self.find(reader.front, in: $0).map { !$0.isBlank } == true }.count
            let backs = fronts == 2 ? 0 : [first, second].filter { Self.find(reader.back, in: $0).map { !$0.isBlank } == true }.count
            if fronts == 2 || backs == 2 { return .failure(.wrongSide) }
            // Out of time during that check: its answer is incomplete, so the read timed out (not "unreadable").
            guard Date() < deadline else { return .failure(.timeout) }
        }
        guard let f = sides.front, let b = sides.back, !f.isBlank, !b.isBlank else { return .failure(.unreadable) }
        return .success(IDCardReading(
            name: f.name, idNumber: f.idNumber, address: f.address, sex: f.sex, ethnicity: f.ethnicity, birthDate: f.birthDate,
            issuingAuthority: b.issuingAuthority, validFrom: b.validFrom, validUntil: b.validUntil,
            confidence: f.confidence.merging(b.confidence) { $1 }))
    }

    /// A photo whose grey levels spread less than this (standard deviation) shows nothing.
    static let blankSpread = 4.0

    /// Told from the file's header before decoding: not an image (or cut off before its header ends), or one claiming
    /// more than `maxPixels`. Nil if decoding may go ahead.
    static func photoProblem(_ data: Data) -> ProviderError? {
        guard let size = LeptonicaImage.headerSize(data) else { return .imageDamaged }
        return size.width * size.height > maxPixels ? .imageTooLarge : nil
    }

    /// Decoded, one grey channel, the card alone (if it can be told from what it lies on) straightened and 640 pixels
    /// across: its fields some 20 pixels high, read enlarged (IDCardTextReader.zooms). A photo is first brought to at
    /// most 1000 pixels (at least 640) on its long side, so that a card filling part of it keeps its detail.
    static func prepared(_ data: Data) -> LeptonicaImage? {
        guard let decoded = LeptonicaImage.decode(data, maxPixels: maxPixels), let grey = decoded.textGrey() else { return nil }
        let long = max(grey.width, grey.height)
        let factor: Float? = (600...1000).contains(long) ? nil : Float(long < 600 ? 640 : 1000) / Float(long)
        guard let sized = factor.map({ grey.scaled(by: $0) }) ?? grey else { return nil }
        let skew = sized.skew(maxDegrees: 12)
        guard let straight = sized.turned(byDegrees: skew) else { return nil }
        // The card is told from what it lies on by its whiteness (light in every colour); where that finds nothing
        // card-shaped (a white table), by the green channel's lightness. Looked for again with the corners turned in
        // dark when the light ones joined it, as where the card runs off the picture.
        let white = decoded.whiteness().flatMap { w in factor.map { w.scaled(by: $0) } ?? w }
        let card =
            white?.turned(byDegrees: skew, bringingInBlack: true)?.cardRegion() ?? straight.cardRegion()
            ?? sized.turned(byDegrees: skew, bringingInBlack: true)?.cardRegion()
        guard let card, card.width < straight.width * 95 / 100 || card.height < straight.height * 95 / 100,
            let clipped = straight.clipped(to: card.padded(card.width / 40, card.width / 40, within: straight.width, straight.height))
        else { return straight }
        let cardLong = max(clipped.width, clipped.height)
        // Straightened again on the card alone, where its print decides the skew.
        return clipped.scaled(by: 640 / Float(cardLong))?.deskewed(maxDegrees: 12) ?? straight
    }

    /// `side` of the card in `image` as it is, else turned a half turn, else a quarter turn either way
    /// (a portrait photo of a landscape card is tried sideways first).
    static func find<Side>(_ side: (LeptonicaImage) -> Side?, in image: LeptonicaImage) -> Side? {
        let turns = image.height > image.width ? [1, 3, 0, 2] : [0, 2, 1, 3]
        for quarters in turns {
            guard let turned = quarters == 0 ? image : image.rotated(quarters: quarters) else { continue }
            if let found = side(turned) { return found }
        }
        return nil
    }
}

/// How many reads are running or waiting.
final class PendingCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func enter(limit: Int) -> Bool {
        lock.withLock {
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { lock.withLock { count -= 1 } }

    var current: Int { lock.withLock { count } }
}

/// Tesseract engines, loaded on first use and reused: loading the model is the slow part of a first read.
final class EnginePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [TesseractEngine] = []
    private let dataPath: String?
    private let language: String

    init(dataPath: String?, language: String) {
        self.dataPath = dataPath
        self.language = language
    }

    func take() -> TesseractEngine? {
        if let engine = lock.withLock({ idle.popLast() }) { return engine }
        return TesseractEngine(dataPath: dataPath, language: language)
    }

    func give(back engine: TesseractEngine) {
        lock.withLock { idle.append(engine) }
    }
}

/// What the engine read from the shipped test card images (SandboxCards), kept for the life of the process so
/// that the many journeys of the tests and demos do not read the same fixture again (and journeys that upload the
/// same card at the same moment wait for one read). Only test cards are kept, and only readings, not failures: the
/// reading of any other photo (a real person's card) is returned and forgotten.
final class SampleCardReadings: @unchecked Sendable {
    static let shared = SampleCardReadings()
    private let lock = NSLock()
    private var readings: [String: IDCardReading] = [:]
    private var inProgress: [String: Task<Result<IDCardReading, ProviderError>, Never>] = [:]

    private func key(_ front: Data, _ back: Data) -> String? {
        guard let f = SandboxCards.recognize(front), let b = SandboxCards.recognize(back) else { return nil }
        return "\(f.person)-\(f.side.rawValue)+\(b.person)-\(b.side.rawValue)"
    }

    /// The reading remembered for these images, if they are test cards read before.
    func reading(front: Data, back: Data) -> IDCardReading? {
        guard let key = key(front, back) else { return nil }
        return lock.withLock { readings[key] }
    }

    /// Nil unless both images are test cards; then the reading remembered, or the one in progress, or `read`'s.
    func reading(
        front: Data, back: Data, readingWith read: @escaping @Sendable () async -> Result<IDCardReading, ProviderError>
    ) async -> Result<IDCardReading, ProviderError>? {
        guard let key = key(front, back) else { return nil }
        let task: Task<Result<IDCardReading, ProviderError>, Never> = lock.withLock {
            if let known = readings[key] { return Task { .success(known) } }
            if let running = inProgress[key] { return running }
            let started = Task { await read() }
            inProgress[key] = started
            return started
        }
        let result = await task.value
        lock.withLock {
            if inProgress[key] == task { inProgress[key] = nil }
            if case .success(let reading) = result { readings[key] = reading }
        }
        return result
    }
}
