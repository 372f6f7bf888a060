import Foundation
import Testing

@testable import LendingCore

@Suite("Paying a loan early")
struct PrepaymentTests {
    typealias F = LoanFixture

    /// 120,000.00 at 12% over 12 months, equal principal: 10,000.00 a month, interest 1% of what is left.
    static func equalPrincipalLoan() throws -> RepaymentSchedule {
        try F.schedule("120000.00", rate: "12", months: 12, .equalPrincipal, start: "2026-01-15")
    }

    @Test("paying off on the due date of the last paid installment costs exactly the outstanding principal")
    func payoffOnDueDate() throws {
        let loan = try Self.equalPrincipalLoan()
        let quote = try loan.payoff(on: F.day("2026-04-15"), installmentsPaid: 3)
        #expect(Money.string(quote.amountDue) == "90000.00")
        #expect(quote.accruedInterestFen == 0)
        #expect(quote.remainingInstallments.isEmpty)
        #expect(quote.isPayoff)
        // Installments 4…12 would have charged 900 + 800 + … + 100 = 4500.00 of interest.
        #expect(Money.string(quote.interestSaved) == "4500.00")
    }

    @Test("paying off between due dates adds interest for the actual days at actual/360")
    func payoffBetweenDueDates() throws {
        let loan = try Self.equalPrincipalLoan()
        let quote = try loan.payoff(on: F.day("2026-05-05"), installmentsPaid: 3)
        #expect(quote.accruedDays == 20)
        #expect(Money.string(quote.accruedInterest) == "600.00")  // 90,000 × 12% × 20 / 360
        #expect(Money.string(quote.amountDue) == "90600.00")
        #expect(Money.string(quote.interestSaved) == "3900.00")
        // Before the first due date, interest runs from the start date.
        let early = try loan.payoff(on: F.day("2026-01-25"), installmentsPaid: 0)
        #expect(Money.string(early.amountDue) == "120400.00")  // 120,000 × 12% × 10 / 360 = 400
    }

    @Test("a partial prepayment that shortens the term keeps the installment and removes installments")
    func shortenTermEqualPrincipal() throws {
        let loan = try Self.equalPrincipalLoan()
        let quote = try loan.prepayment(
            of: F.d("30000"), on: F.day("2026-04-15"), installmentsPaid: 3, option: .shortenTerm)
        #expect(quote.remainingInstallments.count == 6)
        #expect(quote.remainingInstallments.map(\.number) == Array(4...9))
        #expect(quote.remainingInstallments.first?.dueDate.iso == "2026-05-15")
        #expect(quote.remainingInstallments.allSatisfy { Money.string($0.principal) == "10000.00" })
        #expect(Money.string(quote.remainingInterest) == "2100.00")
        #expect(Money.string(quote.interestSaved) == "2400.00")
        #expect(Money.string(quote.remainingInstallments.last!.remainingPrincipal) == "0.00")
    }

    @Test("a partial prepayment that lowers the installment keeps the number of installments")
    func lowerInstallmentEqualPrincipal() throws {
        let loan = try Self.equalPrincipalLoan()
        let quote = try loan.prepayment(
            of: F.d("30000"), on: F.day("2026-05-05"), installmentsPaid: 3, option: .lowerInstallment)
        #expect(quote.remainingInstallments.count == 9)
        #expect(quote.remainingInstallments[0].amounts == ["6666.67", "600.00", "7266.67", "53333.33"])
        #expect(Money.string(quote.accruedInterest) == "200.00")  // on the 30,000 prepaid, 20 days
        #expect(Money.string(quote.amountDue) == "30200.00")
        #expect(quote.interestSavedFen > 0)
    }

    @Test("on an equal-installment loan, shortening keeps the payment and lowering keeps the count")
    func equalInstallmentOptions() throws {
        let loan = try F.schedule("100000.00", rate: "12", months: 12, .equalInstallment)
        let level = loan.installments[0].paymentFen
        let shorter = try loan.prepayment(
            of: F.d("20000"), on: F.day("2026-03-15"), installmentsPaid: 2, option: .shortenTerm)
        #expect(shorter.remainingInstallments.count < 10)
        #expect(shorter.remainingInstallments.dropLast().allSatisfy { $0.paymentFen == level })
        #expect(shorter.remainingInstallments.last!.remainingPrincipalFen == 0)
        let lower = try loan.prepayment(
            of: F.d("20000"), on: F.day("2026-03-15"), installmentsPaid: 2, option: .lowerInstallment)
        #expect(lower.remainingInstallments.count == 10)
        #expect(lower.remainingInstallments[0].paymentFen < level)
        #expect(lower.remainingInstallments.last!.remainingPrincipalFen == 0)
        #expect(shorter.interestSavedFen > lower.interestSavedFen)
        #expect(lower.interestSavedFen > 0)
        // Principal still adds up: prepaid + what the new plan repays = what was outstanding.
        for quote in [shorter, lower] {
            let repaid = quote.remainingInstallments.reduce(0) { $0 + $1.principalFen }
            #expect(quote.principalPrepaidFen + repaid == quote.outstandingPrincipalFen)
        }
    }

    @Test("prepaying an interest-first loan keeps its term and lowers its interest")
    func interestFirst() throws {
        let loan = try F.schedule("100000.00", rate: "12", months: 12, .interestFirst)
        let quote = try loan.prepayment(
            of: F.d("40000"), on: F.day("2026-07-15"), installmentsPaid: 6, option: .shortenTerm)
        #expect(quote.remainingInstallments.count == 6)
        #expect(quote.remainingInstallments.dropLast().allSatisfy { Money.string($0.interest) == "600.00" })
        #expect(Money.string(quote.interestSaved) == "2400.00")
    }

    @Test("prepaying the whole outstanding principal is a payoff")
    func wholeAmountIsPayoff() throws {
        let loan = try Self.equalPrincipalLoan()
        let quote = try loan.prepayment(
            of: F.d("90000"), on: F.day("2026-05-05"), installmentsPaid: 3, option: .lowerInstallment)
        #expect(quote.isPayoff)
        #expect(quote.option == nil)
        #expect(quote == (try loan.payoff(on: F.day("2026-05-05"), installmentsPaid: 3)))
    }

    @Test("a date outside the current period, a paid count out of range or a bad amount is refused by field")
    func refusals() throws {
        let loan = try Self.equalPrincipalLoan()
        let late = try #require(throws: FieldError.self) {
            try loan.payoff(on: F.day("2026-05-16"), installmentsPaid: 3)
        }
        #expect(late.field == "date")
        let before = try #require(throws: FieldError.self) {
            try loan.payoff(on: F.day("2026-04-14"), installmentsPaid: 3)
        }
        #expect(before.field == "date")
        let paid = try #require(throws: FieldError.self) {
            try loan.payoff(on: F.day("2027-01-15"), installmentsPaid: 12)
        }
        #expect(paid.field == "installmentsPaid")
        for amount in ["0", "-5", "90000.01", "10.001"] {
            let error = try #require(throws: FieldError.self) {
                try loan.prepayment(of: F.d(amount), on: F.day("2026-04-20"), installmentsPaid: 3, option: .shortenTerm)
            }
            #expect(error.field == "amount", "\(amount)")
        }
    }
}
