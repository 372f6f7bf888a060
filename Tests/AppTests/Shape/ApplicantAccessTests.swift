import Fluent
import Foundation
import LendingCore
import Providers
import Testing
import Vapor
import VaporTesting

@testable import App

/// Every applicant route goes through the one applicant authenticator (routes.swift): another applicant's id is a
/// 404 exactly like a missing id, and no session is a 401 on the API or the phone page on the pages. The routes are
/// walked from `app.routes.all`, so a route added without the authenticator fails here.
@Suite("Every applicant route rejects another applicant through the one authenticator")
struct ApplicantAccessTests {
    /// The API routes anyone may call; every other /api/v1 route is an applicant's.
    static let publicAPI: Set<String> = [
        "POST /api/v1/sms-codes", "POST /api/v1/sessions", "POST /api/v1/loan-quotes",
        "GET /api/v1/contract-signing/ca.pem", "POST /api/v1/leads",
    ]

    /// The pages anyone may open; every other page is a signed-in applicant's.
    static let publicPages: Set<String> = [
        "GET /", "POST /", "POST /sign-out", "GET /lead", "POST /lead",
        // The user agreement and the privacy notice are read before signing in.
        "GET /terms/user-agreement", "GET /terms/privacy",
    ]

    /// The bank's staff routes have their own authenticator and their own tests (StaffRoleMatrixTests); so has the
    /// privacy centre (a step-up token, never a journey session: PrivacyCentreTests).
    static func isStaff(_ route: Route) -> Bool {
        let path = route.path.map { "\($0)" }
        return path.first == "console" || path.first == "privacy" || (path.count > 2 && path[0] == "api" && (path[2] == "staff" || path[2] == "privacy"))
    }

    static func key(_ route: Route) -> String {
        "\(route.method.rawValue) /" + route.path.map { "\($0)" }.joined(separator: "/")
    }

