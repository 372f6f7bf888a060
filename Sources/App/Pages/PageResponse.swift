import Vapor

extension Request {
    /// A page rendered from its Leaf template; pages show personal data, so no cache keeps them.
    func renderPage(_ template: String, _ context: some Encodable, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let view = try await view.render(template, context)
        let response = try await view.encodeResponse(status: status, for: self)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}
