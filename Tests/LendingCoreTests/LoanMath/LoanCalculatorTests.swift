import Foundation
import Testing

@testable import LendingCore

@Suite("Repayment schedules checked by hand")
struct LoanCalculatorTests {
    typealias F = LoanFixture

    @Test("a 1,000,000 mortgage-style loan at 4.9% over 30 years pays the published 5307.27 a month")
    func publishedThirtyYearEqualInstallment() throws {
        let s = try F.schedule("1000000.00", rate: "4.9", months: 360, .equalInstallment)
        #expect(s.installments.count == 360)
        #expect(s.installments[0].amounts == ["1223.94", "4083.33", "5307.27", "998776.06"])
        #expect(s.installments[1].amounts == ["1228.93", "4078.34", "5307.27", "997547.13"])
        #expect(s.installments.dropLast().allSatisfy { Money.string($0.payment) == "5307.27" })
        #expect(s.installments[359].amounts == ["5283.62", "21.57", "5305.19", "0.00"])
        #expect(Money.string(s.totalInterest) == "910615.12")
        #expect(Money.string(s.apr) == "4.90")
    }

    @Test("equal principal over 30 years starts at 6861.11 and falls by about 11.34 a month")
    func publishedThirtyYearEqualPrincipal() throws {
        let s = try F.schedule("1000000.00", rate: "4.9", months: 360, .equalPrincipal)
        #expect(s.installments[0].amounts == ["2777.78", "4083.33", "6861.11", "997222.22"])
        #expect(s.installments[1].amounts == ["2777.78", "4071.99", "6849.77", "994444.44"])
        #expect(s.installments[359].amounts == ["2776.98", "11.34", "2788.32", "0.00"])
        #expect(Money.string(s.totalInterest) == "737041.08")
    }