    /// The route's path with its parameters filled from `values` (nil when one is missing).
    static func path(_ route: Route, _ values: [String: String]) -> String? {
        var parts: [String] = []
        for component in route.path {
            switch component {
            case .constant(let text): parts.append(text)
            case .parameter(let name):
                guard let value = values[name] else { return nil }
                parts.append(value)
            case .anything, .catchall: parts.append("x")
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    struct Answer {
        let status: HTTPStatus
        let body: [String: Any]
        let location: String?
    }

    static func send(
        _ app: Application, _ method: HTTPMethod, _ path: String, bearer: String? = nil, cookie: String? = nil,
        form: Bool = false
    ) async throws -> Answer {
        var answer = Answer(status: .ok, body: [:], location: nil)
        let csrf = String(repeating: "c", count: 43)
        try await app.testing().test(
            method, path,
            beforeRequest: { req in
                if let bearer { req.headers.bearerAuthorization = BearerAuthorization(token: bearer) }
                var cookies = ["yd_csrf=\(csrf)"]
                if let cookie { cookies.append("yd_session=\(cookie)") }
                req.headers.replaceOrAdd(name: .cookie, value: cookies.joined(separator: "; "))
                if form {
                    req.headers.contentType = .urlEncodedForm
                    req.headers.replaceOrAdd(name: .accept, value: "text/html")
                    req.body = ByteBuffer(string: "_csrf=\(csrf)")
                } else {
                    req.headers.contentType = .json
                    req.body = ByteBuffer(string: "{}")
                }
            },
            afterResponse: { res async in
                answer = Answer(
                    status: res.status,
                    body: (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:],
                    location: res.headers.first(name: .location))
            })
        return answer
    }

    /// P01 with a paid-out loan and one repayment; P02 signed in with an application of their own.
    static func twoApplicants(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws
        -> (mine: Applicant, other: Applicant, values: [String: String])
    {
        var mine = Applicant("P01", app: app, clock: clock, providers: providers)
        try await mine.walkToSignedContract(amount: "12000", termMonths: 12)
        #expect(try await PayoutJobs.runDue(app.servicing) == 1)
        let loan = try #require(try await Loan.query(on: app.db).first())
        let (paid, receipt) = try await mine.repay(
            loan.id!.uuidString, key: "access-1",
            [
                "type": "prepayment", "amount": "1000.00", "prepaymentMode": "shorten-term",
            ])
        #expect(paid == .created, "\(receipt)")
        var other = Applicant("P02", app: app, clock: clock, providers: providers)
        try await other.signIn()
        let values = [
            "applicationID": mine.applicationID, "loanID": loan.id!.uuidString,
            "paymentID": receipt["id"] as? String ?? "", "card": mine.card.value,
        ]
        return (mine, other, values)
    }

    static func snapshot(_ app: Application) async throws -> [String] {
        let applications = try await LoanApplication.query(on: app.db).sort(\.$createdAt).all()
            .map { "\($0.id!):\($0.state):\($0.version)" }
        let payments = try await Payment.query(on: app.db).sort(\.$createdAt).all().map { "\($0.id!):\($0.state)" }
        let loans = try await Loan.query(on: app.db).all().map { "\($0.id!):\($0.status):\($0.version)" }
        return applications + payments + loans + ["audit:\(try await AuditEntry.query(on: app.db).count())"]
    }

    @Test(
        "every applicant API route answers another applicant's id with 404 and no session with 401, in the error shape")
    func everyAPIRoute() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let (mine, other, values) = try await Self.twoApplicants(app, clock, providers)
            let routes = app.routes.all.filter { $0.path.first == "api" && !Self.publicAPI.contains(Self.key($0)) && !Self.isStaff($0) }
            let before = try await Self.snapshot(app)

            // MUT
            var walked: [String] = []
            for route in routes {
                let path = try #require(Self.path(route, values), "\(Self.key(route))")
                let key = Self.key(route)
                let anonymous = try await Self.send(app, route.method, path)
                let forged = try await Self.send(app, route.method, path, bearer: "forged-token")
                let stranger = try await Self.send(app, route.method, path, bearer: other.token)

                // validation
                for answer in [anonymous, forged] {
                    #expect(answer.status == .unauthorized, "\(key)")
                    #expect(answer.body.errorCode == "unauthorized", "\(key)")
                    #expect(answer.body[path: "error.message"] is String, "\(key)")
                }
                if route.path.contains(where: { if case .parameter = $0 { true } else { false } }) {
                    #expect(stranger.status == .notFound, "\(key)")
                    #expect(stranger.body.errorCode == "not_found", "\(key)")
                    #expect(stranger.body[path: "error.message"] is String, "\(key)")
                } else {
                    // A list of the caller's own: nothing of mine in it.
                    #expect(stranger.status == .ok, "\(key)")
                    let text = String(describing: stranger.body)
                    #expect(!text.contains(mine.applicationID) && !text.contains(values["loanID"]!), "\(key)")
                }
                walked.append(key)
            }

            // validation: nothing changed, and the walk covered the journey, the contract and the loans
            #expect(try await Self.snapshot(app) == before)
            #expect(walked.count >= 25, "\(walked)")
            for expected in [
                "POST /api/v1/applications/:applicationID/cancel",
                "GET /api/v1/applications/:applicationID/contract.pdf",
                "POST /api/v1/applications/:applicationID/disbursement", "POST /api/v1/loans/:loanID/repayments",
                "GET /api/v1/loans",
            ] {
                #expect(walked.contains(expected), "\(expected)")
            }
        }
    }

    @Test(
        "every signed-in page sends a visitor without a session to the phone page, and answers another phone's loan with 404"
    )
    func everyPage() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let (_, other, values) = try await Self.twoApplicants(app, clock, providers)
            let routes = app.routes.all.filter {
                $0.path.first != "api" && $0.path.first != "sandbox" && $0.path.first != "health"
                    && $0.path.first != "openapi.json" && $0.path.first != "metrics"  // operators' (OperationsEndpointTests)
                    && !Self.publicPages.contains(Self.key($0)) && !Self.isStaff($0)
            }
            let before = try await Self.snapshot(app)

            // MUT
            var walked: [String] = []
            for route in routes {
                let path = try #require(Self.path(route, values), "\(Self.key(route))")
                let key = Self.key(route)
                let form = route.method == .POST
                let anonymous = try await Self.send(app, route.method, path, form: form)
                let forged = try await Self.send(app, route.method, path, cookie: "forged-token", form: form)

                // validation
                for answer in [anonymous, forged] {
                    #expect(answer.status == .seeOther, "\(key)")
                    #expect(answer.location == "/", "\(key)")
                }
                if route.path.contains(where: { if case .parameter = $0 { true } else { false } }) {
                    let stranger = try await Self.send(app, route.method, path, cookie: other.token, form: form)
                    #expect(stranger.status == .notFound, "\(key)")
                }
                walked.append(key)
            }

            // validation
            #expect(try await Self.snapshot(app) == before)
            for expected in [
                "GET /apply/id-card", "POST /apply/face", "GET /loan/contract",
                "GET /loans/:loanID/payments/:paymentID",
            ] {
                #expect(walked.contains(expected), "\(expected)")
            }
        }
    }
}
