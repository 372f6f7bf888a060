import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor

@testable import App

@Suite("Leads from the public account: verified, assigned, followed up")
struct LeadTests {
    @Test("a lead that came through a manager's code is that manager's, and the same phone within 30 days updates it")
    func attributionAndDedup() async throws {
        try await withYidai { app, clock, providers in
            let (status, first) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900001111", cm: "WH-0002", campaign: "spring")
            #expect(status == .created, "\(first)")
            #expect(first["status"] as? String == "new")
            let (again, second) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900001111", name: "陈晓明", city: "武汉")
            #expect(again == .created)
            #expect(second["id"] as? String == first["id"] as? String)
            #expect(second["updated"] as? Bool == true)
            #expect(try await Lead.query(on: app.db).count() == 1)
            let lead = try #require(try await Lead.query(on: app.db).first())
            #expect(lead.managerCode == "WH-0002" && lead.branchCode == "WH-WC" && lead.campaign == "spring")
            let cm = try await staff("wh-cm2", app: app, clock: clock)
            let (_, list, _) = try await cm.call(.GET, "/api/v1/staff/leads?status=new")
            let items = list["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(items.first?["phone"] as? String == "139****1111")
            #expect(items.first?["name"] as? String == "陈*明")
            #expect(items.first?["manager"] as? String == "WH-0002")
            #expect(items.first?["overdue"] as? Bool == false)
            let other = try await staff("wh-cm1", app: app, clock: clock)
            let (_, none, _) = try await other.call(.GET, "/api/v1/staff/leads")
            #expect((none["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("without a manager's code, leads go round-robin among the managers of the city's branch; elsewhere to head office")
    func assignment() async throws {
        try await withYidai { app, clock, providers in
            var managers: [String?] = []
            for phone in ["13900002221", "13900002222", "13900002223"] {
                let (status, body) = try await leaveLead(app: app, clock: clock, providers: providers, phone: phone, city: "深圳")
                #expect(status == .created, "\(body)")
                managers.append(try await Lead.find(UUID(uuidString: body["id"] as? String ?? ""), on: app.db)?.managerCode)
            }
            #expect(managers == ["SZ-0001", "SZ-0002", "SZ-0001"])
            let (_, far) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900002224", city: LeadBook.otherCity)
            let lead = try #require(try await Lead.find(UUID(uuidString: far["id"] as? String ?? ""), on: app.db))
            #expect(lead.managerCode == nil && lead.branchCode == "HO")
            // The head office's queue is worked at head office; a branch head sees only their branch's leads.
            let hq = try await staff("ho-retail", app: app, clock: clock)
            let (_, all, _) = try await hq.call(.GET, "/api/v1/staff/leads")
            #expect((all["items"] as? [Any])?.count == 4)
            let sz = try await staff("sz-head", app: app, clock: clock)
            let (_, branch, _) = try await sz.call(.GET, "/api/v1/staff/leads")
            #expect((branch["items"] as? [Any])?.count == 3)
        }
    }

    @Test("a lead needs the phone's code, a known city and the consent to be contacted, each named when missing")
    func badInput() async throws {
        try await withYidai { app, clock, providers in
            let (noConsent, body) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900003331", consent: false)
            #expect(noConsent == .unprocessableEntity)
            #expect((body["error"] as? [String: Any])?["field"] as? String == "consent", "\(body)")
            let (badCity, cityBody) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900003332", city: "火星")
            #expect(badCity == .unprocessableEntity)
            #expect((cityBody["error"] as? [String: Any])?["field"] as? String == "city")
            let (wrong, _, _) = try await TestHTTP.call(app, .POST, "/api/v1/leads", json: [
                "name": "陈晓明", "phone": "13900003333", "smsCode": "123456", "city": "深圳", "consent": true,
            ], headers: [:])
            #expect(wrong.code >= 400 && wrong.code < 500)
            #expect(try await Lead.query(on: app.db).count() == 0)
            let (purpose, purposeBody, _) = try await TestHTTP.call(app, .POST, "/api/v1/sms-codes", json: ["phone": "13900003334", "purpose": "bogus"], headers: [:])
            #expect(purpose == .unprocessableEntity)
            #expect((purposeBody["error"] as? [String: Any])?["field"] as? String == "purpose")
        }
    }

    @Test("follow-up moves a lead with a note; the phone's application makes it applying and its payout converted")
    func followUpAndLink() async throws {
        try await withYidai { app, clock, providers in
            mondayMorning(clock)
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let (_, created) = try await leaveLead(app: app, clock: clock, providers: providers, phone: p.phone, cm: "SZ-0001")
            let id = try #require(created["id"] as? String)
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            let (noNote, noteBody, _) = try await cm.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "contacted"])
            #expect(noNote == .unprocessableEntity)
            #expect((noteBody["error"] as? [String: Any])?["field"] as? String == "note")
            let (jump, _, _) = try await cm.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "converted", "note": "直接放款"])
            #expect(jump == .conflict)
            let (ok, moved, _) = try await cm.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "contacted", "note": "电话已联系，客户有意向"])
            #expect(ok == .ok, "\(moved)")
            #expect(moved["status"] as? String == "contacted")
            // A manager of another branch cannot see or touch it.
            let wh = try await staff("wh-cm1", app: app, clock: clock)
            #expect(try await wh.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "lost", "note": "x"]).0 == .notFound)
            try await p.walkToSignedContract()
            var lead = try #require(try await Lead.find(UUID(uuidString: id), on: app.db))
            #expect(lead.status == "applying" && lead.applicationID?.uuidString == p.applicationID)
            #expect(try await p.disburse().0 == .created)
            lead = try #require(try await Lead.find(UUID(uuidString: id), on: app.db))
            #expect(lead.status == "converted")
            let events = try await LeadEvent.query(on: app.db).filter(\.$leadID == lead.id!).count()
            #expect(events == 4)
        }
    }

    @Test("a new lead not contacted within 2 working hours is marked overdue on the list")
    func serviceLevel() async throws {
        try await withYidai { app, clock, providers in
            mondayMorning(clock)  // Monday 10:01: two working hours later is 13:31 (12:00–13:30 is lunch)
            let (_, created) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900004441", cm: "SZ-0002")
            let cm = try await staff("sz-cm2", app: app, clock: clock)
            let (_, before, _) = try await cm.call(.GET, "/api/v1/staff/leads")
            #expect((before["items"] as? [[String: Any]])?.first?["overdue"] as? Bool == false)
            clock.advance(3 * 3600)  // 13:02: not yet
            let early = try await staff("sz-cm2", app: app, clock: clock)
            let (_, lunch, _) = try await early.call(.GET, "/api/v1/staff/leads")
            #expect((lunch["items"] as? [[String: Any]])?.first?["overdue"] as? Bool == false)
            clock.advance(3600)  // 14:03: overdue
            let later = try await staff("sz-cm2", app: app, clock: clock)  // a workbench session ends after 30 idle minutes
            let (_, after, _) = try await later.call(.GET, "/api/v1/staff/leads")
            #expect((after["items"] as? [[String: Any]])?.first?["overdue"] as? Bool == true)
            let (ok, _, _) = try await later.call(.PATCH, "/api/v1/staff/leads/\(created["id"] as? String ?? "")", json: ["status": "contacted", "note": "已回电"])
            #expect(ok == .ok)
            let (_, done, _) = try await later.call(.GET, "/api/v1/staff/leads")
            #expect((done["items"] as? [[String: Any]])?.first?["overdue"] as? Bool == false)
        }
    }

    @Test("working hours skip lunch, evenings and weekends")
    func workingHours() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        let friday1700 = calendar.date(from: DateComponents(year: 2026, month: 12, day: 4, hour: 17))!
        let due = WorkingHours.adding(hours: 2, to: friday1700)
        #expect(due == calendar.date(from: DateComponents(year: 2026, month: 12, day: 7, hour: 10)))
        let monday1100 = calendar.date(from: DateComponents(year: 2026, month: 12, day: 7, hour: 11))!
        #expect(WorkingHours.adding(hours: 2, to: monday1100) == calendar.date(from: DateComponents(year: 2026, month: 12, day: 7, hour: 14, minute: 30)))
    }

    @Test("a branch head reassigns a lead within the branch, never outside it; two changes at once: one wins")
    func reassignAndRace() async throws {
        try await withYidai { app, clock, providers in
            let (_, created) = try await leaveLead(app: app, clock: clock, providers: providers, phone: "13900005551", cm: "SZ-0001")
            let id = created["id"] as? String ?? ""
            let head = try await staff("sz-head", app: app, clock: clock)
            let (outside, _, _) = try await head.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["manager": "WH-0001", "note": "转武汉"])
            #expect(outside == .unprocessableEntity)
            let (ok, moved, _) = try await head.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["manager": "SZ-0002", "note": "转给郑楠跟进"])
            #expect(ok == .ok)
            #expect(moved["manager"] as? String == "SZ-0002")
            let cm = try await staff("sz-cm1", app: app, clock: clock)
            #expect(try await cm.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["manager": "SZ-0001", "note": "拿回来"]).0 == .notFound)
            let cm2 = try await staff("sz-cm2", app: app, clock: clock)
            async let a = cm2.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "contacted", "note": "A"])
            async let b = cm2.call(.PATCH, "/api/v1/staff/leads/\(id)", json: ["status": "lost", "note": "B"])
            let statuses = [try await a.0, try await b.0]
            #expect(statuses.filter { $0 == .ok }.count >= 1)
            let lead = try #require(try await Lead.find(UUID(uuidString: id), on: app.db))
            let events = try await LeadEvent.query(on: app.db).filter(\.$leadID == lead.id!).count()
            // created + reassigned + one event per change that won
            #expect(events == 2 + statuses.filter { $0 == .ok }.count)
        }
    }
}
