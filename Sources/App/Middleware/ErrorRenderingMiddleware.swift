import Fluent
import Leaf
import Vapor

/// Turns every error into the API's JSON error shape (for /api, /openapi.json, /health, /sandbox JSON)
/// or a friendly Chinese page (for pages). Never a stack trace or SQL text.
struct ErrorRenderingMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return await render(error, for: request)
        }
    }

    func render(_ error: Error, for request: Request) async -> Response {
        let api = Self.classify(error, request: request)
        if api.status.code >= 500 {
            // The cause, with anything that looks like a phone, ID or card number masked; the request id is in the
            // logger's metadata, so the log line and the answer the client saw can be matched.
            let cause = error is APIError ? "\(api.code): \(api.message)" : String(reflecting: error)
            request.logger.error(
                "Unexpected error \(String(reflecting: type(of: error))): \(LogMasking.mask(cause))",
                metadata: ["path": .string(request.path)])
        }
        var headers = api.headers
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        if Self.wantsJSON(request) {
            let body = ErrorBody(error: .init(code: api.code, message: api.message, field: api.field))
            let data = (try? JSONEncoder().encode(body)) ?? Data()
            headers.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
            return Response(status: api.status, headers: headers, body: .init(data: data))
        }
        let context = ErrorPageContext(
            title: api.status == .notFound ? "页面不存在" : (api.status.code >= 500 ? "系统繁忙" : "出错了"),
            message: api.status.code >= 500 ? "系统暂时无法处理您的请求，请稍后再试。" : api.messageZh,
            status: Int(api.status.code),
            sandbox: request.application.yidai.providers.isSandbox)
        if let view = try? await request.view.render("error", context) {
            let response = try? await view.encodeResponse(status: api.status, for: request)
            if let response {
                for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
                return response
            }
        }
        headers.replaceOrAdd(name: .contentType, value: "text/plain; charset=utf-8")
        return Response(status: api.status, headers: headers, body: .init(string: context.message))
    }

    static func wantsJSON(_ request: Request) -> Bool {
        let path = request.path
        if path.hasPrefix("/api/") || path == "/api" || path == "/health" || path == "/openapi.json" { return true }
        return request.headers.accept.mediaTypes.contains(.json)
            && !request.headers.accept.mediaTypes.contains(.html)
    }

    static func classify(_ error: Error, request: Request) -> APIError {
        switch error {
        case let api as APIError:
            return api
        case FluentError.invalidField(_, _, let stored as APIError):
            // A stored value that failed its loud decode (`StoredValues`) while Fluent read the row.
            return stored
        case let decoding as DecodingError:
            return decodingError(decoding)
        case let abort as AbortError:
            switch abort.status {
            case .notFound:
                return .notFound("route")
            case .payloadTooLarge:
                return APIError(.payloadTooLarge, code: "payload_too_large", message: "The request body is larger than the limit.", messageZh: "上传的内容过大。")
            case .unsupportedMediaType:
                return APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.", messageZh: "请求格式不受支持。")
            case .badRequest:
                return APIError(.badRequest, code: "bad_request", message: "The request is malformed: \(sanitize(abort.reason))", messageZh: "请求格式有误。")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, code: "method_not_allowed", message: "This method is not allowed here.", messageZh: "不支持该操作。")
            default:
                let code = abort.status.code
                if code >= 500 {
                    return APIError(.internalServerError, code: "internal_error", message: "Something went wrong on our side. Please try again.", messageZh: "系统繁忙，请稍后再试。")
                }
                return APIError(abort.status, code: "http_\(code)", message: sanitize(abort.reason), messageZh: "请求无法处理。")
            }
        default:
            return APIError(.internalServerError, code: "internal_error", message: "Something went wrong on our side. Please try again.", messageZh: "系统繁忙，请稍后再试。")
        }
    }

    static func decodingError(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context, extra: CodingKey? = nil) -> String? {
            let keys = context.codingPath + (extra.map { [$0] } ?? [])
            let joined = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? nil : joined.replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context, extra: key) ?? key.stringValue
            return APIError(.badRequest, code: "missing_field", message: "\(field) is required.", messageZh: "请填写此项。", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context)
            return APIError(.badRequest, code: "invalid_type", message: "\(field ?? "body") has the wrong type (expected \(typeName(type))).", messageZh: "格式不正确。", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context)
            return APIError(.badRequest, code: "missing_field", message: "\(field ?? "body") must not be null (expected \(typeName(type))).", messageZh: "请填写此项。", field: field)
        case .dataCorrupted(let context):
            let field = path(context)
            if let field {
                return APIError(.badRequest, code: "invalid", message: "\(field) is invalid: \(sanitize(context.debugDescription))", messageZh: "格式不正确。", field: field)
            }
            return APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.", messageZh: "请求格式有误。")
        @unknown default:
            return APIError(.badRequest, code: "bad_request", message: "The request body could not be read.", messageZh: "请求格式有误。")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Int64.Type, is UInt.Type: "integer"
        case is Double.Type, is Decimal.Type: "number"
        case is Bool.Type: "boolean"
        default: "object"
        }
    }

    /// Keep framework reasons short and free of internals.
    private static func sanitize(_ text: String) -> String {
        let first = text.split(separator: "\n").first.map(String.init) ?? text
        return String(first.prefix(200))
    }
}

struct ErrorPageContext: Encodable {
    let title: String
    let message: String
    let status: Int
    let sandbox: Bool
}

/// Masks long digit runs (phones, ID numbers, card numbers) in text that is about to be logged.
enum LogMasking {
    static func mask(_ text: String) -> String {
        var output = ""
        var run = ""
        func flush() {
            if run.count >= 11 {
                output += run.prefix(3) + String(repeating: "*", count: run.count - 7) + run.suffix(4)
            } else {
                output += run
            }
            run = ""
        }
        for character in text {
            if character.isASCII && (character.isNumber || (character == "X" && run.count == 17)) {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return String(output.prefix(2000))
    }
}
