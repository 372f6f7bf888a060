import Foundation
import LendingCore
import Providers
import SQLKit
import Fluent
import Testing
import Vapor

@testable import App

@Suite("Who may see and change an application")
struct AccessTests {
    @Test("another applicant cannot read or change my application: it answers 404 like one that does not exist")
    func anotherApplicantGets404() async throws {
        try await withYidai { app, clock, providers in
            var mine = Applicant("P01", app: app, clock: clock, providers: providers)
            try await mine.signIn()
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            try await other.signIn()
            let target = mine.applicationID
            let routes: [(HTTPMethod, String, [String: Any]?)] = [
                (.GET, "", nil), (.POST, "/id-card", ["frontImage": "aGk=", "backImage": "aGk="]), (.POST, "/id-card/confirm", [:]),
                (.POST, "/face", ["simulate": true]), (.POST, "/bank-card", ["cardNumber": "6222020200110000102"]),
                (.POST, "/bank-card/confirm", ["code": "123456"]), (.GET, "/credit-authorization", nil),
                (.POST, "/credit-authorization/sms-code", nil), (.POST, "/credit-authorization", [:]), (.PUT, "/about-you", [:]),
                (.POST, "/decision", nil), (.POST, "/loan-request", [:]), (.POST, "/cancel", nil),
            ]
            let unknown = UUID().uuidString
            for (method, suffix, body) in routes {
                let (status, error, _) = try await other.call(method, "/api/v1/applications/\(target)\(suffix)", json: body)
                #expect(status == .notFound, "\(method) \(suffix)")
                #expect(error.errorCode == "not_found")
                let (missing, _, _) = try await other.call(method, "/api/v1/applications/\(unknown)\(suffix)", json: body)
                #expect(missing == .notFound)
            }
            let (_, view, _) = try await mine.call(.GET, mine.path())
            #expect(view["state"] as? String == "started")
        }
    }

    @Test("without a session token the application answers 401")
    func noTokenIsUnauthorized() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let (status, body, _) = try await p.call(.GET, p.path(), headers: [:])
            #expect(status == .unauthorized)
            #expect(body.errorCode == "unauthorized")
            let (forged, _, _) = try await p.call(.GET, p.path(), headers: ["Authorization": "Bearer forged-token"])
            #expect(forged == .unauthorized)
        }
    }

    @Test("signing in again from the same phone resumes the same application at the right step")
    func resumeFromSamePhone() async throws {
        try await withYidai { app, clock, providers in
            var first = Applicant("P01", app: app, clock: clock, providers: providers)
            try await first.signIn()
            _ = try await first.uploadIDCard()
            _ = try await first.confirmIDCard()
            var again = Applicant("P01", app: app, clock: clock, providers: providers)
            try await again.signIn()
            #expect(again.applicationID == first.applicationID)
            let (_, view, _) = try await again.call(.GET, again.path())
            #expect(view["nextStep"] as? String == "face")
        }
    }
}

@Suite("Steps happen in order")
struct OrderTests {
    @Test("a step out of order gets 409 naming the step that comes next, and nothing changes")
    func outOfOrder() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let (_, before, _) = try await p.call(.GET, p.path())
            let (status, body, _) = try await p.call(.POST, p.path("/decision"))
            #expect(status == .conflict)
            #expect((body[path: "error.message"] as? String ?? "").contains("ID card"))
            let (faceStatus, _) = try await p.face()
            #expect(faceStatus == .conflict)
            let (_, after, _) = try await p.call(.GET, p.path())
            #expect(after["state"] as? String == before["state"] as? String)
            #expect(after["nextStep"] as? String == "id_card")
        }
    }

    @Test("after a decision the applicant cannot go back and redo earlier steps")
    func noGoingBack() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P08", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            #expect(try await p.aboutYou().0 == .conflict)
            #expect(try await p.decide().0 == .conflict)
        }
    }
}

