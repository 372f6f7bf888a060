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

    init(_ error: FieldError, status: HTTPResponseStatus = .unprocessableEntity) {
        self.init(status, code: error.code, message: error.message, messageZh: error.messageZh, field: error.field)
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
