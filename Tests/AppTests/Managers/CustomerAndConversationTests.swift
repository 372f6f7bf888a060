import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("A manager's customers, reminders and 云接洽")
struct CustomerAndConversationTests {
    @Test("a manager sees their customers' stage, where an unfinished one stopped and the qualification, masked")
    func customers() async throws {
        try await withYidai { app, clock, providers in
            var stopped = Applicant("P02", app: app, clock: clock, providers: providers)
            try await stopped.signIn(cm: "SZ-0001", ch: "qr")
            #expect(try await stopped.uploadIDCard().0 == .ok)
            #expect(try await stopped.confirmIDCard().0 == .ok)
            let referred = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var other = Applicant("P08", app: app, clock: clock, providers: providers)
            try await other.signIn(cm: "WH-0001", ch: "qr")
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            let (status, body, _) = try await cm.call(.GET, "/api/v1/staff/customers")
            #expect(status == .ok)
            let items = body["items"] as? [[String: Any]] ?? []
            #expect(Set(items.compactMap { $0["applicationId"] as? String }) == [stopped.applicationID.uppercased(), referred.applicationID.uppercased()]
                    || Set(items.compactMap { ($0["applicationId"] as? String)?.lowercased() }) == [stopped.applicationID.lowercased(), referred.applicationID.lowercased()])
            let first = try #require(items.first { ($0["applicationId"] as? String)?.lowercased() == stopped.applicationID.lowercased() })
            #expect(first["stoppedAt"] as? String == "face")
            #expect(first["qualification"] == nil || first["qualification"] is NSNull)
            #expect((first["applicant"] as? [String: Any])?["phone"] as? String == "138****0002")
            #expect((first["applicant"] as? [String: Any])?["name"] as? String == "王*")
            let second = try #require(items.first { ($0["applicationId"] as? String)?.lowercased() == referred.applicationID.lowercased() })
            #expect((second["qualification"] as? [String: Any])?["outcome"] as? String == "referred")
            #expect(second["stoppedAt"] == nil || second["stoppedAt"] is NSNull)
        }
    }

    @Test("a nudge is one SMS a day at most, never at night, and never to a phone that replied 退订")
    func nudges() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "qr")
            let cmAtNight = try await staff("sz-cm1", app: app, clock: clock)
            let path = "/api/v1/staff/customers/\(p.applicationID)/nudge"
            // Sunday 01:xx in Shanghai: quiet hours.
            let (night, nightBody, _) = try await cmAtNight.call(.POST, path)
            #expect(night == .conflict)
            #expect((nightBody["error"] as? [String: Any])?["code"] as? String == "quiet_hours")
            mondayMorning(clock)
            let cm = try await staff("sz-cm1", app: app, clock: clock)  // a workbench session ends after 30 idle minutes
            let (sent, _, _) = try await cm.call(.POST, path)
            #expect(sent == .accepted)
            #expect(try await Notifications(db: app.db, services: app.yidai).runDue() == 1)
            let texts = await outboxTexts(providers, phone: p.phone)
            #expect(texts.first?.contains("拒收请回复退订") == true)
            #expect(texts.first?.contains("林晓") == true)
            let (again, _, _) = try await cm.call(.POST, path)
            #expect(again == .tooManyRequests)
            // Another manager's customer is not there at all.
            let wh = try await staff("wh-cm1", app: app, clock: clock)
            #expect(try await wh.call(.POST, path).0 == .notFound)
            // Tomorrow, after the person replied 退订: refused, and nothing already queued goes out.
            clock.advance(86_400)
            let cmTomorrow = try await staff("sz-cm1", app: app, clock: clock)
            let (optOut, optBody, _) = try await TestHTTP.call(app, .POST, "/sandbox/sms/replies", json: ["phone": p.phone, "text": " 退订 "], headers: [:])
            #expect(optOut == .ok && optBody["optedOut"] as? Bool == true)
            let (refused, refusedBody, _) = try await cmTomorrow.call(.POST, path)
            #expect(refused == .conflict)
            #expect((refusedBody["error"] as? [String: Any])?["code"] as? String == "opted_out")
            // A nudge queued before the opt-out is skipped when its turn comes.
            let applicationID = UUID(uuidString: p.applicationID)!
            try await app.db.writeTransaction { tx in
                try await Notifications.enqueue(.nudge, values: ["stoppedAt": "人脸识别", "manager": "林晓"], application: applicationID,
                                                eventKey: "nudge:test", on: tx, services: app.yidai)
            }
            _ = try await Notifications(db: app.db, services: app.yidai).runDue()
            #expect(await outboxTexts(providers, phone: p.phone).filter { $0.contains("拒收请回复退订") }.count == 1)
            #expect(try await Notification.query(on: app.db).filter(\.$eventKey == "nudge:test").first()?.state == "skipped")
        }
    }

    @Test("云接洽: the applicant consents with the first message, the manager replies with call-back times, outsiders get 404")
    func conversation() async throws {
        try await withYidai { app, clock, providers in
            mondayMorning(clock)
            var p = Applicant("P02", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "qr")
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            let staffPath = "/api/v1/staff/applications/\(p.applicationID)/messages"
            #expect(try await cm.call(.POST, staffPath, json: ["text": "您好"]).0 == .conflict)
            let (noConsent, noConsentBody, _) = try await p.call(.POST, p.path("/messages"), json: ["text": "请问需要准备什么材料？"])
            #expect(noConsent == .unprocessableEntity)
            #expect((noConsentBody["error"] as? [String: Any])?["field"] as? String == "consent")
            let (first, firstBody, _) = try await p.call(.POST, p.path("/messages"), json: ["text": "请问需要准备什么材料？", "consent": true])
            #expect(first == .created, "\(firstBody)")
            #expect(firstBody["from"] as? String == "applicant")
            let slot = "2026-07-28T10:00:00+08:00"
            let (reply, replyBody, _) = try await cm.call(.POST, staffPath, json: ["text": "只需身份证和本人银行卡。方便时我给您回电。", "slots": [slot]])
            #expect(reply == .created, "\(replyBody)")
            _ = try await cm.call(.POST, staffPath, json: ["text": "补充一句：全程线上办理。"])
            let (picked, pickedBody, _) = try await p.call(.POST, p.path("/messages"), json: ["pickSlot": slot])
            #expect(picked == .created, "\(pickedBody)")
            #expect(pickedBody["pickedSlot"] as? String == slot)
            let (_, list, _) = try await p.call(.GET, p.path("/messages"))
            let items = list["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["from"] as? String ?? "" } == ["applicant", "manager", "manager", "applicant"])
            #expect((items[1]["slots"] as? [String]) == [slot])
            // Two messages from the manager within the hour: one SMS.
            _ = try await Notifications(db: app.db, services: app.yidai).runDue()
            #expect(await outboxTexts(providers, phone: p.phone).filter { $0.contains("给您留言") }.count == 1)
            // The text is sealed at rest.
            let stored = try await ConversationMessage.query(on: app.db).all()
            #expect(stored.allSatisfy { !$0.textSealed.contains("身份证") })
            // Outsiders: another applicant, a manager of another branch, a reviewer (not in the role table).
            var stranger = Applicant("P01", app: app, clock: clock, providers: providers)
            try await stranger.signIn()
            #expect(try await stranger.call(.GET, p.path("/messages")).0 == .notFound)
            #expect(try await stranger.call(.POST, p.path("/messages"), json: ["text": "hi", "consent": true]).0 == .notFound)
            let wh = try await staff("wh-cm1", app: app, clock: clock)
            #expect(try await wh.call(.GET, staffPath).0 == .notFound)
            let whHead = try await staff("wh-head", app: app, clock: clock)
            #expect(try await whHead.call(.POST, staffPath, json: ["text": "x"]).0 == .notFound)
            let reviewer = try await staff("risk1", app: app, clock: clock)
            #expect(try await reviewer.call(.GET, staffPath).0 == .notFound)
            let szHead = try await staff("sz-head", app: app, clock: clock)
            let (_, headView, _) = try await szHead.call(.GET, staffPath)
            #expect((headView["items"] as? [Any])?.count == 4)
            #expect(try await TestHTTP.call(app, .GET, p.path("/messages"), json: nil, headers: [:]).0 == .unauthorized)
        }
    }
}
