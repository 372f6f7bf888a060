import Fluent
import Foundation
import LendingCore
import Testing
import Vapor

@testable import App

/// Every role × every staff route × an application in or out of the member's scope. Out of scope or out of role
/// answers 404, exactly like an id that does not exist; in scope the request reaches the route (here it is then
/// refused for its empty body, so nothing changes).
@Suite("The role table, route by route")
struct StaffRoleMatrixTests {
    enum Route: String, CaseIterable {
        case list, detail, review, confirm, reveal, members
    }

    /// P11 came through SZ-0001's code (branch SZ-NS, under SZ). true: reaches the route; false: 404.
    static let expected: [String: [Route: Bool]] = [
        "sz-cm1": [.list: true, .detail: true, .review: false, .confirm: false, .reveal: true, .members: false],
        "sz-cm2": [.list: true, .detail: false, .review: false, .confirm: false, .reveal: false, .members: false],
        "sz-head": [.list: true, .detail: true, .review: false, .confirm: false, .reveal: true, .members: false],
        "wh-cm1": [.list: true, .detail: false, .review: false, .confirm: false, .reveal: false, .members: false],
        "wh-head": [.list: true, .detail: false, .review: false, .confirm: false, .reveal: false, .members: false],
        "risk1": [.list: true, .detail: true, .review: true, .confirm: true, .reveal: false, .members: false],
        "admin": [.list: false, .detail: false, .review: false, .confirm: false, .reveal: false, .members: true],
        "auditor": [.list: true, .detail: true, .review: false, .confirm: false, .reveal: false, .members: false],
    ]

    /// How many applications each role's queue holds (P11 only exists).
    static let visibleInQueue: [String: Int] = ["sz-cm1": 1, "sz-cm2": 0, "sz-head": 1, "wh-cm1": 0, "wh-head": 0, "risk1": 1, "auditor": 1]

    static func probe(_ route: Route, _ user: StaffUser, _ id: String) async throws -> (HTTPStatus, [String: Any]) {
        let (status, body, _): (HTTPStatus, [String: Any], HTTPHeaders) =
            switch route {
            case .list: try await user.call(.GET, "/api/v1/staff/applications")
            case .detail: try await user.call(.GET, StaffUser.application(id))
            case .review: try await user.call(.POST, StaffUser.application(id) + "/review", json: [:])
            case .confirm: try await user.call(.POST, StaffUser.application(id) + "/review/confirmation", json: [:])
            case .reveal: try await user.call(.POST, StaffUser.application(id) + "/reveal", json: [:])
            case .members: try await user.call(.PUT, "/api/v1/staff/members/risk2", json: [:])
            }
        return (status, body)
    }

    @Test("each role reaches exactly the routes and applications the table gives it", arguments: Array(expected.keys).sorted())
    func roleRow(login: String) async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(app: app, clock: clock, providers: providers)
            var user = StaffUser(login, app: app, clock: clock)
            try await user.signIn()
            let before = try await AuditEntry.query(on: app.db).count()
            for route in Route.allCases {
                let (status, body) = try await Self.probe(route, user, p.applicationID)
                if Self.expected[login]![route]! {
                    #expect(status != .notFound && status.code < 500, "\(login) \(route): \(status) \(body)")
                } else {
                    #expect(status == .notFound, "\(login) \(route): \(status) \(body)")
                    #expect(body.errorCode == "not_found", "\(login) \(route)")
                }
            }
            // An id that does not exist answers the same as one out of scope.
            let (missing, missingBody) = try await Self.probe(.detail, user, UUID().uuidString)
            #expect(missing == .notFound && missingBody.errorCode == "not_found")
            if let count = Self.visibleInQueue[login] {
                let (_, queue, _) = try await user.call(.GET, "/api/v1/staff/applications")
                #expect(queue["total"] as? Int == count, "\(login)")
            }
            // Probing changed nothing but sign-in entries.
            let after = try await AuditEntry.query(on: app.db).filter(\.$action != "staff.signed_in").count()
            #expect(after <= before)
            #expect(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db)?.state == "referred")
        }
    }

    @Test("without a session every staff route answers 401")
    func anonymous() async throws {
        try await withYidai { app, clock, _ in
            let nobody = StaffUser("nobody", app: app, clock: clock)
            for route in Route.allCases {
                let (status, body) = try await Self.probe(route, nobody, UUID().uuidString)
                #expect(status == .unauthorized, "\(route)")
                #expect(body.errorCode == "unauthorized")
            }
        }
    }

    @Test("the branch head reassigned nothing and sees only the branch: a WH referral is not in the SZ head's queue")
    func otherBranch() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Applicant.referred(cm: "WH-0001", app: app, clock: clock, providers: providers)
            var szHead = StaffUser("sz-head", app: app, clock: clock)
            try await szHead.signIn()
            #expect(try await szHead.call(.GET, StaffUser.application(p.applicationID)).0 == .notFound)
            var whHead = StaffUser("wh-head", app: app, clock: clock)
            try await whHead.signIn()
            #expect(try await whHead.call(.GET, StaffUser.application(p.applicationID)).0 == .ok)
            let (_, filtered, _) = try await whHead.call(.GET, "/api/v1/staff/applications?branch=WH-JH")
            #expect(filtered["total"] as? Int == 1)
            let (bad, badBody, _) = try await whHead.call(.GET, "/api/v1/staff/applications?state=nonsense")
            #expect(bad == .unprocessableEntity && badBody.errorField == "state")
        }
    }
}
