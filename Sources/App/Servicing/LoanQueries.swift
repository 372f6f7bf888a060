import Fluent
import Foundation
import LendingCore
import Vapor

/// Read side of "我的贷款": an applicant's applications and loans (by phone blind index), one loan in full, quotes.
struct LoanQueries {
    let context: ServicingContext
    var db: Database { context.db }

    /// The loan if it belongs to the phone, else 404 (exactly like a loan that does not exist).
    func ownedLoan(_ loanID: UUID, phoneIndex: String) async throws -> Loan {
        guard let loan = try await Loan.find(loanID, on: db), loan.phoneIndex == phoneIndex else { throw APIError.notFound("loan") }
        return loan
    }

    func positions(_ loan: Loan) async throws -> [InstallmentPosition] {
        let rows = try await LoanInstallment.query(on: db).filter(\.$loanID == loan.requireID()).sort(\.$number).all()
        return try rows.map { try $0.position }
    }

    func list(phoneIndex: String) async throws -> LoansListView {
        let date = try await context.businessDates.current()
        let applications = try await LoanApplication.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$createdAt, .descending).all()
        let loans = try await Loan.query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$disbursedAt, .descending).all()
        var loanViews: [LoanSummaryView] = []
        for loan in loans {
            let rows = try await positions(loan)
            loanViews.append(try LoanPresenter.summary(loan, positions: rows, on: date))
        }
        let appViews = try applications.map { application in
            ApplicationSummaryView(
                id: application.id!, state: application.state, stateZh: try application.applicationState.titleZh,
                loanAmount: application.loanAmount,
                termMonths: application.loanTermMonths, loanId: loans.first { $0.applicationID == application.id }?.id)
        }
        return LoansListView(businessDate: date.iso, applications: appViews, loans: loanViews)
    }

    func detail(_ loan: Loan) async throws -> LoanDetailView {
        let rows = try await positions(loan)
        return try LoanPresenter.detail(loan, positions: rows, on: try await context.businessDates.current())
    }

    func payoffQuote(_ loan: Loan) async throws -> PayoffQuoteView {
        guard try !loan.loanStatus.isClosed else {
            throw APIError(.conflict, code: "loan_closed", message: "This loan is \(loan.status); nothing is owed.", messageZh: "该贷款已结清。")
        }
        let date = try await context.businessDates.current()
        let positions = try await self.positions(loan)
        let payoff = try withFieldErrors(status: .conflict) {
            try ServicingQuotes.payoff(contract: loan.contractTerms, installments: positions, on: date)
        }
        return PayoffQuoteView(
            loanId: loan.id!, validOn: date.iso, amount: Money.string(fen: payoff.totalFen), principal: Money.string(fen: payoff.principalFen),
            interest: Money.string(fen: payoff.interestFen), penaltyInterest: Money.string(fen: payoff.duePenaltyFen),
            accruedInterest: Money.string(fen: payoff.accruedInterestFen), accruedDays: payoff.engineQuote?.accruedDays ?? 0,
            interestSaved: Money.string(fen: payoff.engineQuote?.interestSavedFen ?? 0))
    }

    func prepaymentQuote(_ loan: Loan, _ body: PrepaymentQuoteRequest) async throws -> PrepaymentQuoteView {
        guard try !loan.loanStatus.isClosed else {
            throw APIError(.conflict, code: "loan_closed", message: "This loan is \(loan.status); nothing is owed.", messageZh: "该贷款已结清。")
        }
        let instruction = RepaymentService.Instruction(
            type: .prepayment, amountFen: try RepaymentService.amount(body.amount, required: true), mode: try RepaymentService.mode(body.prepaymentMode))
        let date = try await context.businessDates.current()
        let positions = try await self.positions(loan)
        let quote = try RepaymentService.prepaymentQuote(instruction, loan: loan, positions: positions, on: date)
        let before = positions.filter { !$0.hasFallenDue(on: date) }
        return PrepaymentQuoteView(
            loanId: loan.id!, validOn: date.iso, prepaymentMode: quote.option?.rawValue ?? "payoff", amount: Money.string(fen: quote.amountDueFen),
            principalPrepaid: Money.string(fen: quote.principalPrepaidFen), accruedInterest: Money.string(fen: quote.accruedInterestFen),
            accruedDays: quote.accruedDays, interestSaved: Money.string(fen: quote.interestSavedFen), installmentsLeftBefore: before.count,
            installmentsLeftAfter: quote.remainingInstallments.count, nextPaymentBefore: before.first.map { Money.string(fen: $0.principalFen + $0.interestFen) },
            nextPaymentAfter: quote.remainingInstallments.first.map { Money.string(fen: $0.paymentFen) },
            newPlan: LoanPresenter.planned(quote.remainingInstallments))
    }
}