@Suite("SMS codes and rate limits")
struct RateLimitTests {
    @Test("a second code within 60 seconds is refused with 429 and Retry-After")
    func resendInterval() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            let (status, body, headers) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
            #expect(status == .tooManyRequests)
            #expect(body.errorCode == "rate_limited")
            #expect(Int(headers.first(name: "Retry-After") ?? "") ?? 0 > 0)
            clock.advance(61)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
        }
    }

    @Test("a new phone's first code and another purpose's code right after it are both kept on the phone's one row, newest first")
    func sendsOfANewPhoneAndThen() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            // MUT: the phone's first code (no row yet), then one for another purpose at once (the row exists now)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            clock.advance(1)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone, "purpose": "lead"], headers: [:]).0 == .accepted)
            // validation: one row for the phone, changed twice, with both sends; both codes stored
            let phoneIndex = app.yidai.cipher.blindIndex(p.phone, purpose: "phone")
            let sql = try #require(app.db as? any SQLDatabase)
            let row = try #require(try await sql.raw("SELECT sends, version FROM code_sends WHERE phone_index = \(bind: phoneIndex)").first())
            #expect(try row.decode(column: "version", as: Int.self) == 2)
            let sends = try OneTimeCodes.PhoneSends.decoded(try row.decode(column: "sends", as: String.self))
            #expect(sends.map(\.purpose) == ["lead", "sign_in"])
            #expect(try await OneTimeCode.query(on: app.db).filter(\.$phoneIndex == phoneIndex).count() == 2)
            // and the limits still read that row: a second lead code within the minute waits
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone, "purpose": "lead"], headers: [:]).0 == .tooManyRequests)
        }
    }

    @Test("a phone gets at most 10 codes a day")
    func dailyLimit() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P02", app: app, clock: clock, providers: providers)
            for _ in 0..<10 {
                #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
                clock.advance(61)
            }
            let (status, _, _) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
            #expect(status == .tooManyRequests)
        }
    }

    @Test("ten codes asked for one phone at the same moment: one is sent, the nine others are told to wait the 60 seconds")
    func simultaneousSends() async throws {
        try await withYidai { app, clock, providers async throws in
            let p = Applicant("P03", app: app, clock: clock, providers: providers)
            // MUT: ten at once
            let statuses = await withTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<10 {
                    group.addTask { (try? await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0) ?? .internalServerError }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // validation: one sent and recorded, nine refused
            #expect(statuses.filter { $0 == .accepted }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 9, "\(statuses)")
            #expect(try await (providers.sms as! SandboxSMSGateway).outbox(phone: MobileNumber(p.phone)).count == 1)
            #expect(try await OneTimeCode.query(on: app.db).count() == 1)
        }
    }

    @Test("a code the SMS gateway could not send does not count: the phone may ask again at once, and the ten a day stay ten")
    func unsentCodeNotCounted() async throws {
        try await withYidai { app, clock, providers async throws in
            let p = Applicant("P04", app: app, clock: clock, providers: providers)
            let sms = providers.sms as! SandboxSMSGateway
            // setup: nine codes sent
            for _ in 0..<9 {
                #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
                clock.advance(61)
            }
            // MUT: the gateway is down for the tenth
            await sms.setOutage(ProviderError(code: "down", message: "down", messageZh: "down"))
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .serviceUnavailable)
            await sms.setOutage(nil)
            // validation: the tenth goes out at once, the eleventh is over the limit
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            clock.advance(61)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .tooManyRequests)
            #expect(try await OneTimeCode.query(on: app.db).count() == 10)
        }
    }

    @Test("codes sent before the upgrade that brought each phone's row still count: the migration copies in the last day's codes")
    func upgradeKeepsCounting() async throws {
        try await withYidai { app, clock, providers async throws in
            let p = Applicant("P05", app: app, clock: clock, providers: providers)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            clock.advance(61)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone, "purpose": "lead"], headers: [:]).0 == .accepted)
            // MUT: the database as it was before the rows (codes only), migrated again
            let migration = CreateCodeSends(now: { clock.now })
            try await migration.revert(on: app.db)
            try await migration.prepare(on: app.db)
            // validation: the lead code was 0 s ago, and nine more make the day's ten
            let (status, _, _) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone, "purpose": "lead"], headers: [:])
            #expect(status == .tooManyRequests)
            for _ in 0..<8 {
                clock.advance(61)
                #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .accepted)
            }
            clock.advance(61)
            #expect(try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:]).0 == .tooManyRequests)
        }
    }

    @Test("five wrong tries kill a code, even the right one afterwards")
    func wrongTriesKillCode() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
            let right = await p.latestCode()
            let wrong = right == "111111" ? "222222" : "111111"
            for _ in 0..<5 {
                let (status, _, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": wrong], headers: [:])
                #expect(status == .unprocessableEntity)
            }
            let (status, body, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": right], headers: [:])
            #expect(status == .unprocessableEntity)
            #expect(body.errorCode == "code_locked")
        }
    }

    @Test("a code older than 5 minutes is refused")
    func expiredCode() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": p.phone], headers: [:])
            clock.advance(301)
            let (status, body, _) = try await p.call(.POST, "/api/v1/sessions", json: ["phone": p.phone, "code": await p.latestCode()], headers: [:])
            #expect(status == .unprocessableEntity)
            #expect(body.errorCode == "code_expired")
        }
    }
}

@Suite("Errors have one shape")
struct ErrorShapeTests {
    @Test("unknown API routes answer 404 in the error shape")
    func unknownRoute() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            let (status, body, _) = try await p.call(.GET, "/api/v1/nothing-here", headers: [:])
            #expect(status == .notFound)
            #expect(body.errorCode == "not_found")
            #expect(body[path: "error.message"] is String)
        }
    }

    @Test("malformed JSON gets 400 and an oversized body 413, and the server stays healthy")
    func malformedAndOversized() async throws {
        try await withYidai { app, _, _ in
            try await app.testing().test(.POST, "/api/v1/sms-codes", beforeRequest: { req in
                req.headers.contentType = .json
                req.body = ByteBuffer(string: "{\"phone\": ")
            }, afterResponse: { res async in
                #expect(res.status == .badRequest)
                #expect(res.body.string.contains("\"code\""))
                #expect(!res.body.string.contains("Swift"))
            })
            // Body limits apply to bodies streamed over a real connection.
            let port = freeLoopbackPort()
            try await app.testing(method: .running(hostname: "127.0.0.1", port: port)).test(.POST, "/api/v1/sms-codes", beforeRequest: { req in
                req.headers.contentType = .json
                req.body = ByteBuffer(string: "{\"phone\": \"" + String(repeating: "1", count: 2_000_000) + "\"}")
            }, afterResponse: { res async in
                #expect(res.status == .payloadTooLarge)
                #expect(res.body.string.contains("payload_too_large"))
            })
            try await app.testing().test(.GET, "/health") { res async in
                #expect(res.status == .ok)
            }
        }
    }

    @Test("a wrong phone number names the phone field")
    func badPhone() async throws {
        try await withYidai { app, clock, providers in
            let p = Applicant("P01", app: app, clock: clock, providers: providers)
            for bad in ["12345", "23800000001", "1380000000a", ""] {
                let (status, body, _) = try await p.call(.POST, "/api/v1/sms-codes", json: ["phone": bad], headers: [:])
                #expect(status.code >= 400 && status.code < 500)
                #expect(body.errorField == "phone")
            }
            let (status, body, _) = try await p.call(.POST, "/api/v1/sms-codes", json: [:], headers: [:])
            #expect(status == .badRequest)
            #expect(body.errorField == "phone")
        }
    }
}