    @Test("a tie in the monthly interest goes to the even fen")
    func interestTieToEven() throws {
        // 12.50 × 1% = 0.125 → 0.12; 13.50 × 1% = 0.135 → 0.14
        let even = try F.schedule("12.50", rate: "12", months: 2, .interestFirst)
        #expect(
            even.installments.map(\.amounts) == [
                ["0.00", "0.12", "0.12", "12.50"], ["12.50", "0.12", "12.62", "0.00"],
            ])
        let odd = try F.schedule("13.50", rate: "12", months: 1, .interestFirst)
        #expect(odd.installments[0].amounts == ["13.50", "0.14", "13.64", "0.00"])
    }

    @Test("interest on a rate that is not a finite decimal a month is rounded from the exact product")
    func exactRateProduct() throws {
        // 1.20 × 5% / 12 = 0.005 exactly: a tie, so 0.00 (a rate cut to 38 digits would give 0.01).
        let s = try F.schedule("1.20", rate: "5", months: 2, .interestFirst)
        #expect(s.installments[0].amounts == ["0.00", "0.00", "0.00", "1.20"])
        // 3.60 × 5% / 12 = 0.015 → 0.02
        let t = try F.schedule("3.60", rate: "5", months: 2, .interestFirst)
        #expect(Money.string(t.installments[0].interest) == "0.02")
    }

    @Test("a level payment or a principal share that falls on half a fen rounds to even")
    func levelPaymentTies() throws {
        // 0.25 / 2 = 0.125 → 0.12, the last takes 0.13; 0.35 / 2 = 0.175 → 0.18, the last takes 0.17
        let a = try F.schedule("0.25", rate: "0", months: 2, .equalInstallment)
        #expect(a.installments.map { Money.string($0.payment) } == ["0.12", "0.13"])
        let b = try F.schedule("0.35", rate: "0", months: 2, .equalInstallment)
        #expect(b.installments.map { Money.string($0.payment) } == ["0.18", "0.17"])
        let c = try F.schedule("0.25", rate: "0", months: 2, .equalPrincipal)
        #expect(c.installments.map { Money.string($0.principal) } == ["0.12", "0.13"])
        // 1.00 at 6% for one month: A = 1.005 exactly, a tie decided in exact arithmetic.
        #expect(
            LevelPayment.fen(
                principalFen: 100, rate: ExactMonthlyRate(annualPercentNumerator: 6, scale: 1), periods: 1,
                roundingFen: 1) == 100)
        #expect(
            LevelPayment.fen(
                principalFen: 300, rate: ExactMonthlyRate(annualPercentNumerator: 6, scale: 1), periods: 1,
                roundingFen: 1) == 302)
    }

    @Test("due dates after a month end clamp to the end of shorter months, leap years included")
    func monthEndDueDates() throws {
        let leap = try F.schedule("1200.00", rate: "12", months: 4, .equalPrincipal, start: "2024-01-31")
        #expect(leap.installments.map(\.dueDate.iso) == ["2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"])
        let common = try F.schedule("1200.00", rate: "12", months: 2, .equalPrincipal, start: "2023-01-31")
        #expect(common.installments.map(\.dueDate.iso) == ["2023-02-28", "2023-03-31"])
        // Counted from the start date, not from the previous due date: Feb 29 + 12 months = Feb 28, + 48 = Feb 29.
        let fromLeapDay = try F.schedule("4800.00", rate: "12", months: 48, .equalPrincipal, start: "2024-02-29")
        #expect(fromLeapDay.installments[11].dueDate.iso == "2025-02-28")
        #expect(fromLeapDay.installments[12].dueDate.iso == "2025-03-29")
        #expect(fromLeapDay.installments[47].dueDate.iso == "2028-02-29")
    }

    @Test("a short February charges the same 360/30 interest as any month")
    func februaryInterest() throws {
        let s = try F.schedule("10000.00", rate: "12", months: 3, .interestFirst, start: "2024-01-31")
        #expect(s.installments.map { Money.string($0.interest) } == ["100.00", "100.00", "100.00"])
    }

    @Test("an upfront fee raises the APR above the nominal rate")
    func feeRaisesApr() throws {
        let plain = try F.schedule("100000.00", rate: "12", months: 12, .equalInstallment)
        let withFee = try F.schedule("100000.00", rate: "12", months: 12, .equalInstallment, fee: "1000.00")
        #expect(Money.string(plain.apr) == "12.00")
        #expect(Money.string(withFee.apr) == "13.91")
        #expect(withFee.installments == plain.installments)  // the fee changes only the APR
        let principalFee = try F.schedule("100000.00", rate: "12", months: 12, .equalPrincipal, fee: "1000.00")
        #expect(Money.string(principalFee.apr) == "13.95")
    }

    @Test("a 0% loan has no interest, equal payments and an APR of 0.00 unless there is a fee")
    func zeroRate() throws {
        let s = try F.schedule("12000.00", rate: "0", months: 12, .equalInstallment)
        #expect(s.installments.allSatisfy { Money.string($0.payment) == "1000.00" && $0.interestFen == 0 })
        #expect(Money.string(s.totalInterest) == "0.00")
        #expect(Money.string(s.apr) == "0.00")
        let fee = try F.schedule("12000.00", rate: "0", months: 12, .equalInstallment, fee: "600.00")
        #expect(Money.string(fee.apr) == "9.58")
    }

    @Test("an APR exactly on a rounding boundary rounds half-even")
    func aprExactTie() throws {
        // One month, 2400.00 at 12.005%: interest 24.01, IRR exactly 12.005% → 12.00; at 12.015% → 12.02.
        let down = try F.schedule("2400.00", rate: "12.005", months: 1, .interestFirst)
        #expect(Money.string(down.installments[0].interest) == "24.01")
        #expect(Money.string(down.apr) == "12.00")
        let up = try F.schedule("2400.00", rate: "12.015", months: 1, .interestFirst)
        #expect(Money.string(up.apr) == "12.02")
    }

    @Test("one-month and extreme loans still get a schedule and a finite APR")
    func extremes() throws {
        let oneMonth = try F.schedule("10000.00", rate: "12", months: 1, .equalInstallment)
        #expect(oneMonth.installments[0].amounts == ["10000.00", "100.00", "10100.00", "0.00"])
        #expect(Money.string(oneMonth.apr) == "12.00")
        let hugeFee = try F.schedule("100000000.00", rate: "36", months: 360, .equalInstallment, fee: "99999999.99")
        #expect(hugeFee.apr > 1_000_000)
        let tiny = try F.schedule("0.01", rate: "36", months: 360, .equalPrincipal)
        #expect(tiny.installments.last?.amounts == ["0.01", "0.00", "0.01", "0.00"])
        #expect(Money.string(tiny.apr) == "0.00")
    }

    @Test("a level payment rounded to whole hundreds that would not cover the interest is refused")
    func tooCoarseRounding() throws {
        let error = try #require(throws: FieldError.self) {
            try F.schedule("100.00", rate: "12", months: 12, .equalInstallment, rounding: "100")
        }
        #expect(error.field == "installmentRounding")
        #expect(error.code == "too_coarse")
    }

    @Test("a payment rounded up on a tiny loan repays it early and leaves zero installments, never negative ones")
    func tinyLoanRepaidEarly() throws {
        let s = try F.schedule("0.05", rate: "36", months: 12, .equalInstallment)
        #expect(s.installments.count == 12)
        #expect(s.installments.prefix(5).allSatisfy { Money.string($0.payment) == "0.01" })
        #expect(s.installments.dropFirst(5).allSatisfy { $0.paymentFen == 0 && $0.remainingPrincipalFen == 0 })
    }
}
