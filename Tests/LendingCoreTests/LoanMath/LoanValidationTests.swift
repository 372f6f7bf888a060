import Foundation
import Testing

@testable import LendingCore

@Suite("Loan terms outside the calculator's limits are refused, naming the field")
struct LoanValidationTests {
    typealias F = LoanFixture

    static let cases: [(field: String, terms: LoanTerms)] = [
        ("principal", F.terms("0", rate: "12", months: 12, .equalInstallment)),
        ("principal", F.terms("-100", rate: "12", months: 12, .equalInstallment)),
        ("principal", F.terms("100000000.01", rate: "12", months: 12, .equalInstallment)),
        ("principal", F.terms("100.001", rate: "12", months: 12, .equalInstallment)),
        ("annualRate", F.terms("1000", rate: "-1", months: 12, .equalInstallment)),
        ("annualRate", F.terms("1000", rate: "36.01", months: 12, .equalInstallment)),
        ("annualRate", F.terms("1000", rate: "12.00000000001", months: 12, .equalInstallment)),
        ("termMonths", F.terms("1000", rate: "12", months: 0, .equalInstallment)),
        ("termMonths", F.terms("1000", rate: "12", months: 361, .equalInstallment)),
        ("termMonths", F.terms("1000", rate: "12", months: 1000, .equalPrincipal)),
        ("startDate", F.terms("1000", rate: "12", months: 12, .equalInstallment, start: "9990-01-01")),
        ("installmentRounding", F.terms("1000", rate: "12", months: 12, .equalInstallment, rounding: "0")),
        ("installmentRounding", F.terms("1000", rate: "12", months: 12, .equalInstallment, rounding: "0.005")),
        ("installmentRounding", F.terms("1000", rate: "12", months: 12, .equalInstallment, rounding: "-1")),
        ("upfrontFee", F.terms("1000", rate: "12", months: 12, .equalInstallment, fee: "-0.01")),
        ("upfrontFee", F.terms("1000", rate: "12", months: 12, .equalInstallment, fee: "1000")),
        ("upfrontFee", F.terms("1000", rate: "12", months: 12, .equalInstallment, fee: "1500")),
        ("upfrontFee", F.terms("1000", rate: "12", months: 12, .equalInstallment, fee: "0.001")),
    ]

    @Test(
        "each invalid value is reported against its API field with English and Chinese messages",
        arguments: cases.indices)
    func namesTheField(_ index: Int) throws {
        let (field, terms) = Self.cases[index]
        let error = try #require(throws: FieldError.self) { try terms.validate() }
        #expect(error.field == field)
        #expect(error.code == "out_of_range")
        #expect(error.message.contains(field))
        #expect(!error.messageZh.isEmpty)
        #expect(throws: FieldError.self) { try LoanCalculator.schedule(for: terms) }
    }

    @Test("the limits themselves are accepted")
    func boundariesAccepted() throws {
        try F.terms("0.01", rate: "0", months: 1, .equalInstallment).validate()
        try F.terms("100000000.00", rate: "36", months: 360, .equalPrincipal, fee: "99999999.99").validate()
        try F.terms("5000", rate: "4.3500000001", months: 18, .interestFirst, rounding: "100").validate()
    }

    @Test("the messages state the allowed range")
    func messagesStateRange() throws {
        let term = try #require(throws: FieldError.self) {
            try F.terms("1000", rate: "12", months: 0, .equalInstallment).validate()
        }
        #expect(term.message.contains("1") && term.message.contains("360"))
        #expect(term.messageZh.contains("360"))
        let principal = try #require(throws: FieldError.self) {
            try F.terms("0", rate: "12", months: 12, .equalInstallment).validate()
        }
        #expect(principal.message.contains("0.01") && principal.message.contains("100000000.00"))
    }

    @Test("an unknown repayment method is refused on the method field")
    func unknownMethod() throws {
        #expect(try RepaymentMethod.named("equal-principal") == .equalPrincipal)
        let error = try #require(throws: FieldError.self) { try RepaymentMethod.named("balloon") }
        #expect(error.field == "method")
        #expect(error.code == "invalid")
    }
}

@Suite("Loan terms typed as text")
struct LoanTermsTextTests {
    let today = CivilDate(iso: "2026-03-31")!

    @Test("text values become validated terms, with today's business date by default")
    func parsesText() throws {
        let terms = try LoanTerms(
            principalText: "5000.00", annualRateText: "12", termMonths: 18, methodText: "equal-installment",
            startDateText: nil, businessDate: today, installmentRoundingText: "1")
        #expect(terms.principal == 5000)
        #expect(terms.installmentRounding == 1)
        #expect(terms.upfrontFee == 0)
        #expect(terms.startDate == today)
        #expect(try LoanCalculator.schedule(for: terms).installments.last?.dueDate.iso == "2027-09-30")
    }

    @Test(
        "non-numeric money, a malformed date or an unknown method is refused on its field",
        arguments: [
            ("principal", "1e5", "12", "equal-principal", nil, nil),
            ("principal", "-100", "12", "equal-principal", nil, nil),
            ("annualRate", "1000", "twelve", "equal-principal", nil, nil),
            ("method", "1000", "12", "bullet", nil, nil),
            ("startDate", "1000", "12", "equal-principal", "2026-02-30", nil),
            ("upfrontFee", "1000", "12", "equal-principal", nil, "abc"),
            ("upfrontFee", "1000", "12", "equal-principal", nil, "1200"),
        ] as [(String, String, String, String, String?, String?)])
    func refusesText(
        _ field: String, _ principal: String, _ rate: String, _ method: String, _ start: String?, _ fee: String?
    ) throws {
        let error = try #require(throws: FieldError.self) {
            try LoanTerms(
                principalText: principal, annualRateText: rate, termMonths: 12, methodText: method,
                startDateText: start, businessDate: today, upfrontFeeText: fee)
        }
        #expect(error.field == field)
    }
}
