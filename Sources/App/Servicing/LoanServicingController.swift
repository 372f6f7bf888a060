import Fluent
import LendingCore
import Vapor

/// "我的贷款" as a JSON API under /api/v1: disbursement, loans, quotes and repayments.
/// A loan answers only to a session of the phone that applied for it; any other id is 404.
struct LoanServicingController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.post("applications", ":applicationID", "disbursement", use: disburse)
        let loans = routes.grouped("loans")
        loans.get(use: list)
        let loan = loans.grouped(":loanID")
        loan.get(use: show)
        loan.get("payoff-quote", use: payoffQuote)
        loan.post("prepayment-quote", use: prepaymentQuote)
        loan.post("repayments", use: repay)
    }

    func disburse(_ req: Request) async throws -> Response {
        let application = try await req.ownedApplication()
        let servicing = req.servicing
        let outcome = try await servicing.disbursement.disburse(applicationID: try application.requireID())
        guard let loan = outcome.loan else {
            if outcome.payment.state == PaymentState.failed {
                throw APIError(.badGateway, code: "payout_failed", message: "The payout to your card failed (\(outcome.payment.failureCode ?? "refused")); try again.",
                               messageZh: "放款至您的银行卡失败，请稍后重试。")
            }
            throw APIError(.serviceUnavailable, code: "payout_pending", message: "The payout is being confirmed by the payments provider; repeat this request to finish it.",
                           messageZh: "放款处理中，请稍后刷新。")
        }
        return try await servicing.loans.detail(loan).encodeResponse(status: outcome.status, for: req)
    }

    func list(_ req: Request) async throws -> LoansListView {
        try await req.servicing.loans.list(phoneIndex: try req.applicant.phoneIndex)
    }

    func show(_ req: Request) async throws -> LoanDetailView {
        let servicing = req.servicing
        return try await servicing.loans.detail(try await req.ownedLoan(servicing))
    }

    func payoffQuote(_ req: Request) async throws -> PayoffQuoteView {
        let servicing = req.servicing
        return try await servicing.loans.payoffQuote(try await req.ownedLoan(servicing))
    }

    func prepaymentQuote(_ req: Request) async throws -> PrepaymentQuoteView {
        let servicing = req.servicing
        let loan = try await req.ownedLoan(servicing)
        let body = try req.content.decode(PrepaymentQuoteRequest.self)
        return try await servicing.loans.prepaymentQuote(loan, body)
    }

    func repay(_ req: Request) async throws -> Response {
        let servicing = req.servicing
        let loan = try await req.ownedLoan(servicing)
        let body = try req.content.decode(RepaymentRequest.self)
        let answer = try await servicing.repayments.repay(loanID: try loan.requireID(), body, idempotencyKey: req.headers.first(name: "Idempotency-Key"))
        return try await answer.response(for: req)
    }
}
