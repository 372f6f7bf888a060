import Foundation
import LendingCore

/// The one place a loan's terms are built from an application: the quote on the loan page, the contract the
/// borrower signs and the loan the bank books all come from here, on the business date (never the wall clock).
/// A missing or unreadable field is an error naming it, never a default.
enum LoanTermsBuilder {
    /// What the borrower asked for and was offered, without a start date yet.
    struct Requested: Sendable, Equatable {
        let principal: Decimal
        let principalFen: Int64
        let annualRatePercent: Decimal
        let termMonths: Int
        let method: RepaymentMethod

        func terms(startDate: CivilDate) -> LoanTerms {
            LoanTerms(principal: principal, annualRatePercent: annualRatePercent, termMonths: termMonths, method: method, startDate: startDate)
        }
    }

    /// The requested loan of `application` (amount, term and method requested, rate approved).
    static func requestedLoan(_ application: LoanApplication) throws -> Requested {
        guard let amountText = application.loanAmount else { throw missing("loanAmount") }
        guard let principal = Money.parse(amountText), let fen = Money.fen(exactly: principal), fen > 0 else { throw unreadable("loanAmount", amountText) }
        guard let rateText = application.annualRate else { throw missing("annualRate") }
        guard let rate = Money.parse(rateText), rate >= 0 else { throw unreadable("annualRate", rateText) }
        guard let term = application.loanTermMonths else { throw missing("loanTermMonths") }
        guard term > 0 else { throw unreadable("loanTermMonths", String(term)) }
        guard let methodText = application.loanMethod else { throw missing("loanMethod") }
        guard let method = RepaymentMethod(rawValue: methodText) else { throw unreadable("loanMethod", methodText) }
        return Requested(principal: principal, principalFen: fen, annualRatePercent: rate, termMonths: term, method: method)
    }

    /// What the applicant chose on the loan page (already checked against the limit), at the approved rate.
    static func offered(_ offer: LoanOffer, annualRatePercent: Decimal) throws -> Requested {
        guard let fen = Money.fen(exactly: offer.amount), fen > 0 else { throw unreadable("amount", Money.string(offer.amount)) }
        return Requested(principal: offer.amount, principalFen: fen, annualRatePercent: annualRatePercent, termMonths: offer.termMonths, method: offer.method)
    }

    /// The repayment plan of `requested` for a loan paid out on `startDate`.
    static func schedule(_ requested: Requested, startDate: CivilDate) throws -> RepaymentSchedule {
        try withFieldErrors(status: .conflict) { try LoanCalculator.schedule(for: requested.terms(startDate: startDate)) }
    }

    static func missing(_ field: String) -> APIError {
        APIError(
            .conflict, code: "loan_terms_incomplete",
            message: "The application has no \(field), so the loan's terms cannot be built.",
            messageZh: "申请缺少借款要素，无法生成借款条款。", field: field)
    }

    static func unreadable(_ field: String, _ value: String) -> APIError {
        APIError(
            .internalServerError, code: "loan_terms_corrupt",
            message: "The application's stored \(field) is not valid (\(value.prefix(20))).",
            messageZh: "申请的借款要素有误，请联系客户经理。", field: field)
    }
}
