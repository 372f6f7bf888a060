import Foundation
import LendingCore
import NIOHTTP1
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// Sunday 2026-07-26 01:20 in Shanghai is where the test clock starts; this moves it to Monday 10:00 (working hours).
func mondayMorning(_ clock: TestClock) { clock.advance(86_400 + 8 * 3600 + 40 * 60) }

func sandboxSMS(_ providers: ProviderSet) -> SandboxSMSGateway { providers.sms as! SandboxSMSGateway }

/// Leaves a lead through the public API as a visitor would: a lead code to the phone, then the form.
@discardableResult
func leaveLead(
    app: Application, clock: TestClock, providers: ProviderSet, phone: String, name: String = "陈晓明", city: String = "深圳",
    cm: String? = nil, consent: Bool = true, campaign: String? = nil
) async throws -> (HTTPStatus, [String: Any]) {
    let (sent, sentBody, _) = try await TestHTTP.call(app, .POST, "/api/v1/sms-codes", json: ["phone": phone, "purpose": "lead"], headers: [:])
    #expect(sent == .accepted, "\(sentBody)")
    let code = await sandboxSMS(providers).latestCode(to: try MobileNumber(phone)) ?? "000000"
    clock.advance(61)
    var body: [String: Any] = ["name": name, "phone": phone, "smsCode": code, "city": city, "consent": consent]
    if let cm { body["cm"] = cm; body["ch"] = "qr" }
    if let campaign { body["campaign"] = campaign }
    let (status, answer, _) = try await TestHTTP.call(app, .POST, "/api/v1/leads", json: body, headers: [:])
    return (status, answer)
}

func staff(_ login: String, app: Application, clock: TestClock) async throws -> StaffUser {
    var user = StaffUser(login, app: app, clock: clock)
    try await user.signIn()
    return user
}

func outboxTexts(_ providers: ProviderSet, phone: String) async -> [String] {
    await sandboxSMS(providers).outbox(phone: try? MobileNumber(phone)).map(\.text)
}
