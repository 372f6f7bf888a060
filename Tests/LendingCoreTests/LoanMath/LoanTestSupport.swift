import Foundation

@testable import LendingCore

/// Shorthands for the loan mathematics tests: exact decimals from strings, dates from ISO text.
enum LoanFixture {
    static func d(_ text: String) -> Decimal { Money.parse(text)! }
    static func day(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }

    static func terms(
        _ principal: String, rate: String, months: Int, _ method: RepaymentMethod, start: String = "2026-01-15",
        rounding: String = "0.01", fee: String = "0"
    ) -> LoanTerms {
        LoanTerms(
            principal: d(principal), annualRatePercent: d(rate), termMonths: months, method: method,
            startDate: day(start), installmentRounding: d(rounding), upfrontFee: d(fee))
    }

    static func schedule(
        _ principal: String, rate: String, months: Int, _ method: RepaymentMethod, start: String = "2026-01-15",
        rounding: String = "0.01", fee: String = "0"
    ) throws -> RepaymentSchedule {
        try LoanCalculator.schedule(
            for: terms(principal, rate: rate, months: months, method, start: start, rounding: rounding, fee: fee))
    }
}

extension ScheduledInstallment {
    /// principal / interest / payment / remaining as two-decimal strings, for compact expectations.
    var amounts: [String] { [principal, interest, payment, remainingPrincipal].map(Money.string) }
}
