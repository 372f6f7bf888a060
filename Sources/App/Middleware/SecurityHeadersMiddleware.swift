import Providers
import Vapor

/// Security headers on every response; no-store on anything personal (pages and the API).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    /// Extra style-src sources: the hash of the stylesheet inlined into the applicant's pages.
    var inlineStyleSource: @Sendable () -> String = { "" }

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        let h = response.headers
        var headers = h
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        headers.replaceOrAdd(name: "Permissions-Policy", value: "camera=(self), microphone=(), geolocation=()")
        let extra = inlineStyleSource()
        let styleExtra = extra.isEmpty ? "" : " " + extra
        headers.replaceOrAdd(
            name: "Content-Security-Policy",
            value: "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'\(styleExtra); script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
        let path = request.path
        let isStatic = path.hasPrefix("/css/") || path.hasPrefix("/js/") || path.hasPrefix("/img/")
        if isStatic {
            // Content-hashed names come with their own year-long immutable cache; a plain name may change
            // under the same URL, so it is checked again each time (the ETag makes that cheap).
            if !headers.contains(name: .cacheControl) { headers.replaceOrAdd(name: .cacheControl, value: "no-cache") }
        } else {
            headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            headers.replaceOrAdd(name: "Pragma", value: "no-cache")
        }
        response.headers = headers
        return response
    }
}

/// Gives each request an id for the logs (and echoes it), so one applicant's trouble can be traced without PII.
struct RequestIDMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let id: String
        if let sent = request.headers.first(name: "X-Request-ID") {
            id = sent.count <= 64 && sent.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } ? sent : RandomID.uuid().uuidString
        } else {
            id = request.id  // Vapor's own, a new UUID when no X-Request-ID came
        }
        request.logger[metadataKey: "request-id"] = .string(id)
        // Outside services called for this request receive the same id (Providers' `OutsideCallContext`).
        let response = try await OutsideCallContext.$requestID.withValue(id) { try await next.respond(to: request) }
        response.headers.replaceOrAdd(name: "X-Request-ID", value: id)
        return response
    }
}
