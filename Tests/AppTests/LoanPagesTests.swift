import Fluent
import Foundation
import LendingCore
import Testing
import Vapor
import VaporTesting

@testable import App

private typealias H = ServicingHarness

/// The "我的贷款" pages as a browser without JavaScript uses them: the session cookie, the CSRF field, form posts.
@Suite("我的贷款 pages: list, schedule, repayments with an idempotency key, prepayment plan before paying")
struct LoanPagesTests {
    static let csrf = String(repeating: "a", count: 43)

    struct Page {
        let status: HTTPStatus
        let html: String
        let location: String?
    }

    /// A page request with the applicant's session cookie (the API token is the same session) and the CSRF cookie.
    static func page(
        _ app: Application, _ method: HTTPMethod, _ path: String, token: String, form: [String: String]? = nil
    )
        async throws -> Page
    {
        var result = Page(status: .ok, html: "", location: nil)
        try await app.testing().test(
            method, path,
            beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: "yd_session=\(token); yd_csrf=\(csrf)")
                req.headers.replaceOrAdd(name: .accept, value: "text/html")
                if var form {
                    form["_csrf"] = csrf
                    let body = form.map {
                        "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                    }
                    .joined(separator: "&")
                    req.headers.contentType = .urlEncodedForm
                    req.body = ByteBuffer(string: body)
                }
            },
            afterResponse: { res async in
                result = Page(
                    status: res.status, html: String(buffer: res.body), location: res.headers.first(name: .location))
            })
        return result
    }

    static func loanID(_ html: String) -> String? {
        guard let range = html.range(of: #"/loans/[0-9a-f-]{36}"#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst("/loans/".count))
    }

    static func key(_ html: String, after marker: String) -> String? {
        guard let start = html.range(of: marker) else { return nil }
        let tail = html[start.upperBound...]
        guard let k = tail.range(of: #"name="idempotencyKey" value="[A-Za-z0-9_-]{43}""#, options: .regularExpression)
        else { return nil }
        return String(tail[k].dropLast().suffix(43))
    }

    @Test("after signing, 我的贷款 shows 放款中 without paying anything; once the payout job ran it lists the loan; overdue, due and paid rows look different")
    func listAndSchedule() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)

            // Viewing the list moves no money: it says the payout is on its way.
            let waiting = try await Self.page(app, .GET, "/loans", token: p.token)
            #expect(waiting.status == .ok)
            #expect(waiting.html.contains("放款中"))
            #expect(try await Loan.query(on: app.db).count() == 0)
            #expect(try await H.cardBalance(app, p.card) == 0)

            // MUT: the server's worker runs the payout queued by the signature; then the list (twice)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            #expect(try await PayoutJobs.runDue(app.servicing) == 0)
            let first = try await Self.page(app, .GET, "/loans", token: p.token)
            let again = try await Self.page(app, .GET, "/loans", token: p.token)

            // validation
            #expect(first.status == .ok)
            #expect(first.html.contains("还款中") && first.html.contains("已放款") && first.html.contains("12,000.00元"))
            #expect(again.status == .ok)
            #expect(try await Loan.query(on: app.db).count() == 1)
            #expect(try await H.cardBalance(app, p.card) == 1_200_000)
            let loanID = try #require(Self.loanID(first.html))

            // An empty card on the first due date: installment 1 is due, then overdue three days later.
            try await H.setCard(app, p.card, balance: 0)
            try await H.endOfDay(app, through: "2026-08-25")
            let due = try await Self.page(app, .GET, "/loans/\(loanID)", token: p.token)
            #expect(due.html.contains(#"class="row-due row-next" data-status="due""#))
            #expect(due.html.contains("今日应还"))
            try await H.endOfDay(app, through: "2026-08-28")
            let overdue = try await Self.page(app, .GET, "/loans/\(loanID)", token: p.token)
            #expect(overdue.html.contains(#"class="row-overdue row-next" data-status="overdue""#))
            #expect(overdue.html.contains("已逾期") && overdue.html.contains("含罚息"))
            #expect(overdue.html.contains(#"data-status="scheduled""#))

            // Paying the amount due (form sent twice with its one key): one payment, the row is paid.
            try await H.setCard(app, p.card, balance: 500_000)
            let repay = try await Self.page(app, .GET, "/loans/\(loanID)/repay", token: p.token)
            let key = try #require(Self.key(repay.html, after: #"name="type" value="due""#))
            let form = ["type": "due", "idempotencyKey": key]
            let paid = try await Self.page(app, .POST, "/loans/\(loanID)/repayments", token: p.token, form: form)
            let twice = try await Self.page(app, .POST, "/loans/\(loanID)/repayments", token: p.token, form: form)
            #expect(paid.status == .seeOther)
            #expect(paid.location != nil && paid.location == twice.location)
            #expect(try await Payment.query(on: app.db).filter(\.$kind == "repayment").count() == 1)
            let receipt = try await Self.page(app, .GET, try #require(paid.location), token: p.token)
            #expect(receipt.html.contains("还款成功"))
            let after = try await Self.page(app, .GET, "/loans/\(loanID)", token: p.token)
            #expect(after.html.contains(#"class="row-paid" data-status="paid""#))
            #expect(after.html.contains("还款中"))
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test(
        "a prepayment shows the new plan first and pays nothing until confirmed; a wrong amount is named next to the field"
    )
    func prepaymentPlanBeforePaying() async throws {
        try await withYidai { app, clock, providers in
            // setup
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let list = try await Self.page(app, .GET, "/loans", token: p.token)
            let loanID = try #require(Self.loanID(list.html))

            // MUT
            let wrong = try await Self.page(
                app, .POST, "/loans/\(loanID)/prepay", token: p.token,
                form: ["amount": "12.345", "prepaymentMode": "shorten-term"])
            let quote = try await Self.page(
                app, .POST, "/loans/\(loanID)/prepay", token: p.token,
                form: ["amount": "3,000", "prepaymentMode": "lower-installment"])

            // validation
            #expect(wrong.status == .unprocessableEntity)
            #expect(wrong.html.contains(#"id="amount-error""#))
            #expect(quote.status == .ok)
            #expect(quote.html.contains("新的还款计划（减少月供）"))
            #expect(quote.html.contains(#"name="amount" value="3000""#))
            #expect(quote.html.components(separatedBy: "<tr>").count - 1 == 12 + 1)  // header + 12 installments
            #expect(try await Payment.query(on: app.db).filter(\.$kind == "repayment").count() == 0)

            let key = try #require(Self.key(quote.html, after: #"name="type" value="prepayment""#))
            let paid = try await Self.page(
                app, .POST, "/loans/\(loanID)/repayments", token: p.token,
                form: [
                    "type": "prepayment", "amount": "3000", "prepaymentMode": "lower-installment",
                    "idempotencyKey": key,
                ])
            #expect(paid.status == .seeOther)
            let loan = try await p.loan(loanID)
            #expect(H.fen(loan[path: "balances.outstandingPrincipal"]) == 900_000)
            try await H.expectTrialBalanceZero(app)
        }
    }

    @Test(
        "another phone's loan answers like a loan that does not exist, and without a session the pages send you to sign in"
    )
    func ownership() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let list = try await Self.page(app, .GET, "/loans", token: p.token)
            let loanID = try #require(Self.loanID(list.html))
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            try await other.signIn()

            let foreign = try await Self.page(app, .GET, "/loans/\(loanID)", token: other.token)
            let missing = try await Self.page(app, .GET, "/loans/\(UUID().uuidString.lowercased())", token: other.token)
            let anonymous = try await Self.page(app, .GET, "/loans/\(loanID)", token: "")

            #expect(foreign.status == .notFound)
            #expect(missing.status == .notFound)
            #expect(foreign.html == missing.html)
            #expect(anonymous.status == .seeOther && anonymous.location == "/")
        }
    }
}
