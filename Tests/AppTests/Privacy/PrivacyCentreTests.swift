import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

/// A person in the privacy centre: a fresh SMS code for purpose privacy, then the step-up token.
struct PrivacyUser {
    let app: Application
    let clock: TestClock
    let providers: ProviderSet
    let phone: String
    var token = ""

    var bearer: HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    mutating func stepUp() async throws {
        clock.advance(61)
        let (sent, sentBody, _) = try await TestHTTP.call(app, .POST, "/api/v1/sms-codes", json: ["phone": phone, "purpose": "privacy"], headers: [:])
        #expect(sent == .accepted, "\(sentBody)")
        let code = await sandboxSMS(providers).latestCode(to: try MobileNumber(phone)) ?? "000000"
        let (status, body, _) = try await TestHTTP.call(app, .POST, "/api/v1/privacy/step-up", json: ["phone": phone, "smsCode": code], headers: [:])
        #expect(status == .created, "\(body)")
        token = body["token"] as? String ?? ""
    }

    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> (HTTPStatus, [String: Any]) {
        let (status, body, _) = try await TestHTTP.call(app, method, path, json: json, headers: bearer)
        return (status, body)
    }
}

@Suite("Privacy centre (PIPL): see, export, correct, withdraw, erase")
struct PrivacyCentreTests {
    static func borrower(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> Applicant {
        var p = Applicant("P01", app: app, clock: clock, providers: providers)
        try await p.signIn(cm: "SZ-0001", ch: "qr")
        try await p.walkToSignedContract(amount: "12000", termMonths: 12)
        let (paid, paidBody) = try await p.disburse()
        #expect(paid == .created, "\(paidBody)")
        return p
    }

    static func vault(_ app: Application) -> PersonVault { PersonVault(db: app.db, services: app.yidai) }

    @Test("the privacy centre needs its own fresh SMS code: no token, a journey token or an expired token get 401")
    func stepUpRequired() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let (none, noneBody, _) = try await TestHTTP.call(app, .GET, "/api/v1/privacy/data", json: nil, headers: [:])
            #expect(none == .unauthorized && noneBody[path: "error.code"] as? String == "step_up_required")
            #expect(try await TestHTTP.call(app, .GET, "/api/v1/privacy/data", json: nil, headers: p.bearer).0 == .unauthorized)
            // A wrong code is refused and names the field.
            let (wrong, wrongBody, _) = try await TestHTTP.call(app, .POST, "/api/v1/privacy/step-up", json: ["phone": p.phone, "smsCode": "000000"], headers: [:])
            #expect(wrong != .created && wrongBody[path: "error.field"] as? String == "smsCode")
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            #expect(try await person.call(.GET, "/api/v1/privacy/data").0 == .ok)
            clock.advance(601)
            #expect(try await person.call(.GET, "/api/v1/privacy/data").0 == .unauthorized)
            // Every privacy route but the step-up, without a step-up token or with the journey's: 401, nothing read.
            let routes = app.routes.all.filter { $0.path.count > 2 && "\($0.path[0])" == "api" && "\($0.path[2])" == "privacy" && "\($0.path.last!)" != "step-up" }
            #expect(routes.count == 7)
            for route in routes {
                let path = "/" + route.path.map { if case .parameter = $0 { "00000000-0000-0000-0000-000000000000" } else { "\($0)" } }.joined(separator: "/")
                for headers in [HTTPHeaders(), p.bearer, ["Authorization": "Bearer forged"]] {
                    let (status, body, _) = try await TestHTTP.call(app, route.method, path, json: nil, headers: headers)
                    #expect(status == .unauthorized && body[path: "error.code"] as? String == "step_up_required", "\(route.method) \(path)")
                }
            }
        }
    }

    @Test("after a whole loan P01 sees everything held, field by field as the database holds it, and exports it as JSON and PDF")
    func seeAndExport() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let manager = try await staff("sz-cm1", app: app, clock: clock)
            #expect(try await manager.call(.POST, StaffUser.application(p.applicationID) + "/reveal", json: ["field": "idNumber", "reason": "核实身份信息"]).0 == .ok)
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let (status, data) = try await person.call(.GET, "/api/v1/privacy/data")
            #expect(status == .ok, "\(data)")
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            let vault = Self.vault(app)
            #expect(data["phone"] as? String == p.phone)
            #expect(data[path: "identity.name"] as? String == (try await vault.open(application.nameSealed!)))
            #expect(data[path: "identity.idNumber"] as? String == (try await vault.open(application.idNumberSealed!)))
            #expect(data[path: "identity.address"] as? String == (try await vault.open(application.addressSealed!)))
            #expect(data[path: "identity.validUntil"] as? String == application.idValidUntil)
            #expect(data[path: "bankCard.number"] as? String == (try await vault.open(application.cardSealed!)))
            let report = try JSONDecoder().decode(CreditReport.self, from: Data(try await vault.open(application.bureauReportSealed!).utf8))
            #expect((data["creditReports"] as? [[String: Any]])?.first?["reportId"] as? String == report.reportId)
            let facts = try JSONDecoder().decode(AboutYouFacts.self, from: Data(try await vault.open(application.aboutYouSealed!).utf8))
            #expect((data["facts"] as? [[String: Any]])?.first?["employer"] as? String == facts.employer)
            #expect((data["facts"] as? [[String: Any]])?.first?[path: "emergencyContact.phone"] as? String == facts.emergencyContact.phone)
            #expect((data["creditAuthorizations"] as? [[String: Any]])?.first?["version"] as? String == application.authorizationVersion)
            let loans = data["loans"] as? [[String: Any]] ?? []
            #expect(loans.count == 1 && loans.first?["principal"] as? String == "12000.00")
            #expect((loans.first?["installments"] as? [[String: Any]])?.count == 12)
            #expect((data["payments"] as? [[String: Any]])?.contains { $0["kind"] as? String == "disbursement" } == true)
            #expect((data["applications"] as? [[String: Any]])?.first?["decision"] as? String == "approved")
            let access = data["staffAccess"] as? [[String: Any]] ?? []
            #expect(access.count == 1 && access.first?["staff"] as? String == "sz-cm1" && access.first?["reason"] as? String == "核实身份信息")
            #expect((data["consents"] as? [[String: Any]])?.contains { $0["purpose"] as? String == "credit_authorization" } == true)
            // No biometric data is held, so none is shown: only the check's result.
            #expect(!"\(data)".contains("photo"))

            let (created, export) = try await person.call(.POST, "/api/v1/privacy/exports")
            #expect(created == .created, "\(export)")
            let json = try await app.testing().sendRequest(.GET, export["json"] as? String ?? "", headers: person.bearer)
            #expect(json.status == .ok)
            let exported = try JSONSerialization.jsonObject(with: Data(buffer: json.body)) as? [String: Any] ?? [:]
            #expect(exported[path: "identity.idNumber"] as? String == data[path: "identity.idNumber"] as? String)
            #expect((exported["loans"] as? [[String: Any]])?.count == 1)
            let pdf = try await app.testing().sendRequest(.GET, export["pdf"] as? String ?? "", headers: person.bearer)
            #expect(pdf.status == .ok && pdf.headers.contentType?.description == "application/pdf")
            #expect(Data(buffer: pdf.body).prefix(5) == Data("%PDF-".utf8))
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "privacy.exported").count() == 1)
            // Gone after 24 hours.
            clock.advance(86_401)
            try await person.stepUp()
            #expect(try await app.testing().sendRequest(.GET, export["pdf"] as? String ?? "", headers: person.bearer).status == .notFound)
        }
    }

    @Test("another person and another phone get nothing: their own data only, and 404 for someone else's export")
    func otherPeople() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            var owner = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await owner.stepUp()
            let (_, export) = try await owner.call(.POST, "/api/v1/privacy/exports")
            var stranger = PrivacyUser(app: app, clock: clock, providers: providers, phone: "13900002222")
            try await stranger.stepUp()
            let (status, data) = try await stranger.call(.GET, "/api/v1/privacy/data")
            #expect(status == .ok && data["identity"] == nil || data["identity"] is NSNull)
            #expect((data["applications"] as? [Any])?.isEmpty == true && (data["loans"] as? [Any])?.isEmpty == true)
            #expect(try await stranger.call(.GET, "/api/v1/privacy/exports/\(export["id"] as? String ?? "")").0 == .notFound)
            #expect(try await app.testing().sendRequest(.GET, export["pdf"] as? String ?? "", headers: stranger.bearer).status == .notFound)
        }
    }

    @Test("withdrawing marketing consent stops the manager's nudges at once")
    func marketingWithdrawal() async throws {
        try await withYidai { app, clock, providers in
            mondayMorning(clock)
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "qr")
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let (withdrawn, body) = try await person.call(.DELETE, "/api/v1/privacy/consents/marketing")
            #expect(withdrawn == .ok, "\(body)")
            let manager = try await staff("sz-cm1", app: app, clock: clock)
            let (nudge, nudgeBody, _) = try await manager.call(.POST, "/api/v1/staff/customers/\(p.applicationID)/nudge")
            #expect(nudge == .conflict && nudgeBody[path: "error.code"] as? String == "opted_out")
            let (_, consents) = try await person.call(.GET, "/api/v1/privacy/consents")
            let marketing = (consents["items"] as? [[String: Any]])?.first { $0["purpose"] as? String == "marketing" }
            #expect(marketing?["withdrawnAt"] is String)
            #expect(try await person.call(.DELETE, "/api/v1/privacy/consents/astrology").0 == .notFound)
            // Someone who only left a lead: after withdrawing, no manager calls back about it.
            #expect(try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900005555", cm: "SZ-0001").0 == .created)
            var visitor = PrivacyUser(app: app, clock: clock, providers: providers, phone: "13900005555")
            try await visitor.stepUp()
            #expect(try await visitor.call(.DELETE, "/api/v1/privacy/consents/marketing").0 == .ok)
            let lead = try #require(try await Lead.query(on: app.db).first())
            #expect(lead.status == "lost" && lead.lostReason == "撤回营销授权")
        }
    }

    @Test("withdrawing a consent the open application needs explains it is cancelled, and does it only when confirmed")
    func withdrawalCancels() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await p.walkToAuthorized()
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let (asked, askedBody) = try await person.call(.DELETE, "/api/v1/privacy/consents/credit_authorization")
            #expect(asked == .conflict && askedBody[path: "error.code"] as? String == "confirmation_required")
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "credit_authorized")
            let (done, doneBody) = try await person.call(.DELETE, "/api/v1/privacy/consents/credit_authorization?confirm=true")
            #expect(done == .ok, "\(doneBody)")
            #expect((doneBody["cancelledApplication"] as? String)?.lowercased() == p.applicationID.lowercased())
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "cancelled")
        }
    }

    @Test("the address and facts can be corrected while undecided; bad input names the field and changes nothing")
    func correction() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            #expect(try await p.confirmIDCard().0 == .ok)
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let before = try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)!.addressSealed
            let (bad, badBody) = try await person.call(.PATCH, "/api/v1/privacy/data", json: ["address": "短"])
            #expect(bad == .unprocessableEntity && badBody[path: "error.field"] as? String == "address")
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)!.addressSealed == before)
            let (ok, data) = try await person.call(.PATCH, "/api/v1/privacy/data", json: ["address": "广东省深圳市南山区科技园路1号"])
            #expect(ok == .ok, "\(data)")
            #expect(data[path: "identity.address"] as? String == "广东省深圳市南山区科技园路1号")
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "privacy.corrected").count() == 1)
        }
    }

    @Test("on the privacy page the facts and the emergency contact are corrected before the decision; a bad phone is named and nothing changes")
    func correctionOnPage() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await p.walkToAuthorized()
            #expect(try await p.aboutYou().0 == .ok)
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let cookie = ["yd_privacy=\(person.token)"]
            let shown = try await ConsolePagesTests.page(app, .GET, "/privacy", extraCookies: cookie)
            #expect(shown.status == .ok && shown.html.contains("更正补充信息与紧急联系人") && shown.html.contains(p.phone))
            let (_, before) = try await person.call(.GET, "/api/v1/privacy/data")
            let facts = (before["facts"] as? [[String: Any]])?.first ?? [:]
            var form: [String: String] = ["employer": facts["employer"] as? String ?? "", "monthlyIncome": "23000", "contactName": "周丽",
                                          "contactRelationship": "spouse", "contactPhone": "1390000"]
            for key in ["employmentType", "housing", "maritalStatus", "education", "loanPurpose"] { form[key] = facts[key] as? String ?? "" }
            let bad = try await ConsolePagesTests.page(app, .POST, "/privacy/correct", form: form, extraCookies: cookie)
            #expect(bad.status == .unprocessableEntity && bad.html.contains("contactPhone-error"))
            form["contactPhone"] = "13900000008"
            let good = try await ConsolePagesTests.page(app, .POST, "/privacy/correct", form: form, extraCookies: cookie)
            #expect(good.status == .ok && good.html.contains("信息已更正"), "\(good.html.prefix(400))")
            let (_, after) = try await person.call(.GET, "/api/v1/privacy/data")
            let corrected = (after["facts"] as? [[String: Any]])?.first ?? [:]
            #expect(corrected["monthlyIncome"] as? String == "23000.00" && corrected[path: "emergencyContact.phone"] as? String == "13900000008")
            // Without the step-up cookie the page asks for the code and changes nothing.
            let anonymous = try await ConsolePagesTests.page(app, .POST, "/privacy/correct", form: form)
            #expect(anonymous.status == .seeOther && anonymous.location == "/privacy")
        }
    }

    @Test("erasure of a person with no loan destroys their keys: the ciphertext stays unreadable and the phone is no longer found")
    func eraseWithoutLoan() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "qr")
            #expect(try await p.uploadIDCard().0 == .ok)
            #expect(try await p.confirmIDCard().0 == .ok)
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let headers = person.bearer
            async let first = TestHTTP.call(app, .POST, "/api/v1/privacy/erasure-requests", json: nil, headers: headers)
            async let second = TestHTTP.call(app, .POST, "/api/v1/privacy/erasure-requests", json: nil, headers: headers)
            let (a, b) = try await (first, second)
            #expect(a.0 == .accepted && b.0 == .accepted)
            #expect(a.1["deadline"] is String && a.1["state"] as? String == "accepted")
            #expect(try await ErasureRequest.query(on: app.db).count() == 1)
            // A dry run lists it and changes nothing.
            let dry = try await PrivacyJob(db: app.db, services: app.yidai).run(dryRun: true)
            #expect(dry.actions.map(\.action) == ["erase"])
            #expect(try await PersonKey.query(on: app.db).count() >= 2)
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            let name = try #require(application.nameSealed)
            // Two runs at once (two instances): carried out once.
            async let runA = PrivacyJob(db: app.db, services: app.yidai).run(dryRun: false)
            async let runB = PrivacyJob(db: app.db, services: app.yidai).run(dryRun: false)
            _ = try await (runA, runB)
            #expect(try await AuditEntry.query(on: app.db).filter(\.$action == "privacy.erasure_carried_out").count() == 1)
            let index = app.yidai.cipher.blindIndex(p.phone, purpose: "phone")
            #expect(try await PersonKey.query(on: app.db).filter(\.$phoneIndex == index).count() == 0)
            #expect(try await LoanApplication.query(on: app.db).filter(\.$phoneIndex == index).count() == 0)
            let after = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            #expect(after.nameSealed == name && after.privacyState == "erased" && after.state == "cancelled")
            app.yidai.cipher.personKeys.forgetAll()
            await #expect(throws: PersonVault.Erased.self) { _ = try await Self.vault(app).open(name) }
            #expect(try await ErasureRequest.query(on: app.db).first()?.state == "erased")
            // The workbench still lists the application, masked as erased.
            let head = try await staff("sz-head", app: app, clock: clock)
            let (_, list, _) = try await head.call(.GET, "/api/v1/staff/applications")
            #expect("\(list)".contains("已删除"))
        }
    }

    @Test("erasure of a borrower keeps the contract, ledger and identification locked and drops everything else")
    func eraseBorrower() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            var person = PrivacyUser(app: app, clock: clock, providers: providers, phone: p.phone)
            try await person.stepUp()
            let (accepted, request) = try await person.call(.POST, "/api/v1/privacy/erasure-requests")
            #expect(accepted == .accepted && (request["explanation"] as? String ?? "").contains("5年"))
            let compliance = try await staff("compliance", app: app, clock: clock)
            let (_, open, _) = try await compliance.call(.GET, "/api/v1/staff/privacy-requests")
            #expect(open["open"] as? Int == 1)
            let report = try await PrivacyJob(db: app.db, services: app.yidai).run(dryRun: false)
            #expect(report.actions.map(\.action) == ["lock"])
            app.yidai.cipher.personKeys.forgetAll()
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            #expect(application.privacyState == "locked" && application.bureauReportSealed == nil && application.aboutYouSealed == nil)
            let vault = Self.vault(app)
            #expect(try await vault.open(application.nameSealed!) == p.persona.name)
            let contract = try #require(try await SignedContract.query(on: app.db).filter(\.$applicationID == application.requireID()).first())
            #expect(try await vault.open(contract.contentSealed).contains("12000"))
            #expect(try await Loan.query(on: app.db).count() == 1)
            let keys = try await PersonKey.query(on: app.db).all()
            #expect(keys.count == 1 && keys[0].dataClass == "kept" && keys[0].phoneIndex.hasPrefix("erased:"))
            let (_, after, _) = try await compliance.call(.GET, "/api/v1/staff/privacy-requests")
            #expect((after["items"] as? [[String: Any]])?.first?["state"] as? String == "locked")
            // Staff can no longer reveal any of it.
            let manager = try await staff("sz-cm1", app: app, clock: clock)
            let (refused, refusedBody, _) = try await manager.call(.POST, StaffUser.application(p.applicationID) + "/reveal", json: ["field": "name", "reason": "核实身份信息"])
            #expect(refused == .conflict && refusedBody[path: "error.code"] as? String == "personal_data_locked")
            // Nothing of the person is used for decisions any more: the shadow replay has no decision to replay.
            #expect(try await DecisionRecord.query(on: app.db).join(LoanApplication.self, on: \DecisionRecord.$applicationID == \LoanApplication.$id)
                .filter(LoanApplication.self, \.$privacyState == nil).count() == 0)
        }
    }

    @Test("data written before person keys moves to them on upgrade without loss, and the move can run again")
    func migration() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let lead = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900003333", cm: "SZ-0001")
            #expect(lead.0 == .created)
            // Rewrite every person-sealed value the old way (sealed by the key ring) and drop the person keys.
            let sql = app.db as! any SQLDatabase
            let vault = Self.vault(app)
            var originals: [String: String] = [:]
            for target in PersonDataMigration.targets {
                for (column, _) in target.columns {
                    for row in try await sql.raw("SELECT id, \(unsafeRaw: column) AS v FROM \(unsafeRaw: target.table)").all() {
                        guard let sealed = try row.decode(column: "v", as: String?.self) else { continue }
                        let id = try row.decode(column: "id", as: UUID.self)
                        let plain = try await vault.open(sealed)
                        originals["\(target.table).\(column).\(id)"] = plain
                        try await sql.raw("UPDATE \(unsafeRaw: target.table) SET \(unsafeRaw: column) = \(bind: try app.yidai.cipher.seal(plain)) WHERE id = \(bind: id)").run()
                    }
                }
            }
            #expect(originals.count > 15)
            // Back to today's schema (before the privacy centre), then upgrade as a deployment would.
            try await CreatePrivacy().revert(on: app.db)
            try await sql.raw("DELETE FROM _fluent_migrations WHERE name LIKE '%CreatePrivacy%' OR name LIKE '%MovePersonDataToPersonKeys%'").run()
            app.yidai.cipher.personKeys.forgetAll()
            try await app.autoMigrate()
            #expect(try await PersonKey.query(on: app.db).count() >= 3)
            var checked = 0
            for target in PersonDataMigration.targets {
                for (column, _) in target.columns {
                    for row in try await sql.raw("SELECT id, \(unsafeRaw: column) AS v FROM \(unsafeRaw: target.table)").all() {
                        guard let sealed = try row.decode(column: "v", as: String?.self) else { continue }
                        let id = try row.decode(column: "id", as: UUID.self)
                        #expect(sealed.hasPrefix("pk:"))
                        #expect(try await vault.open(sealed) == originals["\(target.table).\(column).\(id)"])
                        checked += 1
                    }
                }
            }
            #expect(checked == originals.count)
            #expect(try await PersonDataMigration(db: app.db, cipher: app.yidai.cipher).run() == 0)
            // The journey goes on with the moved data.
            let (status, loan, _) = try await p.call(.GET, p.path())
            #expect(status == .ok && loan["state"] as? String == "disbursed")
        }
    }
}

