/// A mainland China mobile number: 11 digits, `1[3-9]` and 9 more.
/// Accepts a `+86` / `86` / `0086` prefix and spaces or dashes, and stores the bare 11 digits.
/// `description` is masked.
public struct MobileNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let field = "phone"

    /// The bare 11 digits.
    public let value: String

    public init(_ raw: String) throws(FieldError) {
        var s = String(IdentityCharacters.halfWidth(raw).filter { !$0.isWhitespace && $0 != "-" && $0 != "(" && $0 != ")" })
        guard !s.isEmpty else {
            throw Self.error("phone_required", "Enter the mobile number", "请输入手机号码")
        }
        if s.hasPrefix("+86") {
            s.removeFirst(3)
        } else if s.hasPrefix("0086"), s.count == 15 {
            s.removeFirst(4)
        } else if s.hasPrefix("86"), s.count == 13 {
            s.removeFirst(2)
        }
        guard s.allSatisfy(IdentityCharacters.isDigit) else {
            throw Self.error("phone_format", "A mobile number has digits only", "手机号码只能包含数字")
        }
        guard s.count == 11 else {
            throw Self.error(
                "phone_length", "A mobile number has 11 digits (\(s.count) given)", "手机号码应为11位（当前\(s.count)位）")
        }
        let chars = Array(s)
        guard chars[0] == "1", ("3"..."9").contains(chars[1]) else {
            throw Self.error(
                "phone_prefix", "A mobile number starts with 13 to 19", "手机号码应以13至19开头，请核对")
        }
        self.value = s
    }

    /// First 3 and last 4 digits kept: `138****0001`.
    public var masked: String { String(value.prefix(3)) + "****" + String(value.suffix(4)) }

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
