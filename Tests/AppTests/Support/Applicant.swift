import Foundation
import LendingCore
import NIOHTTP1
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// Drives the journey API as one applicant would, step by step, and reads SMS codes from the sandbox outbox.
struct Applicant {
    let app: Application
    let clock: TestClock
    let providers: ProviderSet
    let persona: SandboxPersona
    var token = ""
    var applicationID = ""

    init(_ key: String, app: Application, clock: TestClock, providers: ProviderSet) {
        self.app = app
        self.clock = clock
        self.providers = providers
        self.persona = SandboxPersona.forKey(key)!
    }

    var phone: String { persona.phone.value }
    var bearer: HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    func latestCode() async -> String {
        await (providers.sms as! SandboxSMSGateway).latestCode(to: persona.phone) ?? "000000"
    }

    /// Sends a request and returns status and JSON body.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, headers: HTTPHeaders? = nil) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        try await TestHTTP.call(app, method, path, json: json, headers: headers ?? bearer)
    }

    func path(_ suffix: String = "") -> String { "/api/v1/applications/\(applicationID)" + suffix }

    mutating func signIn(cm: String? = nil, ch: String? = nil) async throws {
        let (sent, _, _) = try await call(.POST, "/api/v1/sms-codes", json: ["phone": phone], headers: [:])
        #expect(sent == .accepted)
        var payload: [String: Any] = ["phone": phone, "code": await latestCode()]
        if let cm { payload["cm"] = cm }
        if let ch { payload["ch"] = ch }
        let (status, body, _) = try await call(.POST, "/api/v1/sessions", json: payload, headers: [:])
        #expect(status == .created)
        token = body["token"] as? String ?? ""
        applicationID = (body["application"] as? [String: Any])?["id"] as? String ?? ""
        clock.advance(61)
    }

    func uploadIDCard(card key: String? = nil) async throws -> (HTTPStatus, [String: Any]) {
        let person = key ?? persona.key
        let front = SandboxCards.image(person: person, side: .front)!.base64EncodedString()
        let back = SandboxCards.image(person: person, side: .back)!.base64EncodedString()
        let (status, body, _) = try await call(.POST, path("/id-card"), json: ["frontImage": front, "backImage": back])
        return (status, body)
    }

    func confirmIDCard(overrides: [String: Any] = [:]) async throws -> (HTTPStatus, [String: Any]) {
        let reading = SandboxCards.reading(person: persona.key)!
        var payload: [String: Any] = [
            "name": reading.name, "idNumber": reading.idNumber, "address": reading.address,
            "validUntil": reading.validUntil?.description ?? "长期",
        ]
        for (k, v) in overrides { payload[k] = v }
        let (status, body, _) = try await call(.POST, path("/id-card/confirm"), json: payload)
        return (status, body)
    }

    func face() async throws -> (HTTPStatus, [String: Any]) {
        let (status, body, _) = try await call(.POST, path("/face"), json: ["simulate": true])
        return (status, body)
    }

    func bankCard(_ number: String? = nil) async throws -> (HTTPStatus, [String: Any]) {
        let card = number ?? persona.verifiableDebitCard.value
        let (status, body, _) = try await call(.POST, path("/bank-card"), json: ["cardNumber": card])
        return (status, body)
    }

    func confirmBankCard() async throws -> (HTTPStatus, [String: Any]) {
        let code = await latestCode()
        clock.advance(61)
        let (status, body, _) = try await call(.POST, path("/bank-card/confirm"), json: ["code": code])
        return (status, body)
    }

    func authorize() async throws -> (HTTPStatus, [String: Any]) {
        let (_, text, _) = try await call(.GET, path("/credit-authorization"))
        let (sent, _, _) = try await call(.POST, path("/credit-authorization/sms-code"))
        #expect(sent == .accepted)
        let code = await latestCode()
        clock.advance(61)
        let (status, body, _) = try await call(.POST, path("/credit-authorization"), json: [
            "version": text["version"] as? String ?? "", "sha256": text["sha256"] as? String ?? "", "agree": true, "code": code,
        ])
        return (status, body)
    }

    static func aboutYouBody(income: String) -> [String: Any] {
        [
            "employer": "深圳市测试科技有限公司", "employmentType": "salaried", "monthlyIncome": income, "housing": "owned",
            "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
            "emergencyContact": ["name": "张敏", "relationship": "spouse", "phone": "13912345678"],
        ]
    }

    func aboutYou(income: String? = nil) async throws -> (HTTPStatus, [String: Any]) {
        let declared = income ?? persona.declaredIncome.map { "\($0)" } ?? "15000"
        let (status, body, _) = try await call(.PUT, path("/about-you"), json: Self.aboutYouBody(income: declared))
        return (status, body)
    }

    func decide() async throws -> (HTTPStatus, [String: Any]) {
        let (status, body, _) = try await call(.POST, path("/decision"))
        return (status, body)
    }

    /// Signs in and walks to the bank card's SMS code (ID card, face, the card's number); expects every step to pass.
    /// Returns the code sent.
    mutating func walkToBankCardCode() async throws -> String {
        try await signIn()
        #expect(try await uploadIDCard().0 == .ok)
        #expect(try await confirmIDCard().0 == .ok)
        #expect(try await face().0 == .ok)
        #expect(try await bankCard().0 == .accepted)
        return await latestCode()
    }

    /// Walks identity (ID card, face, bank card) and the credit authorization of a signed-in applicant; expects every
    /// step to pass.
    func walkToAuthorized() async throws {
        #expect(try await uploadIDCard().0 == .ok)
        #expect(try await confirmIDCard().0 == .ok)
        #expect(try await face().0 == .ok)
        #expect(try await bankCard().0 == .accepted)
        #expect(try await confirmBankCard().0 == .ok)
        #expect(try await authorize().0 == .ok)
    }

    /// Walks identity, authorization and facts; expects every step to pass.
    mutating func walkToDecision(income: String? = nil) async throws -> [String: Any] {
        try await signIn()
        try await walkToAuthorized()
        #expect(try await aboutYou(income: income).0 == .ok)
        let (status, body) = try await decide()
        #expect(status == .ok)
        return body
    }
}

extension Dictionary where Key == String, Value == Any {
    subscript(path path: String) -> Any? {
        var current: Any? = self
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }

    var errorCode: String? { self[path: "error.code"] as? String }
    var errorField: String? { self[path: "error.field"] as? String }
}

/// One JSON request through the application, as the API's clients send it.
enum TestHTTP {
    static func call(_ app: Application, _ method: HTTPMethod, _ path: String, json: [String: Any]?, headers: HTTPHeaders) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        var status = HTTPStatus.ok
        var body: [String: Any] = [:]
        var responseHeaders = HTTPHeaders()
        var requestHeaders = headers
        try await app.testing().test(method, path, beforeRequest: { req in
            if let json {
                requestHeaders.contentType = .json
                req.body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
            }
            req.headers = requestHeaders
        }, afterResponse: { res async in
            status = res.status
            responseHeaders = res.headers
            body = (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:]
        })
        return (status, body, responseHeaders)
    }
}
