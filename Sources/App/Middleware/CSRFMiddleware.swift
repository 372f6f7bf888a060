import Crypto
import Foundation
import Vapor

/// CSRF protection for the H5 pages' form posts (double submit): a random token lives in the `yd_csrf`
/// cookie (HttpOnly, SameSite=Strict) and in a hidden `_csrf` field of every form; an unsafe request whose
/// field does not equal its cookie gets 403 and the friendly error page. Not used on /api (bearer tokens
/// are not sent by browsers on their own, so the API is not exposed to CSRF).
struct CSRFMiddleware: AsyncMiddleware {
    static let cookieName = "yd_csrf"
    static let fieldName = "_csrf"

    /// The largest form body read to find the field (it is read before the route would read it, so this enforces
    /// the route's limit): 1 MB, or a photo upload's 12 MB (`RoutesBuilder.photoUpload`).
    static let maxBodySize: ByteCount = "1mb"
    static let bodyLimitKey = "csrf.maxBodySize"

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let cookieValue = request.cookies[Self.cookieName]?.string
        let existing = cookieValue.map { Self.isWellFormed($0) } == true ? cookieValue : nil
        let token = existing ?? Self.newToken()
        request.storage[TokenKey.self] = token

        if ![.GET, .HEAD, .OPTIONS].contains(request.method) {
            guard let cookie = existing else { throw Self.failure }
            if request.body.data == nil {
                let limit = request.route?.userInfo[Self.bodyLimitKey] as? Int ?? Self.maxBodySize.value
                _ = try await request.body.collect(max: limit).get()
            }
            let submitted = try? request.content.get(String.self, at: Self.fieldName)
            guard let submitted, Self.constantTimeEquals(submitted, cookie) else { throw Self.failure }
        }

        let response = try await next.respond(to: request)
        if existing == nil {
            response.cookies[Self.cookieName] = HTTPCookies.Value(
                string: token, expires: nil, maxAge: nil, domain: nil, path: "/",
                isSecure: PageCookies.secure(for: request), isHTTPOnly: true, sameSite: .strict)
        }
        return response
    }

    static let failure = APIError(
        .forbidden, code: "csrf_failed",
        message: "The form has expired or did not come from this site. Go back, reload the page and try again.",
        messageZh: "页面已过期或来源无法确认，请返回并刷新页面后重试。")

    static func newToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.count == 43 && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    struct TokenKey: StorageKey { typealias Value = String }
}

extension RoutesBuilder {
    static var photoUploadLimit: ByteCount { "12mb" }

    /// A form that posts photos: a body up to 12 MB (the other forms get 1 MB), which CSRFMiddleware reads too.
    @discardableResult
    func photoUpload(
        _ path: PathComponent..., use closure: @Sendable @escaping (Request) async throws -> some AsyncResponseEncodable
    ) -> Route {
        let route = on(.POST, path, body: .collect(maxSize: Self.photoUploadLimit), use: closure)
        route.userInfo[CSRFMiddleware.bodyLimitKey] = Self.photoUploadLimit.value
        return route
    }
}

extension Request {
    /// The CSRF token to put in the hidden `_csrf` field of this page's forms ("" outside CSRFMiddleware).
    var csrfToken: String { storage[CSRFMiddleware.TokenKey.self] ?? "" }
}

/// Cookie settings shared by the pages.
enum PageCookies {
    /// Secure cookies only over HTTPS (directly or behind a trusted proxy that says so) or in production:
    /// a phone on the LAN opening http://192.168.x.x during a demo would otherwise lose every cookie.
    static func secure(for request: Request) -> Bool {
        if request.application.environment == .production { return true }
        return request.isHTTPS  // X-Forwarded-Proto counts only from a trusted proxy (YIDAI_TRUSTED_PROXIES)
    }
}
