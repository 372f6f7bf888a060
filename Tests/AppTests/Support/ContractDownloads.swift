import Foundation
import NIOHTTP1
import Testing
import Vapor
import VaporTesting

@testable import App

extension Applicant {
    /// GETs a download (PDF, .p7s, evidence) as raw bytes.
    func download(_ path: String, headers: HTTPHeaders? = nil) async throws -> (HTTPStatus, Data, HTTPHeaders) {
        var status = HTTPStatus.ok
        var data = Data()
        var responseHeaders = HTTPHeaders()
        let requestHeaders = headers ?? bearer
        try await app.testing().test(
            .GET, path,
            beforeRequest: { req in
                req.headers = requestHeaders
            },
            afterResponse: { res async in
                status = res.status
                responseHeaders = res.headers
                data = Data(buffer: res.body)
            })
        return (status, data, responseHeaders)
    }

    /// Asks for the contract's SMS code and signs with it; returns the sign call's status and body.
    func signContract(sha256: String, code: String? = nil, agree: Bool = true) async throws -> (
        HTTPStatus, [String: Any]
    ) {
        let (sent, _, _) = try await call(.POST, path("/contract/sms-code"))
        #expect(sent == .accepted)
        let smsCode: String
        if let code { smsCode = code } else { smsCode = await latestCode() }
        clock.advance(61)
        let (status, body, _) = try await call(
            .POST, path("/contract/sign"), json: ["code": smsCode, "sha256": sha256, "agree": agree])
        return (status, body)
    }
}

/// Runs a program (openssl) and returns its exit status and what it printed.
func runProgram(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// A page request as a browser sends it: the session cookie (the API token is the same session), the CSRF cookie and
/// field, a url-encoded form. Returns status, body and Location.
func contractPage(
    _ app: Application, _ method: HTTPMethod, _ path: String, token: String?, form: [String: String]? = nil
)
    async throws -> (status: HTTPStatus, body: Data, location: String?)
{
    let csrf = String(repeating: "c", count: 43)
    var result: (HTTPStatus, Data, String?) = (.ok, Data(), nil)
    try await app.testing().test(
        method, path,
        beforeRequest: { req in
            req.headers.replaceOrAdd(
                name: .cookie, value: (token.map { "yd_session=\($0); " } ?? "") + "yd_csrf=\(csrf)")
            req.headers.replaceOrAdd(name: .accept, value: "text/html")
            if var form {
                form["_csrf"] = csrf
                req.headers.contentType = .urlEncodedForm
                req.body = ByteBuffer(
                    string: form.map {
                        "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                    }.joined(separator: "&"))
            }
        },
        afterResponse: { res async in
            result = (res.status, Data(buffer: res.body), res.headers.first(name: .location))
        })
    return result
}
