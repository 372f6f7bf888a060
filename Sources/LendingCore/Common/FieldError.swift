/// A problem with one value a person or a client gave: which field, a stable code, and what is wrong
/// in English (API) and Chinese (H5 pages).
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let code: String
    public let message: String
    public let messageZh: String

    public init(field: String, code: String, message: String, messageZh: String) {
        self.field = field
        self.code = code
        self.message = message
        self.messageZh = messageZh
    }

    public var description: String { "\(field): \(message)" }
}
