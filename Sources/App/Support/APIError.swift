import LendingCore
import Vapor

/// The one error type every API route throws. It renders as
/// `{"error": {"code": "...", "message": "...", "field": "..."}}`; pages render `messageZh`.
struct APIError: AbortError, Sendable {
    let status: HTTPResponseStatus
    let code: String
    let message: String
    let messageZh: String
    let field: String?
    var headers: HTTPHeaders = [:]

    var reason: String { message }

    init(_ status: HTTPResponseStatus, code: String, message: String, messageZh: String? = nil, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.messageZh = messageZh ?? message
        self.field = field
    }

    /// A value that is missing is a malformed request (400); a value that is there but wrong is 422.
    init(_ error: FieldError, status: HTTPResponseStatus? = nil) {
        let missing = error.code == "missing_field" || error.code.hasSuffix("_required")
        self.init(status ?? (missing ? .badRequest : .unprocessableEntity), code: error.code, message: error.message,
                  messageZh: error.messageZh, field: error.field)
    }

    static func notFound(_ what: String = "resource") -> APIError {
        APIError(.notFound, code: "not_found", message: "No such \(what).", messageZh: "未找到该页面或记录。")
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", message: "Sign in with your phone and SMS code first.",
        messageZh: "请先用手机号和短信验证码登录。")

    static func missing(_ field: String) -> APIError {
        APIError(.badRequest, code: "missing_field", message: "\(field) is required.", messageZh: "请填写此项。", field: field)
    }

    static func invalid(_ field: String, _ message: String, zh: String) -> APIError {
        APIError(.unprocessableEntity, code: "invalid", message: message, messageZh: zh, field: field)
    }

    static func tooManyRequests(retryAfter seconds: Int, message: String, zh: String) -> APIError {
        var error = APIError(.tooManyRequests, code: "rate_limited", message: message, messageZh: zh)
        error.headers.replaceOrAdd(name: .retryAfter, value: String(max(1, seconds)))
        return error
    }
}

struct ErrorBody: Content {
    struct Detail: Content {
        let code: String
        let message: String
        let field: String?
    }
    let error: Detail
}

extension Request {
    /// Decodes a JSON body; an empty body reads as `{}` so that each missing field is named in its own error.
    func jsonBody<T: Decodable>(_ type: T.Type) throws -> T {
        guard let buffer = body.data, buffer.readableBytes > 0 else {
            return try JSONDecoder().decode(T.self, from: Data("{}".utf8))
        }
        if let contentType = headers.contentType, contentType != .json, contentType.subType != "json" {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.", messageZh: "请求格式不受支持。")
        }
        return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
    }
}

/// A JSON integer that must be whole: 12 or 12.0 is fine, 1.5 or a number beyond Int is refused naming the field.
struct WholeNumber: Codable, Sendable {
    let raw: Decimal

    init(_ value: Int) { raw = Decimal(value) }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int.self) {
            raw = Decimal(int)
        } else if let decimal = try? container.decode(Decimal.self) {
            raw = decimal
        } else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a whole number"))
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(raw)
    }

    func value(field: String) throws -> Int {
        var value = raw
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .plain)
        guard rounded == raw, raw >= Decimal(Int32.min), raw <= Decimal(Int32.max) else {
            throw APIError.invalid(field, "\(field) must be a whole number.", zh: "请输入整数。")
        }
        return NSDecimalNumber(decimal: raw).intValue
    }
}
