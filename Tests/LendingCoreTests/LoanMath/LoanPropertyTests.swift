import Foundation
import PropertyBased
import Testing

@testable import LendingCore

/// Invariants over random valid loans (swift-property-based picks the inputs; a failure prints its seed).
@Suite("Schedules of random loans keep their invariants")
struct LoanPropertyTests {
    static let principalFen = Gen.int64(in: 1...10_000_000_000)
    static let largePrincipalFen = Gen.int64(in: 100_000...10_000_000_000)
    static let rateHundredths = Gen.int(in: 0...3600)  // 0.00% ... 36.00%
    static let months = Gen.int(in: 1...360)
    static let method = Gen<RepaymentMethod>.case
    static let rounding = Gen.element(of: ["0.01", "0.01", "0.1", "1", "10", "100"]).map { $0 ?? "0.01" }

    static func terms(
        _ fen: Int64, _ rate: Int, _ n: Int, _ method: RepaymentMethod, rounding: String = "0.01",
        feeFen: Int64 = 0
    ) -> LoanTerms {
        LoanTerms(
            principal: Money.decimal(fen: fen), annualRatePercent: Decimal(rate) / 100, termMonths: n, method: method,
            startDate: CivilDate(iso: "2024-01-31")!, installmentRounding: LoanFixture.d(rounding),
            upfrontFee: Money.decimal(fen: feeFen))
    }

    @Test("principal parts sum to the principal, each payment is principal + interest, and the balance ends at 0.00")
    func rowsAddUp() async {
        await propertyCheck(
            count: 300, input: Self.principalFen, Self.rateHundredths, Self.months, Self.method, Self.rounding
        ) {
            fen, rate, n, method, rounding in
            let terms = Self.terms(fen, rate, n, method, rounding: rounding)
            guard let s = try? LoanCalculator.schedule(for: terms) else {
                // Only a coarse rounding on a loan too small for it may be refused.
                #expect(rounding != "0.01")
                return
            }
            #expect(s.installments.count == n)
            #expect(s.installments.reduce(Decimal(0)) { $0 + $1.principal } == terms.principal)
            var remaining = terms.principal
            for row in s.installments {
                #expect(row.payment == row.principal + row.interest)
                #expect(row.principal >= 0 && row.interest >= 0)
                remaining -= row.principal
                #expect(row.remainingPrincipal == remaining)
            }
            #expect(Money.string(s.installments.last!.remainingPrincipal) == "0.00")
            #expect(s.totalPayment == s.totalInterest + terms.principal)
        }
    }

    @Test("each installment's interest is half-even(remaining principal × annual rate / 12) to the fen")
    func interestPerRow() async {
        await propertyCheck(count: 200, input: Self.principalFen, Self.rateHundredths, Self.months, Self.method) {
            fen, rate, n, method in
            let terms = Self.terms(fen, rate, n, method)
            guard let s = try? LoanCalculator.schedule(for: terms) else {
                Issue.record("a valid loan was refused")
                return
            }
            var before = terms.principal
            for row in s.installments {
                // Multiply first, divide once: Decimal then holds the exact quotient or one that is no tie.
                let expected = Money.roundHalfEven(before * terms.annualRatePercent / 1200)
                #expect(row.interest == expected, "installment \(row.number)")
                before = row.remainingPrincipal
            }
        }
    }

    @Test("without a fee the APR is within 0.02 of the nominal rate, and a fee makes it higher")
    func aprNearNominal() async {
        await propertyCheck(count: 150, input: Self.largePrincipalFen, Self.rateHundredths, Self.months, Self.method) {
            fen, rate, n, method in
            let plain = try? LoanCalculator.schedule(for: Self.terms(fen, rate, n, method))
            let feeFen = max(1, fen / 50)
            let withFee = try? LoanCalculator.schedule(for: Self.terms(fen, rate, n, method, feeFen: feeFen))
            guard let plain, let withFee else {
                Issue.record("a valid loan was refused")
                return
            }
            let nominal = Decimal(rate) / 100
            #expect(abs(plain.apr - nominal) <= LoanFixture.d("0.02"))
            #expect(withFee.apr > plain.apr)
        }
    }

    @Test("the APR solver ends with a sane result for extreme fees, terms and rates")
    func aprSolverAlwaysEnds() async {
        await propertyCheck(
            count: 150, input: Self.principalFen, Self.rateHundredths, Self.months, Self.method, Gen.int(in: 0...1000)
        ) {
            fen, rate, n, method, feePermille in
            let feeFen = min(fen - 1, fen * Int64(feePermille) / 1000)
            guard let s = try? LoanCalculator.schedule(for: Self.terms(fen, rate, n, method, feeFen: feeFen)) else {
                Issue.record("a valid loan was refused")
                return
            }
            #expect(s.apr >= 0)
            if feeFen == 0, rate == 0 { #expect(s.apr == 0) }
        }
    }
}
