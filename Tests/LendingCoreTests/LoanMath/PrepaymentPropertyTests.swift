import Foundation
import PropertyBased
import Testing

@testable import LendingCore

@Suite("Prepayments of random loans keep their invariants")
struct PrepaymentPropertyTests {
    @Test("what is prepaid plus what the new plan repays is exactly what was owed, and the new plan ends at 0.00")
    func principalAddsUp() async {
        await propertyCheck(
            count: 200, input: Gen.int64(in: 100_000...10_000_000_000), Gen.int(in: 100...3600), Gen.int(in: 2...360),
            Gen<RepaymentMethod>.case, Gen.int(in: 0...1000), Gen<PrepaymentOption>.case
        ) { fen, rate, n, method, share, option in
            let terms = LoanPropertyTests.terms(fen, rate, n, method)
            guard let loan = try? LoanCalculator.schedule(for: terms) else {
                Issue.record("a valid loan was refused")
                return
            }
            let paid = Int(share) % n
            let lastDue = paid == 0 ? terms.startDate : loan.installments[paid - 1].dueDate
            let outstanding = paid == 0 ? fen : loan.installments[paid - 1].remainingPrincipalFen
            guard outstanding > 0 else { return }
            let amountFen = max(1, outstanding * Int64(share) / 1000)
            let quote: PrepaymentQuote
            do {
                quote = try loan.prepayment(
                    of: Money.decimal(fen: amountFen), on: lastDue, installmentsPaid: paid, option: option)
            } catch {
                Issue.record("refused: \(error)")
                return
            }
            let repaid = quote.remainingInstallments.reduce(Int64(0)) { $0 + $1.principalFen }
            #expect(quote.principalPrepaidFen + repaid == outstanding)
            #expect(quote.accruedInterestFen == 0)  // paid on the last due date: no days have run
            if amountFen < outstanding {
                #expect(quote.remainingInstallments.last?.remainingPrincipalFen == 0)
                #expect(quote.remainingInstallments.first?.number == paid + 1)
                #expect(quote.remainingInstallments.allSatisfy { $0.principalFen >= 0 && $0.interestFen >= 0 })
                if option == .lowerInstallment || method == .interestFirst {
                    #expect(quote.remainingInstallments.count == n - paid)
                } else {
                    #expect(quote.remainingInstallments.count <= n - paid)
                }
                for (new, old) in zip(quote.remainingInstallments, loan.installments[paid...]) {
                    #expect(new.dueDate == old.dueDate)
                }
            } else {
                #expect(quote.remainingInstallments.isEmpty)
            }
            // Paying earlier never costs more interest than keeping to the plan (up to a fen per installment of
            // rounding when a tiny amount is re-amortized).
            #expect(quote.interestSavedFen >= -Int64(n - paid))
        }
    }
}
