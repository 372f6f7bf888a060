import Fluent
import Foundation
import LendingCore
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

/// States stored as strings are decoded once, on the way out of the database: a value this build does not know
/// answers 500 `corrupt_state` naming it, instead of passing for "cancelled", "active" or "pending".
@Suite("An unknown stored state fails loudly")
struct LoudStoredValuesTests {
    static func setColumn(_ app: Application, _ table: String, _ column: String, to value: String, id: UUID)
        async throws
    {
        let sql = try #require(app.db as? any SQLDatabase)
        try await sql.update(table).set(SQLIdentifier(column), to: SQLBind(value))
            .where(SQLIdentifier("id"), .equal, SQLBind(id)).run()
    }

    @Test("an application whose stored state is unknown answers 500 corrupt_state naming it, on the API and the pages")
    func unknownApplicationState() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            try await Self.setColumn(
                app, "applications", "state", to: "teleported", id: UUID(uuidString: p.applicationID)!)

            // MUT
            let (status, body, _) = try await p.call(.GET, p.path())
            let page = try await LoanPagesTests.page(app, .GET, "/apply", token: p.token)

            // validation
            #expect(status == .internalServerError)
            #expect(body.errorCode == "corrupt_state")
            #expect((body[path: "error.message"] as? String ?? "").contains("teleported"))
            #expect(page.status == .internalServerError)
            #expect(page.location == nil)
        }
    }

    @Test("a loan whose stored status is unknown answers 500 corrupt_state instead of showing as active")
    func unknownLoanStatus() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let loan = try #require(try await Loan.query(on: app.db).first())
            try await Self.setColumn(app, "loans", "status", to: "on_holiday", id: loan.id!)

            // MUT
            let (status, body, _) = try await p.call(.GET, "/api/v1/loans/\(loan.id!.uuidString)")

            // validation
            #expect(status == .internalServerError)
            #expect(body.errorCode == "corrupt_state")
            #expect((body[path: "error.message"] as? String ?? "").contains("on_holiday"))
        }
    }

    @Test("a payment whose stored state is unknown answers 500 corrupt_state when it is read")
    func unknownPaymentState() async throws {
        try await withYidai { app, clock, providers in
            // setup: a repayment whose row says something no build wrote
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let loan = try #require(try await Loan.query(on: app.db).first())
            let (paid, body) = try await p.repay(
                loan.id!.uuidString, key: "k1",
                [
                    "type": "prepayment", "amount": "1000.00", "prepaymentMode": "shorten-term",
                ])
            #expect(paid == .created, "\(body)")
            let payment = try #require(UUID(uuidString: body["id"] as? String ?? ""))
            try await Self.setColumn(app, "payments", "state", to: "maybe", id: payment)

            // MUT: the loan page lists the loan's payments
            var status = HTTPStatus.ok
            var text = ""
            try await app.testing().test(
                .GET, "/loans/\(loan.id!.uuidString)",
                beforeRequest: { req in
                    req.headers.replaceOrAdd(name: .cookie, value: "yd_session=\(p.token)")
                    req.headers.replaceOrAdd(name: .accept, value: "application/json")
                },
                afterResponse: { res async in
                    status = res.status
                    text = res.body.string
                })

            // validation
            #expect(status == .internalServerError)
            #expect(text.contains("corrupt_state") && text.contains("maybe"))
        }
    }
}
