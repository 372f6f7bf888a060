/// A bank card number (ISO/IEC 7812): 16–19 digits passing the Luhn check. Spaces and dashes are allowed on entry.
/// `description` is masked.
public struct BankCardNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let field = "cardNumber"

    /// The bare digits.
    public let value: String

    public init(_ raw: String) throws(FieldError) {
        let s = String(IdentityCharacters.halfWidth(raw).filter { !$0.isWhitespace && $0 != "-" })
        guard !s.isEmpty else {
            throw Self.error("card_number_required", "Enter the bank card number", "请输入银行卡号")
        }
        guard s.allSatisfy(IdentityCharacters.isDigit) else {
            throw Self.error("card_number_format", "A bank card number has digits only", "银行卡号只能包含数字")
        }
        guard (16...19).contains(s.count) else {
            throw Self.error(
                "card_number_length", "A bank card number has 16 to 19 digits (\(s.count) given)",
                "银行卡号应为16至19位（当前\(s.count)位）")
        }
        guard Self.passesLuhn(s) else {
            throw Self.error(
                "card_number_check_digit", "This card number is not valid (check digit); please check it",
                "银行卡号校验不通过，请核对卡号")
        }
        self.value = s
    }

    /// The Luhn (mod 10) check over a string of digits.
    public static func passesLuhn(_ digits: String) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        guard !values.isEmpty, values.count == digits.count else { return false }
        var sum = 0
        for (i, d) in values.reversed().enumerated() {
            if i % 2 == 1 {
                let doubled = d * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += d
            }
        }
        return sum % 10 == 0
    }

    /// Issuer identification number: the first 6 digits.
    public var bin: String { String(value.prefix(6)) }

    public var last4: String { String(value.suffix(4)) }

    /// `6222 **** **** 0102`: first 4, last 4, whatever the length.
    public var masked: String { String(value.prefix(4)) + " **** **** " + last4 }

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

    private static func error(_ code: String, _ message: String, _ messageZh: String) -> FieldError {
        FieldError(field: field, code: code, message: message, messageZh: messageZh)
    }
}
