import Fluent
import Foundation
import LendingCore
import NIOHTTP1
import Providers
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

/// Raw answers (images) and a real QR decoder for the marketing tests.
enum MarketingHTTP {
    static func fetch(_ app: Application, _ path: String, token: String?) async throws -> (HTTPStatus, Data, HTTPHeaders) {
        var result: (HTTPStatus, Data, HTTPHeaders) = (.ok, Data(), [:])
        try await app.testing().test(.GET, path, beforeRequest: { req in
            if let token { req.headers.bearerAuthorization = .init(token: token) }
        }, afterResponse: { res async in
            result = (res.status, Data(buffer: res.body), res.headers)
        })
        return result
    }

    /// The error code of a JSON error answer.
    static func errorCode(_ data: Data) -> (code: String?, field: String?) {
        let error = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any]
        return (error?["code"] as? String, error?["field"] as? String)
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(_ data: Data) -> (Int, Int)? {
        let bytes = [UInt8](data)
        guard bytes.count > 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        func be(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    /// What zbarimg (Debian zbar-tools) reads from an image file's bytes: every symbol, one per line.
    static func decode(_ image: Data, suffix: String = "png") throws -> [String] {
        let file = NSTemporaryDirectory() + "yidai-marketing-\(UUID().uuidString).\(suffix)"
        try image.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let zbarimg = try #require(["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "zbarimg (Debian zbar-tools) is needed; scripts/test.sh installs it")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: zbarimg)
        process.arguments = ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", file]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// An SVG made of `M x yh1v1h-1z` modules drawn back into a greyscale PGM (8 px a module) from its own path data,
    /// so the decoder reads exactly what the SVG says.
    static func rasterise(svg: String) throws -> Data {
        let viewBox = try #require(svg.firstMatch(of: /viewBox="0 0 (\d+) (\d+)"/))
        let total = try #require(Int(viewBox.1))
        let scale = 8
        let side = total * scale
        var pixels = [UInt8](repeating: 255, count: side * side)
        for match in svg.matches(of: /M(\d+) (\d+)h1v1h-1z/) {
            let (x, y) = (Int(match.1)!, Int(match.2)!)
            for dy in 0..<scale { for dx in 0..<scale { pixels[(y * scale + dy) * side + x * scale + dx] = 0 } }
        }
        var pgm = Data("P5\n\(side) \(side)\n255\n".utf8)
        pgm.append(contentsOf: pixels)
        return pgm
    }
}

@Suite("Customer managers' codes and posters")
struct MarketingMaterialTests {
    static let url = "http://127.0.0.1:8080/?cm=SZ-0001&ch=qr"

    static func signedIn(_ login: String, _ app: Application, _ clock: TestClock) async throws -> StaffUser {
        var user = StaffUser(login, app: app, clock: clock)
        try await user.signIn()
        return user
    }

    @Test("a manager's QR code is a PNG of exactly the asked size, at both bounds, that a real decoder reads back as their landing URL")
    func qrPNG() async throws {
        try await withYidai { app, clock, _ in
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            for (query, side) in [("?size=160", 160), ("?size=1200", 1200), ("", 600), ("?size=437", 437)] {
                let (status, png, headers) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/qr-code.png" + query, token: cm.token)
                #expect(status == .ok, "\(query)")
                #expect(headers.contentType == .png)
                #expect(MarketingHTTP.pngSize(png).map { [$0.0, $0.1] } == [side, side], "\(query)")
                #expect(try MarketingHTTP.decode(png) == [Self.url], "\(query)")
            }
        }
    }

    @Test("a size outside 160–1200 or not a whole number answers 422 naming size")
    func qrSizes() async throws {
        try await withYidai { app, clock, _ in
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            for size in ["159", "1201", "0", "-600", "abc", "600.5", "99999999999999999999"] {
                let (status, body, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/qr-code.png?size=\(size)", token: cm.token)
                #expect(status == .unprocessableEntity, "\(size)")
                #expect(MarketingHTTP.errorCode(body).field == "size", "\(size)")
            }
        }
    }

    @Test("the SVG keeps the quiet zone, and its own modules drawn back decode to the landing URL")
    func qrSVG() async throws {
        try await withYidai { app, clock, _ in
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            let (status, body, headers) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/qr-code.svg", token: cm.token)
            #expect(status == .ok)
            #expect(headers.contentType?.subType == "svg+xml")
            let svg = String(decoding: body, as: UTF8.self)
            let code = try QRCode(Self.url)
            #expect(svg.contains("viewBox=\"0 0 \(code.width + 8) \(code.width + 8)\""))
            #expect(svg.matches(of: /M(\d+) (\d+)h1v1h-1z/).allSatisfy { Int($0.1)! >= 4 && Int($0.2)! >= 4 && Int($0.1)! < code.width + 4 })
            #expect(try MarketingHTTP.decode(MarketingHTTP.rasterise(svg: svg), suffix: "pgm") == [Self.url])
        }
    }

    @Test("the mini-program code's sandbox draws the plain QR code and says so in a header")
    func miniProgramCode() async throws {
        try await withYidai { app, clock, providers in
            #expect(providers.miniProgram.isSandbox && providers.sandboxServices.contains("miniprogram"))
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            let (status, png, headers) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/mini-program-code.png?size=430", token: cm.token)
            #expect(status == .ok)
            #expect(headers.first(name: MarketingAPIController.sandboxHeader)?.contains("plain QR code") == true)
            #expect(MarketingHTTP.pngSize(png).map { [$0.0, $0.1] } == [430, 430])
            #expect(try MarketingHTTP.decode(png) == [Self.url])
            let (tooSmall, body, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/mini-program-code.png?size=279", token: cm.token)
            #expect(tooSmall == .unprocessableEntity && MarketingHTTP.errorCode(body).field == "size")
            // WeChat's limit on the scene is kept by the request itself.
            #expect(MiniProgramCodeRequest(scene: String(repeating: "A", count: 33), page: "p", width: 430, fallbackURL: "x").problem != nil)
            #expect(MiniProgramCodeRequest(scene: "SZ-0001", page: "p", width: 430, fallbackURL: "x").problem == nil)
        }
    }

    @Test("both posters are 750×1334 PNGs whose code a real decoder reads back; another template answers 422 naming template")
    func posters() async throws {
        try await withYidai { app, clock, _ in
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            var images: [Data] = []
            for template in PosterTemplate.allCases {
                let (status, png, headers) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/poster.png?template=\(template.rawValue)", token: cm.token)
                #expect(status == .ok, "\(template)")
                #expect(headers.contentType == .png)
                #expect(MarketingHTTP.pngSize(png).map { [$0.0, $0.1] } == [750, 1334])
                #expect(try MarketingHTTP.decode(png) == [Self.url], "\(template)")
                images.append(png)
            }
            #expect(images[0] != images[1])
            for bad in ["3", "0", "classic", "1.0"] {
                let (status, body, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/poster.png?template=\(bad)", token: cm.token)
                #expect(status == .unprocessableEntity && MarketingHTTP.errorCode(body).field == "template", "\(bad)")
            }
        }
    }

    /// The grade table's rates as the shipped policy file states them, read here independently of the app.
    static func shippedRateBounds() throws -> (Decimal, Decimal) {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Policies/credit/credit.json"))
        let graph = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let nodes = try #require(graph["nodes"] as? [[String: Any]])
        let grade = try #require(nodes.first { $0["id"] as? String == "grade" }?["content"] as? [String: Any])
        let outputID = try #require((grade["outputs"] as? [[String: Any]])?.first { $0["field"] as? String == "gradeRate" }?["id"] as? String)
        let rates = (grade["rules"] as? [[String: Any]] ?? []).compactMap { ($0[outputID] as? String).flatMap { Decimal(string: $0) } }
        return (try #require(rates.min()), try #require(rates.max()))
    }

    static func principal(_ login: String, on app: Application) async throws -> StaffPrincipal {
        let member = try #require(try await StaffMember.query(on: app.db).filter(\.$login == login).first())
        return StaffPrincipal(staffID: member.id!, sessionID: UUID(), login: login, name: member.displayName,
                              role: StaffPermissions.Role(rawValue: member.role)!, branchCode: member.branchCode,
                              managerCode: member.managerCode, enrolmentOnly: false)
    }

    /// Publishes (activates) a copy of the active policy with its files changed by `edit`, without its cases.
    static func activateEditedPolicy(_ app: Application, _ edit: (String) -> String) async throws {
        let active = try #require(try await app.yidai.policies.active(on: app.db))
        var files = try JSONDecoder().decode([String: String].self, from: Data(active.filesJSON.utf8))
        files[active.entryFile] = edit(files[active.entryFile]!)
        let version = PolicyVersion()
        version.name = active.name
        version.version = active.version + 1
        version.sha256 = String(repeating: "e", count: 64)
        version.filesJSON = String(decoding: try JSONEncoder().encode(files), as: UTF8.self)
        version.entryFile = active.entryFile
        version.publishedBy = "test"
        version.publishedAt = Date()
        version.active = true
        try await PolicyVersion.query(on: app.db).set(\.$active, to: false).update()
        try await version.create(on: app.db)
    }

    @Test("the poster's APR range is the active policy's grade-rate bounds, and follows the policy when it changes")
    func aprFromPolicy() async throws {
        try await withYidai { app, _, _ in
            let (low, high) = try Self.shippedRateBounds()
            #expect(low == 6 && high == Decimal(string: "14.4")!)  // the shipped policy's grades A and D
            let material = MarketingMaterial(db: app.db, services: app.yidai, principal: try await Self.principal("sz-cm1", on: app))
            let manager = try await material.mine()
            for template in PosterTemplate.allCases {
                let poster = try await material.poster(manager, template: template)
                #expect(poster.texts.contains("\(Money.string(low))%–\(Money.string(high))%"), "\(template): \(poster.texts)")
                #expect(poster.texts.contains("年化利率（APR）"))
            }
            // The risk team publishes grades at 7.2% and 13.2%: the poster says so at once, and never the old bounds.
            try await Self.activateEditedPolicy(app) { text in
                text.replacingOccurrences(of: "\"grade-out2\": \"6\"", with: "\"grade-out2\": \"7.2\"")
                    .replacingOccurrences(of: "\"grade-out2\": \"14.4\"", with: "\"grade-out2\": \"13.2\"")
            }
            let content = try await material.posterContent(manager)
            #expect(content.aprRange == "7.20%–13.20%")
            let poster = try await material.poster(manager, template: .warm)
            #expect(poster.texts.contains("7.20%–13.20%") && !poster.texts.joined().contains("14.40%"))
            // A policy whose APR is not its grade rate cannot be advertised: refused, never guessed.
            try await Self.activateEditedPolicy(app) { $0.replacingOccurrences(of: "\"value\": \"$.annualRate\"", with: "\"value\": \"$.annualRate + 1\"") }
            await #expect(throws: APIError.self) { try await material.posterContent(manager) }
        }
    }

    @Test("every template names the manager and branch, carries the risk notice and the lender, and no wording banned in loan adverts")
    func wording() async throws {
        // The list names what regulators ban in loan adverts.
        for phrase in ["秒批", "秒到", "无门槛", "零利息", "0利息", "免息", "低息", "无抵押无担保", "100%通过", "必下款", "不看征信", "黑户可贷", "当天放款"] {
            #expect(AdvertWording.banned.contains(phrase), "\(phrase)")
        }
        #expect(AdvertWording.violations(in: "１００％通过，秒 批") == ["秒批", "100%通过"] || Set(AdvertWording.violations(in: "１００％通过，秒 批")) == ["秒批", "100%通过"])
        try await withYidai { app, _, _ in
            let material = MarketingMaterial(db: app.db, services: app.yidai, principal: try await Self.principal("sz-cm1", on: app))
            let manager = try await material.mine()
            for template in PosterTemplate.allCases {
                let texts = try await material.poster(manager, template: template).texts
                let all = texts.joined(separator: "\n")
                #expect(AdvertWording.violations(in: all).isEmpty, "\(template): \(AdvertWording.violations(in: all))")
                #expect(texts.joined().contains("贷款有风险，借款需谨慎。请根据个人能力合理贷款，理性消费，避免逾期。"), "\(template)")
                #expect(all.contains(ContractContent.lenderName), "\(template)")
                #expect(all.contains("林晓") && all.contains("深圳南山支行") && all.contains("SZ-0001"), "\(template)")
                #expect(all.contains("个人消费贷款"), "\(template)")
            }
            // The renderer itself refuses banned wording, whatever the content says.
            var content = try await material.posterContent(manager)
            content.headline = "秒批到账 当天放款"
            #expect(throws: PosterRenderingError.self) { try MicroPoster.render(content, template: .classic) }
        }
    }

    @Test("a manager gets only their own; a branch head any manager of the branch; an admin any; everyone else 404")
    func scope() async throws {
        try await withYidai { app, clock, _ in
            // (login, path, status)
            let cases: [(String, String, HTTPStatus)] = [
                ("sz-cm1", "managers/SZ-0001/qr-code.png", .ok),
                ("sz-cm1", "managers/sz-0001/qr-code.svg", .ok),
                ("sz-cm1", "managers/SZ-0002/qr-code.png", .notFound),
                ("sz-cm1", "managers/SZ-0002/poster.png", .notFound),
                ("sz-cm2", "managers/SZ-0001/qr-code.svg", .notFound),
                ("sz-head", "managers/SZ-0001/poster.png?template=2", .ok),  // SZ-NS is under SZ
                ("sz-head", "managers/SZ-0002/qr-code.svg", .ok),
                ("sz-head", "managers/WH-0001/qr-code.svg", .notFound),
                ("wh-head", "managers/SZ-0001/qr-code.png", .notFound),
                ("wh-head", "managers/WH-0002/mini-program-code.png", .ok),
                ("admin", "managers/SH-0002/qr-code.svg", .ok),
                ("admin", "managers/XX-0000/qr-code.svg", .notFound),
                ("sz-head", "me/qr-code.png", .notFound),  // no manager code of their own
                ("admin", "me/poster.png", .notFound),
                ("risk1", "managers/SZ-0001/qr-code.png", .notFound),  // not in the role
                ("auditor", "me/qr-code.svg", .notFound),
            ]
            var users: [String: StaffUser] = [:]
            for (login, path, expected) in cases {
                if users[login] == nil { users[login] = try await Self.signedIn(login, app, clock) }
                let (status, body, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/" + path, token: users[login]!.token)
                #expect(status == expected, "\(login) \(path): \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            let (_, noCode, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/qr-code.png", token: users["sz-head"]!.token)
            #expect(MarketingHTTP.errorCode(noCode).code == "no_manager_code")
            let (anonymous, _, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/me/qr-code.png", token: nil)
            #expect(anonymous == .unauthorized)
            // A branch head's copy of a manager's code is that manager's, not theirs.
            let (_, png, _) = try await MarketingHTTP.fetch(app, "/api/v1/staff/managers/SZ-0002/qr-code.png?size=300", token: users["sz-head"]!.token)
            #expect(try MarketingHTTP.decode(png) == ["http://127.0.0.1:8080/?cm=SZ-0002&ch=qr"])
        }
    }

    @Test("landings are counted per manager, channel, campaign and day in one row each, with nothing about the visitor")
    func landingCounts() async throws {
        try await withYidai { app, clock, _ in
            let landings = [
                "/?cm=SZ-0001&ch=qr", "/?cm=SZ-0001&ch=qr", "/?cm=sz-0001&ch=poster&campaign=Spring-2026", "/?cm=SZ-0002&ch=qr",
                "/?cm=XX-9999&ch=qr", "/?campaign=spring-2026", "/",
            ]
            for path in landings {
                let (status, _, _) = try await TestHTTP.call(app, .GET, path, json: nil, headers: ["User-Agent": "Visitor/1.0", "X-Forwarded-For": "203.0.113.9"])
                #expect(status == .ok, "\(path)")
            }
            _ = try await TestHTTP.call(app, .HEAD, "/?cm=SZ-0001&ch=qr", json: nil, headers: [:])  // a link preview: not counted
            let today = BusinessCalendar.civilDate(clock.now).iso  // the day in China time
            let cm = try await Self.signedIn("sz-cm1", app, clock)
            let (status, body, _) = try await cm.call(.GET, "/api/v1/staff/me/landings?from=2026-07-01&to=2026-07-31")
            #expect(status == .ok, "\(body)")
            let rows = try #require(body["rows"] as? [[String: Any]])
            #expect(rows.count == 2, "\(rows)")
            let qr = try #require(rows.first { $0["channel"] as? String == "qr" })
            #expect(qr["date"] as? String == today && qr["scans"] as? Int == 2 && qr["visits"] as? Int == 2 && qr["campaign"] is NSNull)
            let poster = try #require(rows.first { $0["channel"] as? String == "poster" })
            #expect(poster["campaign"] as? String == "spring-2026" && poster["scans"] as? Int == 0 && poster["visits"] as? Int == 1)
            // An unknown code is never counted as a manager's: it is counted unattributed ("" manager), as is a
            // campaign link without a code; a plain visit is not counted at all.
            let all = try await LandingCount.query(on: app.db).all()
            #expect(all.count == 5)  // SZ-0001 qr, SZ-0001 poster/spring-2026, SZ-0002 qr, unattributed qr, unattributed spring-2026
            #expect(!all.contains { $0.managerCode == "XX-9999" })
            #expect(all.first { $0.managerCode == "" && $0.channel == "qr" }?.scans == 1)
            #expect(all.first { $0.managerCode == "" && $0.campaign == "spring-2026" }?.visits == 1)
            #expect(all.reduce(0) { $0 + $1.visits } == 6)
            // Nothing personal: the table has only the counters and their keys.
            let sql = app.db as! any SQLDatabase
            let columns: Set<String>
            if sql.dialect.name == "sqlite" {
                columns = Set(try await sql.raw("PRAGMA table_info(landing_counts)").all().map { try $0.decode(column: "name", as: String.self) })
            } else {
                columns = Set(try await sql.raw("SELECT column_name FROM information_schema.columns WHERE table_name = 'landing_counts' AND table_schema = current_schema()")
                    .all().map { try $0.decode(column: "column_name", as: String.self) })
            }
            #expect(columns == ["id", "day", "manager_code", "channel", "campaign", "scans", "visits"])
            // A branch head reads a manager of the branch; another branch's head gets 404; bad dates 422.
            let head = try await Self.signedIn("sz-head", app, clock)
            let (ok, headBody, _) = try await head.call(.GET, "/api/v1/staff/me/landings?manager=SZ-0002&from=\(today)&to=\(today)")
            #expect(ok == .ok && (headBody["rows"] as? [[String: Any]])?.first?["scans"] as? Int == 1)
            let other = try await Self.signedIn("wh-head", app, clock)
            #expect(try await other.call(.GET, "/api/v1/staff/me/landings?manager=SZ-0001").0 == .notFound)
            let (bad, badBody, _) = try await cm.call(.GET, "/api/v1/staff/me/landings?from=2026-13-01")
            #expect(bad == .unprocessableEntity && (badBody["error"] as? [String: Any])?["field"] as? String == "from")
        }
    }

    @Test("ten landings at once all count, in one row")
    func concurrentLandings() async throws {
        try await withYidai { app, _, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask { _ = try await TestHTTP.call(app, .GET, "/?cm=WH-0001&ch=qr&campaign=fair", json: nil, headers: [:]) }
                }
                try await group.waitForAll()
            }
            let rows = try await LandingCount.query(on: app.db).filter(\.$managerCode == "WH-0001").all()
            #expect(rows.count == 1 && rows.first?.scans == 10 && rows.first?.visits == 10)
        }
    }

    @Test("the workbench's 我的推广码 page shows the code, the downloads, both posters and the counts")
    func consolePage() async throws {
        try await withYidai { app, clock, _ in
            _ = try await TestHTTP.call(app, .GET, "/?cm=SZ-0001&ch=qr", json: nil, headers: [:])
            let session = try await ConsolePagesTests.signIn(app, clock, "sz-cm1")
            let page = try await ConsolePagesTests.page(app, .GET, "/console/marketing", session: session)
            #expect(page.status == .ok)
            for piece in ["我的推广码", "SZ-0001", Self.url.replacingOccurrences(of: "&", with: "&amp;"), "/console/marketing/SZ-0001/qr-code.png?size=160",
                          "/console/marketing/SZ-0001/qr-code.png?size=1200", "/console/marketing/SZ-0001/qr-code.svg",
                          "/console/marketing/SZ-0001/poster.png?template=1", "/console/marketing/SZ-0001/poster.png?template=2",
                          "id=\"total-scans\">1<", "6.00%–14.40%", "<svg"] {
                #expect(page.html.contains(piece), "\(piece)")
            }
            let image = try await ConsolePagesTests.page(app, .GET, "/console/marketing/SZ-0001/poster.png?template=2", session: session)
            #expect(image.status == .ok)
            #expect(try await ConsolePagesTests.page(app, .GET, "/console/marketing/SZ-0002/qr-code.svg", session: session).status == .notFound)
            let head = try await ConsolePagesTests.signIn(app, clock, "sz-head")
            let choose = try await ConsolePagesTests.page(app, .GET, "/console/marketing", session: head)
            #expect(choose.status == .ok && choose.html.contains("郑楠") && !choose.html.contains("胡蓉"))
        }
    }
}
