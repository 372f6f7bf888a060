import Fluent
import Foundation
import LendingCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// The /console pages: the same services and role table as the staff API, server-rendered, CSRF-protected.
@Suite("Workbench pages")
struct ConsolePagesTests {
    static let csrf = String(repeating: "c", count: 43)

    struct Page {
        let status: HTTPStatus
        let html: String
        let location: String?
        let setCookies: [String]
    }

    static func page(
        _ app: Application, _ method: HTTPMethod, _ path: String, session: String? = nil, form: [String: String]? = nil, csrf: Bool = true,
        extraCookies: [String] = []
    ) async throws -> Page {
        var result = Page(status: .ok, html: "", location: nil, setCookies: [])
        try await app.testing().test(method, path, beforeRequest: { req in
            var cookies = ["yd_csrf=\(Self.csrf)"]
            if let session { cookies.append("yd_staff=\(session)") }
            cookies += extraCookies
            req.headers.replaceOrAdd(name: .cookie, value: cookies.joined(separator: "; "))
            req.headers.replaceOrAdd(name: .accept, value: "text/html")
            if var form {
                if csrf { form["_csrf"] = Self.csrf }
                req.headers.contentType = .urlEncodedForm
                req.body = ByteBuffer(string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
            }
        }, afterResponse: { res async in
            result = Page(
                status: res.status, html: String(buffer: res.body), location: res.headers.first(name: .location),
                setCookies: res.headers[.setCookie])
        })
        return result
    }

    static func signIn(_ app: Application, _ clock: TestClock, _ login: String) async throws -> String {
        let code = StaffUser(login, app: app, clock: clock).freshCode()
        let answer = try await page(app, .POST, "/console/sign-in", form: ["login": login, "password": DemoData.demoPassword, "totp": code])
        #expect(answer.status == .seeOther, "\(answer.html.prefix(300))")
        let cookie = try #require(answer.setCookies.first { $0.hasPrefix("yd_staff=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        return String(cookie.dropFirst("yd_staff=".count).prefix { $0 != ";" })
    }

    @Test("without a session the workbench sends you to sign in; a wrong code shows the same message as a wrong password")
    func signInPage() async throws {
        try await withYidai { app, clock, _ in
            #expect(try await Self.page(app, .GET, "/console/queue").location == "/console/sign-in")
            let form = try await Self.page(app, .GET, "/console/sign-in")
            #expect(form.status == .ok && form.html.contains("动态验证码"))
            let wrong = try await Self.page(app, .POST, "/console/sign-in", form: ["login": "risk1", "password": "yidai-demo", "totp": "000000"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.html.contains("账号、密码或动态验证码不正确"))
            let noCSRF = try await Self.page(app, .POST, "/console/sign-in", form: ["login": "risk1", "password": "x"], csrf: false)
            #expect(noCSRF.status == .forbidden)
        }
    }

    @Test("a reviewer approves on the pages: the APR is shown first, then the decision waits for a second reviewer who confirms it")
    func approveOnPages() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            let id = p.applicationID.lowercased()
            let risk1 = try await Self.signIn(app, clock, "risk1")
            let queue = try await Self.page(app, .GET, "/console/queue", session: risk1)
            #expect(queue.html.contains("孙*") && queue.html.contains("/console/applications/\(id)"))
            #expect(!queue.html.contains("13800000011"))
            let preview = try await Self.page(app, .POST, "/console/applications/\(id)/review", session: risk1,
                                              form: ["decision": "approve", "creditLimit": "60000", "annualRate": "12", "step": "preview"])
            #expect(preview.status == .ok)
            #expect(preview.html.contains("id=\"preview-apr\">12.00%") && preview.html.contains("id=\"needs-second\""))
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "referred")
            #expect(try await ReviewDecision.query(on: app.db).count() == 0)
            let badLimit = try await Self.page(app, .POST, "/console/applications/\(id)/review", session: risk1,
                                               form: ["decision": "approve", "creditLimit": "300000", "annualRate": "12", "step": "preview"])
            #expect(badLimit.status == .unprocessableEntity && badLimit.html.contains("个人互联网信用贷款额度不得超过"))
            let decided = try await Self.page(app, .POST, "/console/applications/\(id)/review", session: risk1,
                                              form: ["decision": "approve", "creditLimit": "60000.00", "annualRate": "12.00", "step": "confirm"])
            #expect(decided.status == .seeOther)
            let mine = try await Self.page(app, .GET, "/console/applications/\(id)", session: risk1)
            #expect(mine.html.contains("id=\"own-pending\"") && !mine.html.contains("id=\"confirm-yes\""))
            let risk2 = try await Self.signIn(app, clock, "risk2")
            let theirs = try await Self.page(app, .GET, "/console/applications/\(id)", session: risk2)
            #expect(theirs.html.contains("id=\"confirm-yes\""))
            let confirmed = try await Self.page(app, .POST, "/console/applications/\(id)/confirmation", session: risk2, form: ["confirm": "yes", "note": "同意"])
            #expect(confirmed.status == .seeOther)
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "approved")
        }
    }

    @Test("a manager reveals a field on the page with a reason; the value shows once and the reveal is audited")
    func revealOnPage() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            let manager = try await Self.signIn(app, clock, "sz-cm1")
            let shown = try await Self.page(app, .POST, "/console/applications/\(p.applicationID.lowercased())/reveal", session: manager,
                                            form: ["field": "idNumber", "reason": "核对身份证件"])
            #expect(shown.status == .ok && shown.html.contains("610113198909093016"))
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "personal_data.revealed").count() == 1)
            let again = try await Self.page(app, .GET, "/console/applications/\(p.applicationID.lowercased())", session: manager)
            #expect(!again.html.contains("610113198909093016"))
        }
    }

    @Test("a member without a second factor signs in with the password, sees the QR code and URI once, and confirms a code")
    func enrolmentPage() async throws {
        try await withYidai { app, clock, _ in
            var admin = StaffUser("admin", app: app, clock: clock)
            try await admin.signIn()
            #expect(try await admin.call(.POST, "/api/v1/staff/members/risk2/second-factor/reset").0 == .ok)
            let signedIn = try await Self.page(app, .POST, "/console/sign-in", form: ["login": "risk2", "password": DemoData.demoPassword])
            #expect(signedIn.status == .seeOther && signedIn.location == "/console/enrol")
            let session = try #require(signedIn.setCookies.first { $0.hasPrefix("yd_staff=") }).dropFirst("yd_staff=".count).prefix { $0 != ";" }
            let enrol = try #require(signedIn.setCookies.first { $0.hasPrefix("yd_staff_enrol=") }).prefix { $0 != ";" }
            let queue = try await Self.page(app, .GET, "/console/queue", session: String(session))
            #expect(queue.location == "/console/enrol")
            let shown = try await Self.page(app, .GET, "/console/enrol", session: String(session), extraCookies: [String(enrol)])
            #expect(shown.html.contains("<svg") && shown.html.contains("otpauth://totp/"))
            #expect(shown.setCookies.contains { $0.hasPrefix("yd_staff_enrol=") && $0.contains("Max-Age=0") || $0.contains("Expires=Thu, 01 Jan 1970") })
            let uri = try #require(shown.html.range(of: #"otpauth://totp/[^<"]+"#, options: .regularExpression).map { String(shown.html[$0]) })
            let secretText = try #require(URLComponents(string: uri.replacingOccurrences(of: "&amp;", with: "&"))?.queryItems?.first { $0.name == "secret" }?.value)
            clock.advance(31)
            let code = TimeBasedOneTimePassword.standard.code(secret: try Base32.decode(secretText), at: clock.now)
            let confirmed = try await Self.page(app, .POST, "/console/enrol", session: String(session), form: ["totp": code])
            #expect(confirmed.status == .seeOther)
            #expect(try await Self.page(app, .GET, "/console/queue", session: String(session)).status == .ok)
        }
    }
}
