import Crypto
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// The applicant's pages on a slow phone: compressed, with content-hashed files cached for a year, the stylesheet
/// inline (allowed by the CSP's hash); and the phone page's two separate, version-recorded consents.
@Suite("Light pages and the phone page's consents")
struct LightPagesTests {
    static let csrf = String(repeating: "a", count: 43)

    static func get(_ app: Application, _ path: String, headers: HTTPHeaders = [:]) async throws -> (HTTPStatus, HTTPHeaders, String) {
        var out: (HTTPStatus, HTTPHeaders, String) = (.ok, [:], "")
        try await app.testing().test(.GET, path, headers: headers) { res async in
            out = (res.status, res.headers, String(buffer: res.body))
        }
        return out
    }

    static func postPhone(_ app: Application, _ form: [String: String]) async throws -> (HTTPStatus, String) {
        var out: (HTTPStatus, String) = (.ok, "")
        try await app.testing().test(
            .POST, "/",
            beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: "yd_csrf=\(csrf)")
                req.headers.replaceOrAdd(name: .accept, value: "text/html")
                var form = form
                form["_csrf"] = csrf
                req.headers.contentType = .urlEncodedForm
                req.body = ByteBuffer(
                    string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                        .joined(separator: "&"))
            },
            afterResponse: { res async in out = (res.status, String(buffer: res.body)) })
        return out
    }

    @Test("the phone page inlines its stylesheet under a CSP hash and links no stylesheet or image file")
    func inlineStyle() async throws {
        try await withYidai { app, _, _ in
            let (status, headers, html) = try await Self.get(app, "/")
            #expect(status == .ok)
            #expect(html.contains("<style>:root{"))
            #expect(!html.contains("/css/app.css"))
            #expect(!html.contains("src=\"/img/"))
            let csp = headers.first(name: "Content-Security-Policy") ?? ""
            #expect(csp.contains("style-src 'self' 'sha256-"))
            // The hash in the policy is the hash of what is inlined.
            let style = html.components(separatedBy: "<style>")[1].components(separatedBy: "</style>")[0]
            let digest = Data(SHA256Digest(Data(style.utf8))).base64EncodedString()
            #expect(csp.contains("'sha256-\(digest)'"))
        }
    }

    @Test("once the browser holds the stylesheet file (its cookie), pages link it; a cache-bypassing request gets it inline")
    func linkedOnceHeld() async throws {
        try await withYidai { app, _, _ in
            let (_, _, first) = try await Self.get(app, "/")
            let match = try #require(first.range(of: #"/css/app\.[0-9a-f]{12}\.css"#, options: .regularExpression))
            let url = String(first[match])
            #expect(first.contains("<link rel=\"prefetch\" href=\"\(url)\" as=\"style\">"))
            let (status, headers, css) = try await Self.get(app, url)
            #expect(status == .ok)
            #expect(css.hasPrefix(":root{"))
            let cookie = try #require(headers.setCookie?[StaticAssets.stylesheetCookie]?.string)
            #expect(url.contains(cookie))
            let (_, _, warm) = try await Self.get(app, "/", headers: ["Cookie": "yd_css=\(cookie)"])
            #expect(warm.contains("<link rel=\"stylesheet\" href=\"\(url)\">"))
            #expect(!warm.contains("<style>"))
            let (_, _, bypass) = try await Self.get(app, "/", headers: ["Cookie": "yd_css=\(cookie)", "Cache-Control": "no-cache"])
            #expect(bypass.contains("<style>:root{"))
            let (_, _, stale) = try await Self.get(app, "/", headers: ["Cookie": "yd_css=000000000000"])
            #expect(stale.contains("<style>:root{"))
        }
    }

    @Test("a script under its content-hashed name is cached for a year; an unknown hash is not found")
    func hashedFiles() async throws {
        try await withYidai { app, _, _ in
            let (_, _, html) = try await Self.get(app, "/")
            let match = try #require(html.range(of: #"/js/code\.[0-9a-f]{12}\.js"#, options: .regularExpression))
            let (status, headers, body) = try await Self.get(app, String(html[match]))
            #expect(status == .ok)
            #expect(headers.first(name: .cacheControl) == "public, max-age=31536000, immutable")
            #expect(body.contains("data-sends-in-place"))
            let (missing, _, _) = try await Self.get(app, "/js/code.000000000000.js")
            #expect(missing == .notFound)
            let (_, plain, _) = try await Self.get(app, "/js/code.js")
            #expect(plain.first(name: .cacheControl) == "no-cache")
        }
    }

    @Test("Public/'s files are served under their plain names, percent-encoded too, from memory with an ETag that answers 304; the disk is asked only for paths under Public/'s top, and for ranges")
    func plainFiles() async throws {
        try await withYidai { app, _, _ in
            let (status, headers, body) = try await Self.get(app, "/img/logo.svg")
            #expect(status == .ok && headers.contentType?.subType == "svg+xml" && body.contains("<svg"))
            let (encoded, _, same) = try await Self.get(app, "/%69mg/logo.svg")
            #expect(encoded == .ok && same == body)
            let (missing, _, _) = try await Self.get(app, "/img/none.svg")
            #expect(missing == .notFound)
            let (outside, _, _) = try await Self.get(app, "/css/../../Package.swift")
            #expect(outside == .forbidden || outside == .notFound)
            // From memory, as on the disk (the stylesheet unminified), with an ETag of the content that answers 304
            let disk = try String(contentsOfFile: app.directory.publicDirectory + "css/console.css", encoding: .utf8)
            let (cssStatus, cssHeaders, css) = try await Self.get(app, "/css/console.css")
            #expect(cssStatus == .ok && css == disk && cssHeaders.first(name: .cacheControl) == "no-cache")
            let etag = try #require(headers.first(name: .eTag))
            #expect(etag.hasPrefix("\"") && etag != cssHeaders.first(name: .eTag))
            for named in [etag, "W/" + etag, "\"other\", " + etag, "*"] {
                let (again, againHeaders, againBody) = try await Self.get(app, "/img/logo.svg", headers: ["If-None-Match": named])
                #expect(again == .notModified && againBody.isEmpty && againHeaders.first(name: .eTag) == etag, "\(named)")
            }
            let (changed, _, changedBody) = try await Self.get(app, "/img/logo.svg", headers: ["If-None-Match": "\"other\""])
            #expect(changed == .ok && changedBody == body)
            // and a range is still read from the disk
            let (partial, _, part) = try await Self.get(app, "/img/logo.svg", headers: ["Range": "bytes=0-3"])
            #expect(partial == .partialContent && part == "<svg")
        }
        let top = PublicFilesMiddleware(publicDirectory: "Public/").topLevel
        #expect(top.isSuperset(of: ["css", "img", "js"]))
        #expect(PublicFilesMiddleware.firstPart(of: "/api/v1/application") == "api")
        #expect(PublicFilesMiddleware.firstPart(of: "//%63ss/app.css") == "css")
        #expect(PublicFilesMiddleware.firstPart(of: "/") == "")
    }

    @Test("the stylesheet minifier keeps selectors and values and drops comments and spaces")
    func minify() {
        let css = "/* x */\n.a :hover ,\n.b > .c {\n  color : red ;\n  font-family: \"PingFang SC\", Arial;\n}\n@media (max-width: 360px) and (min-width: 1px) { .d { margin: 0 auto; } }"
        #expect(
            StaticAssets.minifyCSS(css)
                == ".a :hover,.b>.c{color :red;font-family:\"PingFang SC\",Arial}@media (max-width:360px) and (min-width:1px){.d{margin:0 auto}}")
    }

    @Test("contract numbers and card numbers are kept on one line, and the rest is escaped")
    func keepTogether() {
        #expect(
            KeepTogetherTag.html("模板 YD-LOAN-2026-01 卡 6222 **** **** 0102 <b>")
                == "模板 <span class=\"nowrap\">YD-LOAN-2026-01</span> 卡 <span class=\"nowrap\">6222 **** **** 0102</span> &lt;b&gt;")
    }

    @Test("no code is sent until both consents are ticked; each is recorded once with its version and text hash")
    func consents() async throws {
        try await withYidai { app, _, providers in
            // Neither ticked: both named, no SMS sent, nothing recorded.
            let (refused, page) = try await Self.postPhone(app, ["phone": "13800000001", "action": "send"])
            #expect(refused == .unprocessableEntity)
            #expect(page.contains("请阅读并勾选同意《易贷用户服务协议》"))
            #expect(page.contains("请阅读并勾选同意《易贷个人信息保护政策》"))
            #expect(try await Consent.query(on: app.db).count() == 0)
            // Only one ticked: still refused, the other named.
            let (half, halfPage) = try await Self.postPhone(
                app, ["phone": "13800000001", "action": "send", "agreeTerms": "true", "termsVersion": "YD-UA-2026-01"])
            #expect(half == .unprocessableEntity)
            #expect(!halfPage.contains("请阅读并勾选同意《易贷用户服务协议》"))
            #expect(halfPage.contains("请阅读并勾选同意《易贷个人信息保护政策》"))
            // Both: the code is sent, two consents recorded with the versions and hashes of the texts.
            let both = [
                "phone": "13800000001", "action": "send", "agreeTerms": "true", "agreePrivacy": "true",
                "termsVersion": "YD-UA-2026-01", "privacyVersion": "YD-PN-2026-01",
            ]
            let (sent, sentPage) = try await Self.postPhone(app, both)
            #expect(sent == .ok)
            #expect(sentPage.contains("验证码已发送至138****0001"))
            let recorded = try await Consent.query(on: app.db).sort(\.$document).all()
            #expect(recorded.map(\.document) == ["privacy_notice", "user_agreement"])
            #expect(recorded.map(\.version) == ["YD-PN-2026-01", "YD-UA-2026-01"])
            #expect(recorded.map(\.sha256) == [ConsentDocument.privacyNotice.sha256, ConsentDocument.userAgreement.sha256])
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "consent.given").count() == 2)
            // Agreeing again to the same versions records nothing new; an outdated version is refused.
            _ = try await Self.postPhone(app, both.merging(["action": "signin", "code": "000000"]) { $1 })
            #expect(try await Consent.query(on: app.db).count() == 2)
            let (outdated, outdatedPage) = try await Self.postPhone(app, both.merging(["termsVersion": "YD-UA-2025-01"]) { $1 })
            #expect(outdated == .conflict)
            #expect(outdatedPage.contains("已更新，请重新阅读后同意"))
            _ = providers
        }
    }

    @Test("each consent document is readable in full on its own page, with its version")
    func documents() async throws {
        try await withYidai { app, _, _ in
            for document in ConsentDocument.all {
                let (status, _, html) = try await Self.get(app, document.path)
                #expect(status == .ok)
                #expect(html.contains(document.title))
                #expect(html.contains(document.version))
                #expect(html.contains(document.sha256))
                #expect(html.contains("七、"))
            }
            let (_, _, phone) = try await Self.get(app, "/")
            #expect(phone.contains("href=\"/terms/user-agreement\""))
            #expect(phone.contains("href=\"/terms/privacy\""))
            #expect(!phone.contains("name=\"agreeTerms\" value=\"true\" checked"))
        }
    }
}

private func SHA256Digest(_ data: Data) -> [UInt8] {
    Array(Crypto.SHA256.hash(data: data))
}
