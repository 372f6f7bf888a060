import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// The pages read a form's body before its route does (to find the CSRF field), with the route's own limit: 12 MB
/// for the photo uploads, 1 MB for every other form.
@Suite("Page forms keep their body limits")
struct PageBodyLimitTests {
    static let csrf = String(repeating: "c", count: 43)

    static func post(_ app: Application, port: Int, _ path: String, bytes: Int, token: String) async throws
        -> HTTPStatus
    {
        var status = HTTPStatus.ok
        let boundary = "yidai-boundary"
        var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(csrf)\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"face.jpg\"\r\n"
        body += "Content-Type: image/jpeg\r\n\r\n" + String(repeating: "x", count: bytes) + "\r\n--\(boundary)--\r\n"
        try await app.testing(method: .running(hostname: "127.0.0.1", port: port)).test(
            .POST, path,
            beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: "yd_csrf=\(csrf); yd_session=\(token)")
                req.headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
                req.headers.replaceOrAdd(name: .accept, value: "text/html")
                req.body = ByteBuffer(string: body)
            },
            afterResponse: { res async in status = res.status })
        return status
    }

    @Test("a 3 MB photo reaches the ID card step, while a 3 MB post to another form is refused with 413")
    func photoUploadsMayBeLarger() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            // MUT (each post runs a server of its own, each on a port found free: the port after the first one may be
            // anyone's, and once was, "Address already in use")
            let upload = try await Self.post(app, port: freeLoopbackPort(), "/apply/id-card", bytes: 3_000_000, token: p.token)
            let form = try await Self.post(app, port: freeLoopbackPort(), "/apply/about-you", bytes: 3_000_000, token: p.token)

            // validation
            #expect(upload != .payloadTooLarge && upload != .forbidden, "\(upload)")
            #expect(form == .payloadTooLarge)
        }
    }
}
