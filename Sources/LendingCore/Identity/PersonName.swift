import Foundation

/// A person's legal name as on the ID card: Chinese characters, with the middle dot of transliterated names
/// (买买提·艾力). 2–30 characters after trimming; stored as given. `description` is masked.
public struct PersonName: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let field = "name"

    public let value: String

    public init(_ raw: String) throws(FieldError) {
        let s = String(raw.filter { !$0.isWhitespace }).replacingMiddleDots()
        guard !s.isEmpty else {
            throw Self.error("name_required", "Enter the name as on the ID card", "请输入身份证上的姓名")
        }
        guard (2...30).contains(s.count) else {
            throw Self.error("name_length", "A name has 2 to 30 characters", "姓名应为2至30个字")
        }
        guard s.unicodeScalars.allSatisfy({ Self.isHan($0) || $0 == "·" }), s.first != "·", s.last != "·" else {
            throw Self.error(
                "name_format", "Enter the name in Chinese characters, as on the ID card", "请输入与身份证一致的中文姓名")
        }
        self.value = s
    }

    /// 张伟 → 张*, 周建国 → 周*国.
    public var masked: String { PersonalDataMask.name(value) }

    public var description: String { masked }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(raw)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }

    /// CJK Unified Ideographs and extensions A–F, plus the compatibility block.
    static func isHan(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2EBEF, 0xF900...0xFAFF: true
        default: false
        }
    }

    private static func error(_ code: String, _ message: String, _ messageZh: String) -> FieldError {
        FieldError(field: field, code: code, message: message, messageZh: messageZh)
    }
}

extension String {
    /// The other dots people type for the name separator (・ ． • ‧ .) become the standard middle dot ·.
    fileprivate func replacingMiddleDots() -> String {
        String(map { "・．•‧.".contains($0) ? "·" : $0 })
    }
}
