import Foundation
import Testing
import Vapor

@testable import App
@testable import Providers

/// For every field of every step: an invalid value gets a 4xx naming the field, and the application is unchanged.
@Suite("Bad input is refused field by field")
struct BadInputTests {
    /// Snapshot of what the applicant can see, to prove nothing changed.
    func snapshot(_ p: Applicant) async throws -> String {
        let (_, view, _) = try await p.call(.GET, p.path())
        var copy = view
        copy.removeValue(forKey: "updatedAt")
        return String(decoding: try JSONSerialization.data(withJSONObject: copy, options: [.sortedKeys]), as: UTF8.self)
    }

    func expectRefused(_ p: Applicant, _ method: HTTPMethod, _ suffix: String, _ body: [String: Any], field: String,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try await snapshot(p)
        let (status, error, _) = try await p.call(method, p.path(suffix), json: body)
        #expect(status.code >= 400 && status.code < 500, "\(suffix) \(body) → \(status)", sourceLocation: sourceLocation)
        #expect(error.errorField == field, "\(suffix) \(body) named \(error.errorField ?? "nothing")", sourceLocation: sourceLocation)
        #expect(try await snapshot(p) == before, "\(suffix) changed the application", sourceLocation: sourceLocation)
    }

    @Test("ID card confirmation refuses a bad name, ID number, address or validity")
    func idCardFields() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            let good: [String: Any] = ["name": "张伟", "idNumber": "440305198803152013", "address": "广东省深圳市南山区科技园路1号", "validUntil": "2035-03-15"]
            let cases: [(String, Any)] = [
                ("name", ""), ("name", "Zhang Wei 123"), ("name", 42), ("idNumber", "440305198803152014"), ("idNumber", "44030519880315201"),
                ("idNumber", "440305198813152013"), ("address", "短"), ("validUntil", "2020-01-01"), ("validUntil", "next year"),
            ]
            for (field, value) in cases {
                var body = good
                body[field] = value
                try await expectRefused(p, .POST, "/id-card/confirm", body, field: field)
            }
            for field in good.keys {
                var body = good
                body.removeValue(forKey: field)
                try await expectRefused(p, .POST, "/id-card/confirm", body, field: field)
            }
        }
    }

    @Test("ID card upload refuses missing, non-base64 and unreadable images")
    func idCardImages() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await expectRefused(p, .POST, "/id-card", ["backImage": "aGVsbG8="], field: "frontImage")
            try await expectRefused(p, .POST, "/id-card", ["frontImage": "aGVsbG8="], field: "backImage")
            try await expectRefused(p, .POST, "/id-card", ["frontImage": "%%%", "backImage": "aGVsbG8="], field: "frontImage")
            try await expectRefused(p, .POST, "/id-card", ["frontImage": "aGVsbG8=", "backImage": "aGVsbG8="], field: "frontImage")
        }
    }

    @Test("ID card photos the engine cannot use: a blank photo, something else, one side twice, a huge and a truncated image each say why; nothing changes")
    func idCardPhotosRefused() async throws {
        let front = try #require(SandboxCards.image(person: "P01", side: .front))
        let back = try #require(SandboxCards.image(person: "P01", side: .back))
        let card = try #require(LeptonicaImage.decode(front, maxPixels: 10_000_000))
        let blank = try #require(card.textGrey()?.whitened(PixelRect(x: 0, y: 0, width: card.width, height: card.height))?.pngData())
        let backImage = try #require(LeptonicaImage.decode(back, maxPixels: 10_000_000))
        let other = try #require(backImage.clipped(to: PixelRect(x: 0, y: 0, width: 200, height: 150))?.scaled(by: 3)?.jpegData(quality: 80))
        let copy = try #require(card.jpegData(quality: 85))
        // A PNG header claiming 20,000 x 20,000 pixels.
        var huge = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        huge += Data([0x00, 0x00, 0x4E, 0x20, 0x00, 0x00, 0x4E, 0x20, 8, 2, 0, 0, 0, 0, 0, 0, 0]) + Data(repeating: 0, count: 64)
        let cases: [(String, Data, Data, String)] = [
            ("a blank photo", blank, back, "photo_blank"),
            ("something else", other, back, "card_unreadable"),
            ("the front twice", front, copy, "card_wrong_side"),
            ("a huge image", huge, back, "image_too_large"),
            ("a truncated image", copy.prefix(copy.count / 3), back, "image_damaged"),
        ]
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            for (what, f, b, code) in cases {
                let before = try await snapshot(p)
                let (status, error, _) = try await p.call(
                    .POST, p.path("/id-card"), json: ["frontImage": f.base64EncodedString(), "backImage": b.base64EncodedString()])
                #expect(status == .unprocessableEntity, "\(what) → \(status)")
                #expect(error.errorCode == code, "\(what) → \(error.errorCode ?? "no code")")
                #expect(error.errorField == "frontImage", "\(what)")
                #expect(try await snapshot(p) == before, "\(what) changed the application")
            }
            #expect(try await p.uploadIDCard().0 == .ok)
        }
    }

    @Test("a name the engine cannot read comes back empty and named as needing the applicant; the fields read carry how sure the engine was")
    func idCardFieldNeedsAttention() async throws {
        let front = try #require(SandboxCards.image(person: "P01", side: .front))
        let back = try #require(SandboxCards.image(person: "P01", side: .back))
        let card = try #require(LeptonicaImage.decode(front, maxPixels: 10_000_000))
        // Paint over the name's value, as a glare would.
        let smudged = try #require(card.textGrey()?.whitened(PixelRect(x: 95, y: 30, width: 200, height: 40))?.pngData())
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let (status, body, _) = try await p.call(
                .POST, p.path("/id-card"), json: ["frontImage": smudged.base64EncodedString(), "backImage": back.base64EncodedString()])
            #expect(status == .ok)
            #expect(body["name"] as? String == "")
            #expect(body["idNumber"] as? String == "440305198803152013")
            #expect(body["validFrom"] as? String == "2018-03-20")
            #expect(body["issuingAuthority"] as? String == SandboxCards.reading(person: "P01")?.issuingAuthority)
            let attention = body["needsAttention"] as? [[String: Any]] ?? []
            #expect(attention.contains { $0["field"] as? String == "name" && $0["reason"] as? String == "not_read" })
            #expect(!attention.contains { $0["field"] as? String == "idNumber" })
            let confidence = body["confidence"] as? [String: Any] ?? [:]
            #expect(confidence["name"] == nil)
            #expect((confidence["idNumber"] as? Double ?? 0) > 85)
        }
    }

    @Test("the bank card step refuses bad card numbers and bad codes")
    func bankCardFields() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            _ = try await p.face()
            for bad: Any in ["6222020200110000103", "1234", "62220202001100001021234", "abcd", 6222020200110000102] {
                try await expectRefused(p, .POST, "/bank-card", ["cardNumber": bad], field: "cardNumber")
            }
            try await expectRefused(p, .POST, "/bank-card", [:], field: "cardNumber")
            #expect(try await p.bankCard().0 == .accepted)
            for bad in ["12345", "abcdef", ""] {
                try await expectRefused(p, .POST, "/bank-card/confirm", ["code": bad], field: "code")
            }
        }
    }

    @Test("the authorization refuses a stale version, no consent or a bad code")
    func authorizationFields() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            _ = try await p.face()
            _ = try await p.bankCard()
            _ = try await p.confirmBankCard()
            let (_, text, _) = try await p.call(.GET, p.path("/credit-authorization"))
            let version = text["version"] as? String ?? ""
            try await expectRefused(p, .POST, "/credit-authorization", ["version": "1999-01", "agree": true, "code": "123456"], field: "version")
            try await expectRefused(p, .POST, "/credit-authorization", ["version": version, "agree": false, "code": "123456"], field: "agree")
            try await expectRefused(p, .POST, "/credit-authorization", ["version": version, "sha256": "00", "agree": true, "code": "123456"], field: "sha256")
            try await expectRefused(p, .POST, "/credit-authorization", ["version": version, "agree": true], field: "code")
            try await expectRefused(p, .POST, "/credit-authorization", ["version": version, "agree": true, "code": "12"], field: "code")
        }
    }

    @Test("about you refuses every bad fact and names it")
    func aboutYouFields() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.uploadIDCard()
            _ = try await p.confirmIDCard()
            _ = try await p.face()
            _ = try await p.bankCard()
            _ = try await p.confirmBankCard()
            _ = try await p.authorize()
            let good = Applicant.aboutYouBody(income: "25000")
            let cases: [(String, String, Any)] = [
                ("employer", "employer", ""), ("employer", "employer", String(repeating: "公", count: 61)),
                ("employmentType", "employmentType", "astronaut"), ("monthlyIncome", "monthlyIncome", "-5"),
                ("monthlyIncome", "monthlyIncome", "lots"), ("monthlyIncome", "monthlyIncome", "0"), ("housing", "housing", "castle"),
                ("maritalStatus", "maritalStatus", "complicated"), ("education", "education", "none"), ("loanPurpose", "loanPurpose", "securities"),
            ]
            for (key, field, value) in cases {
                var body = good
                body[key] = value
                try await expectRefused(p, .PUT, "/about-you", body, field: field)
            }
            let contactCases: [(String, Any)] = [("name", ""), ("relationship", "boss"), ("phone", "12345"), ("phone", "13800000001")]
            for (key, value) in contactCases {
                var body = good
                var contact = good["emergencyContact"] as! [String: Any]
                contact[key] = value
                body["emergencyContact"] = contact
                try await expectRefused(p, .PUT, "/about-you", body, field: "emergencyContact.\(key)")
            }
            var noContact = good
            noContact.removeValue(forKey: "emergencyContact")
            try await expectRefused(p, .PUT, "/about-you", noContact, field: "emergencyContact.name")
        }
    }

    @Test("the loan request refuses amounts over the limit, odd terms, bullet loans over 12 months and unlawful purposes")
    func loanRequestFields() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let good: [String: Any] = ["amount": "50000", "termMonths": 12, "method": "equal-installment", "purpose": "travel"]
            let cases: [(String, String, Any)] = [
                ("amount", "amount", "999999999"), ("amount", "amount", "500"), ("amount", "amount", "50050"), ("amount", "amount", "abc"),
                ("termMonths", "termMonths", 7), ("termMonths", "termMonths", 0), ("method", "method", "balloon"),
                ("purpose", "purpose", "housing"), ("purpose", "purpose", "securities"),
            ]
            for (key, field, value) in cases {
                var body = good
                body[key] = value
                try await expectRefused(p, .POST, "/loan-request", body, field: field)
            }
            var bullet = good
            bullet["method"] = "interest-first"
            bullet["termMonths"] = 24
            try await expectRefused(p, .POST, "/loan-request", bullet, field: "method")
        }
    }
}
