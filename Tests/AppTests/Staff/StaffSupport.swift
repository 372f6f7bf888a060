import Foundation
import LendingCore
import NIOHTTP1
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// A member of the demo staff using the workbench API: signs in with the demo password and TOTP secret.
struct StaffUser {
    let app: Application
    let clock: TestClock
    let login: String
    var token = ""

    init(_ login: String, app: Application, clock: TestClock) {
        self.login = login
        self.app = app
        self.clock = clock
    }

    static let secret = try! Base32.decode(StaffSignIn.demoTOTPSecret)

    /// The current code; the clock moves on to a fresh 30-second step first, since a used code never works twice.
    func freshCode() -> String {
        clock.advance(31)
        return TimeBasedOneTimePassword.standard.code(secret: Self.secret, at: clock.now)
    }

    var bearer: HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, headers: HTTPHeaders? = nil) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        try await TestHTTP.call(app, method, path, json: json, headers: headers ?? bearer)
    }

    func signInAnswer(password: String = DemoData.demoPassword, totp: String? = nil) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        try await call(.POST, "/api/v1/staff/sessions", json: ["login": login, "password": password, "totp": totp ?? freshCode()], headers: [:])
    }

    mutating func signIn() async throws {
        let (status, body, _) = try await signInAnswer()
        #expect(status == .created, "\(login): \(body)")
        token = body["token"] as? String ?? ""
    }

    static func application(_ id: String) -> String { "/api/v1/staff/applications/\(id)" }
}

extension Applicant {
    /// P11 (referred by the policy) walked to the decision through customer manager `cm`'s QR code.
    static func referred(_ key: String = "P11", cm: String = "SZ-0001", app: Application, clock: TestClock, providers: ProviderSet) async throws -> Applicant {
        var p = Applicant(key, app: app, clock: clock, providers: providers)
        try await p.signIn(cm: cm, ch: "qr")
        try await p.walkToAuthorized()
        #expect(try await p.aboutYou().0 == .ok)
        let (status, body) = try await p.decide()
        #expect(status == .ok)
        #expect(body["state"] as? String == "referred", "\(body)")
        return p
    }
}
