import Crypto
import Foundation
import LendingCore
import Logging

/// Reads both sides of a resident identity card from photos.
public protocol IDCardOCR: OutsideService {
    func read(front: Data, back: Data) async throws(ProviderError) -> IDCardReading
}

/// What OCR read off a card. The applicant confirms (and may correct) it; `idNumber` is raw text until then.
public struct IDCardReading: Sendable, Codable, Equatable {
    public var name: String
    public var idNumber: String
    public var address: String
    public var sex: Sex?
    /// 民族, e.g. 汉.
    public var ethnicity: String?
    public var birthDate: CivilDate?
    /// 签发机关, e.g. 深圳市公安局南山分局.
    public var issuingAuthority: String
    public var validFrom: CivilDate?
    public var validUntil: IDCardValidUntil?
    /// How sure the engine was of each field it read (0 to 100, its least sure character), by field name (`name`,
    /// `idNumber`, `address`, `issuingAuthority`, `validity`); nil from a source that does not say.
    public var confidence: [String: Double]?

    /// Equal when every field is; how sure the engine was does not count.
    public static func == (a: IDCardReading, b: IDCardReading) -> Bool {
        a.name == b.name && a.idNumber == b.idNumber && a.address == b.address && a.sex == b.sex && a.ethnicity == b.ethnicity
            && a.birthDate == b.birthDate && a.issuingAuthority == b.issuingAuthority && a.validFrom == b.validFrom
            && a.validUntil == b.validUntil
    }

    public init(
        name: String, idNumber: String, address: String, sex: Sex? = nil, ethnicity: String? = nil,
        birthDate: CivilDate? = nil, issuingAuthority: String, validFrom: CivilDate? = nil,
        validUntil: IDCardValidUntil? = nil, confidence: [String: Double]? = nil
    ) {
        self.name = name
        self.idNumber = idNumber
        self.address = address
        self.sex = sex
        self.ethnicity = ethnicity
        self.birthDate = birthDate
        self.issuingAuthority = issuingAuthority
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.confidence = confidence
    }
}

/// The end of a card's validity: a date, or 长期 (long-term, for people 46 and over at issue).
/// Encoded as `"YYYY-MM-DD"` or `"长期"`.
public enum IDCardValidUntil: Sendable, Codable, Equatable, CustomStringConvertible {
    case date(CivilDate)
    case longTerm

    public var description: String {
        switch self {
        case .date(let d): d.iso
        case .longTerm: "长期"
        }
    }

    /// False only for a dated card whose last valid day is before `date`.
    public func isValid(on date: CivilDate) -> Bool {
        switch self {
        case .date(let end): date <= end
        case .longTerm: true
        }
    }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        if raw == "长期" {
            self = .longTerm
        } else if let d = CivilDate(iso: raw) {
            self = .date(d)
        } else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a date or 长期: \(raw)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Recognizes the shipped test card images (SandboxCards) by the SHA-256 of their exact bytes;
/// any other image is unreadable, as a real OCR would answer for a blurred photo. The sandbox ProviderSet uses the
/// real engine (TesseractIDCardOCR); this simulator stays for tests that need an instant answer or an outage.
public struct SandboxIDCardOCR: IDCardOCR {
    public let serviceName = "ocr"
    public let isSandbox = true
    /// Label `yidai.sandbox.ocr` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(logger: Logger? = nil, failure: ProviderError? = nil) {
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.ocr")
    }

    public func read(front: Data, back: Data) async throws(ProviderError) -> IDCardReading {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        guard let f = SandboxCards.recognize(front), f.side == .front,
            let b = SandboxCards.recognize(back), b.side == .back, b.person == f.person,
            let reading = SandboxCards.reading(person: f.person)
        else {
            logger.sandboxInfo("OCR could not read the images (\(front.count) + \(back.count) bytes): not a sandbox test card")
            throw .unreadable
        }
        logger.sandboxInfo("OCR read test card \(f.person): \(PersonalDataMask.name(reading.name)), \(PersonalDataMask.idNumber(reading.idNumber))")
        return reading
    }
}

/// The sandbox test ID card images shipped with Providers (Sources/Providers/SandboxCards, made by
/// scripts/make-sandbox-cards.py) and what is printed on them (cards.json, written by the same script).
public enum SandboxCards {
    /// Person keys with both sides present, sorted: ["P01", …, "P11"].
    public static var persons: [String] { catalogue.persons }

    public static func image(person: String, side: IDCardSide) -> Data? {
        catalogue.images[Face(person: person.uppercased(), side: side)]
    }

    /// What is printed on the card (and what the sandbox OCR returns for it).
    public static func reading(person: String) -> IDCardReading? {
        catalogue.readings[person.uppercased()]
    }

    /// Which test card image these exact bytes are, if any (for the H5 "use test card" helper and tests).
    public static func identify(_ data: Data) -> (person: String, side: IDCardSide)? {
        recognize(data).map { ($0.person, $0.side) }
    }

    struct Face: Hashable, Sendable {
        let person: String
        let side: IDCardSide
    }

    static func recognize(_ data: Data) -> Face? {
        catalogue.byHash[sha256Hex(data)]
    }

    static func sha256Hex(_ data: Data) -> String {
        Hex.string(SHA256.hash(data: data))
    }

    struct Catalogue: Sendable {
        var images: [Face: Data] = [:]
        var byHash: [String: Face] = [:]
        var readings: [String: IDCardReading] = [:]
        var persons: [String] = []
    }

    /// Loaded once from the bundle; hashes are computed from the bundled bytes, so regenerating the images needs no code change.
    static let catalogue: Catalogue = {
        var c = Catalogue()
        guard let dir = Bundle.module.url(forResource: "SandboxCards", withExtension: nil) else { return c }
        if let json = try? Data(contentsOf: dir.appendingPathComponent("cards.json")),
            let readings = try? JSONDecoder().decode([String: IDCardReading].self, from: json)
        {
            c.readings = readings
        }
        for person in c.readings.keys.sorted() {
            var both = true
            for side in IDCardSide.allCases {
                let url = dir.appendingPathComponent("\(person)-\(side.rawValue).png")
                guard let data = try? Data(contentsOf: url) else {
                    both = false
                    continue
                }
                let face = Face(person: person, side: side)
                c.images[face] = data
                c.byHash[sha256Hex(data)] = face
            }
            if both { c.persons.append(person) }
        }
        return c
    }()
}
