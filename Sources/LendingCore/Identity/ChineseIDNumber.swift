/// A person's sex as encoded in the ID number's sequence digit (odd = male, even = female).
public enum Sex: String, Sendable, Codable, CaseIterable {
    case male, female

    public var zh: String { self == .male ? "男" : "女" }
}

/// A resident identity card number (居民身份证号码) checked against GB 11643-1999:
/// 6-digit region code, birth date YYYYMMDD, 3-digit sequence (odd = male), ISO 7064 MOD 11-2 check character.
///
/// `description` is masked so the full number never lands in a log by accident; use `value` when it is needed.
public struct ChineseIDNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let field = "idNumber"

    /// The normalised 18 characters (upper-case X).
    public let value: String

    public init(_ raw: String) throws(FieldError) {
        let compact = String(IdentityCharacters.halfWidth(raw).filter { !$0.isWhitespace }).uppercased()
        guard !compact.isEmpty else {
            throw Self.error("id_number_required", "Enter the ID number", "请输入身份证号码")
        }
        let chars = Array(compact)
        guard chars.count == 18 else {
            throw Self.error(
                "id_number_length", "An ID number has 18 characters (\(chars.count) given)",
                "身份证号码应为18位（当前\(chars.count)位）")
        }
        guard chars[0..<17].allSatisfy(IdentityCharacters.isDigit), IdentityCharacters.isDigit(chars[17]) || chars[17] == "X" else {
            throw Self.error(
                "id_number_format", "An ID number is 17 digits followed by a digit or X",
                "身份证号码格式不正确：前17位应为数字，最后一位为数字或X")
        }
        guard Self.provinceCodes.contains(String(chars[0..<2])) else {
            throw Self.error(
                "id_number_region", "The region code at the start of this ID number does not exist",
                "身份证号码开头的地区代码不存在，请核对")
        }
        guard let birth = CivilDate(compact: String(chars[6..<14])), birth.year >= 1900 else {
            throw Self.error(
                "id_number_birth_date", "The birth date inside this ID number (characters 7–14) is not a real date",
                "身份证号码中的出生日期（第7–14位）无效，请核对")
        }
        guard Self.checkCharacter(for: String(chars[0..<17])) == chars[17] else {
            throw Self.error(
                "id_number_check_digit", "The last character of this ID number does not match the others; please check it",
                "身份证号码校验位不正确，请核对")
        }
        self.value = compact
    }

    /// The ISO 7064 MOD 11-2 check character for the first 17 digits ("0"–"9" or "X").
    public static func checkCharacter(for first17: String) -> Character? {
        let digits = first17.compactMap(\.wholeNumberValue)
        guard digits.count == 17, first17.count == 17 else { return nil }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return Array("10X98765432")[sum % 11]
    }

    public var birthDate: CivilDate {
        CivilDate(compact: String(Array(value)[6..<14]))!
    }

    public var sex: Sex {
        Array(value)[16].wholeNumberValue! % 2 == 1 ? .male : .female
    }

    /// The 6-digit administrative division code where the number was issued (e.g. 440305 深圳市南山区).
    public var regionCode: String { String(value.prefix(6)) }

    public func age(on date: CivilDate) -> Int { birthDate.age(on: date) }

    /// First 4 and last 4 characters kept: `4403**********2013`.
    public var masked: String { String(value.prefix(4)) + String(repeating: "*", count: 10) + String(value.suffix(4)) }

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

    /// Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence permits for HK/MO/TW).
    static let provinceCodes: Set<String> = [
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    ]

    private static func error(_ code: String, _ message: String, _ messageZh: String) -> FieldError {
        FieldError(field: field, code: code, message: message, messageZh: messageZh)
    }
}

/// Character handling shared by the identity value types.
enum IdentityCharacters {
    /// "0"..."9" only (not full-width or other scripts' digits).
    static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    /// Full-width forms that Chinese input methods produce (０-９, Ｘ, ｘ, ＋, －) become their ASCII forms.
    static func halfWidth(_ s: String) -> String {
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if (0xFF01...0xFF5E).contains(u.value), let ascii = Unicode.Scalar(u.value - 0xFEE0) {
                scalars.append(ascii)
            } else {
                scalars.append(u)
            }
        }
        return String(scalars)
    }
}