@Suite("Key ring rotation with person keys")
struct KeyRewrapTests {
    @Test("a new ring key re-wraps each person's key, every row stays as it was, and the old ring key can then go")
    func rewrap() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            #expect(try await p.confirmIDCard().0 == .ok)
            let before = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            let old = app.yidai.cipher
            let name = try await PersonVault(db: app.db, cipher: old).open(before.nameSealed!)
            // The ring gains a key (the test ring's keys, plus a new active one).
            var ring = app.yidai.config.encryptionKeys
            ring["k-new"] = Data(repeating: 7, count: 32)
            let rotated = FieldCipher(keys: ring, activeKeyID: "k-new", indexSeed: app.yidai.config.indexSeed)
            let count = try await KeyRewrap(db: app.db, cipher: rotated).run()
            #expect(count.personKeys == 2)
            let after = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            #expect(after.nameSealed == before.nameSealed, "no row of personal data was re-encrypted")
            #expect(try await PersonKey.query(on: app.db).all().allSatisfy { $0.wrapped.hasPrefix("k-new:") })
            // Only the new key is needed now.
            let newOnly = FieldCipher(keys: ["k-new": Data(repeating: 7, count: 32)], activeKeyID: "k-new", indexSeed: app.yidai.config.indexSeed)
            #expect(try await PersonVault(db: app.db, cipher: newOnly).open(after.nameSealed!) == name)
            #expect(try await KeyRewrap(db: app.db, cipher: rotated).run().personKeys == 0)
        }
    }
}

@Suite("Retention rules")
struct RetentionRulesTests {
    @Test("no loan: nothing is kept; a loan still open: kept until it ends; all closed: kept 5 years after the last closes")
    func keptUntil() {
        #expect(RetentionRules.keptUntil(loans: []) == nil)
        #expect(RetentionRules.keptUntil(loans: [("active", nil)]) == .distantFuture)
        #expect(RetentionRules.keptUntil(loans: [("paid_off", "2026-03-01"), ("overdue", nil)]) == .distantFuture)
        let until = RetentionRules.keptUntil(loans: [("paid_off", "2026-03-01"), ("written_off", "2027-05-10")])
        #expect(until.map(BusinessCalendar.civilDate)?.iso == "2032-05-10")
        #expect(RetentionRules.rules.contains { $0.data == "kept" && $0.borrowersOnly && $0.law.contains("反洗钱法") })
    }
}
