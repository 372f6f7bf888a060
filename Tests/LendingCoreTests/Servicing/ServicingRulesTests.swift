import Foundation
import Testing

@testable import LendingCore

@Suite("Loan servicing rules")
struct ServicingRulesTests {
    static func day(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }

    /// 12,000.00 at 12% over 12 months, equal principal, disbursed 2026-01-15: 1,000.00 principal a month.
    static func contract() -> LoanTerms {
        LoanTerms(principal: 12000, annualRatePercent: 12, termMonths: 12, method: .equalPrincipal, startDate: day("2026-01-15"))
    }

    static func positions() throws -> [InstallmentPosition] {
        try LoanCalculator.schedule(for: contract()).installments.map(InstallmentPosition.init)
    }

    @Test("a loan moves active → overdue → active → paid off, and a closed loan never reopens")
    func statusTransitions() throws {
        #expect(try LoanStatusMachine.transition(from: .active, to: .overdue) == .overdue)
        #expect(try LoanStatusMachine.transition(from: .overdue, to: .active) == .active)
        #expect(try LoanStatusMachine.transition(from: .active, to: .paidOff) == .paidOff)
        #expect(try LoanStatusMachine.transition(from: .overdue, to: .writtenOff) == .writtenOff)
        #expect(throws: FieldError.self) { try LoanStatusMachine.transition(from: .paidOff, to: .active) }
        #expect(throws: FieldError.self) { try LoanStatusMachine.transition(from: .active, to: .writtenOff) }
        #expect(throws: FieldError.self) { try LoanStatusMachine.transition(from: .writtenOff, to: .overdue) }
    }

    @Test("one day of penalty interest is overdue principal × rate × 1.5 / 360, half-even to the fen")
    func dailyPenalty() {
        // 1,000.00 × 18% / 360 = 0.50
        #expect(PenaltyInterest.dailyFen(overduePrincipalFen: 100_000, annualRatePercent: 12) == 50)
        // 1,001.00 × 18% / 360 = 0.5005 → 0.50
        #expect(PenaltyInterest.dailyFen(overduePrincipalFen: 100_100, annualRatePercent: 12) == 50)
        // 25.00 × 18% / 360 = 0.0125 → 0.01 (half-even); 35.00 → 0.0175 → 0.02
        #expect(PenaltyInterest.dailyFen(overduePrincipalFen: 2_500, annualRatePercent: 12) == 1)
        #expect(PenaltyInterest.dailyFen(overduePrincipalFen: 3_500, annualRatePercent: 12) == 2)
        #expect(PenaltyInterest.dailyFen(overduePrincipalFen: 0, annualRatePercent: 12) == 0)
    }

    @Test("an installment falls due on its date, turns overdue the next day and then accrues penalty daily")
    func dayRules() throws {
        var p = try Self.positions()
        let (onDue, dueEvents) = ServicingDay.open(Self.day("2026-02-15"), installments: p, annualRatePercent: 12)
        #expect(dueEvents == [.interestFellDue(installment: 1, interestFen: 12_000)])
        #expect(onDue[0].status == .due)
        #expect(onDue[1].status == .scheduled)
        p = onDue
        let (next, events) = ServicingDay.open(Self.day("2026-02-16"), installments: p, annualRatePercent: 12)
        #expect(events == [.turnedOverdue(installment: 1), .penaltyAccrued(installment: 1, date: Self.day("2026-02-16"), penaltyFen: 50)])
        #expect(next[0].status == .overdue)
        #expect(LoanStatusMachine.status(for: next, current: .active) == .overdue)
        // Opening the same day again changes nothing.
        let (again, none) = ServicingDay.open(Self.day("2026-02-16"), installments: next, annualRatePercent: 12)
        #expect(none.isEmpty)
        #expect(again == next)
        // Three more days: three more days of penalty.
        let (later, more) = ServicingDay.open(Self.day("2026-02-19"), installments: next, annualRatePercent: 12)
        #expect(more.count == 3)
        #expect(later[0].penaltyFen == 200)
    }

    @Test("a payment goes to penalty, then interest, then principal, oldest installment first")
    func allocationOrder() throws {
        var p = try Self.positions()
        p = ServicingDay.open(Self.day("2026-03-20"), installments: p, annualRatePercent: 12).installments
        // Installment 1 (due 02-15): 33 days late; installment 2 (due 03-15): 5 days late.
        #expect(p[0].penaltyFen == 33 * 50)
        #expect(p[1].penaltyFen == 5 * 50)
        let first = p[0].outstandingFen
        let allocation = RepaymentAllocation.allocate(first + 300, over: p, on: Self.day("2026-03-20"))
        #expect(allocation.installments[0] == InstallmentAllocation(number: 1, penaltyFen: 1650, interestFen: 12_000, principalFen: 100_000))
        #expect(allocation.installments[1] == InstallmentAllocation(number: 2, penaltyFen: 250, interestFen: 50, principalFen: 0))
        #expect(allocation.unallocatedFen == 0)
        let after = allocation.applied(to: p, on: Self.day("2026-03-20"))
        #expect(after[0].status == .paid)
        #expect(after[1].status == .overdue)
        #expect(after[1].outstandingInterestFen == 11_000 - 50)
        // Nothing goes to an installment that has not fallen due.
        let tooMuch = RepaymentAllocation.allocate(10_000_000, over: after, on: Self.day("2026-03-20"))
        #expect(tooMuch.installments.map(\.number) == [2])
        #expect(tooMuch.unallocatedFen == 10_000_000 - after[1].outstandingFen)
    }

    @Test("every posting rule is a balanced entry and a loan's postings net to zero")
    func postingsBalance() throws {
        let postings = [
            PostingRules.disbursement(principalFen: 1_200_000)!, PostingRules.interestFallsDue(interestFen: 12_000)!,
            PostingRules.penaltyAccrues(penaltyFen: 50)!, PostingRules.collection(penaltyFen: 50, interestFen: 12_000, principalFen: 100_000)!,
            PostingRules.prepaymentInterest(interestFen: 333)!,
        ]
        #expect(postings.allSatisfy { $0.isBalanced })
        let balances = PostingRules.trialBalance(postings)
        #expect(balances.values.reduce(0, +) == 0)
        #expect(balances[.loansReceivable] == 1_100_000)
        #expect(balances[.interestReceivable] == 333)
        #expect(balances[.penaltyInterestReceivable] == 0)
        #expect(balances[.interestIncome] == -12_333)
        #expect(PostingRules.collection(penaltyFen: 0, interestFen: 0, principalFen: 0) == nil)
        #expect(PostingRules.collection(penaltyFen: 0, interestFen: 5, principalFen: 0)!.lines.count == 2)
    }

    @Test("the payoff and prepayment quotes are the engine's, also after an earlier prepayment")
    func quotesMatchEngine() throws {
        let contract = Self.contract()
        let engine = try LoanCalculator.schedule(for: contract)
        var p = try Self.positions()
        p = ServicingDay.open(Self.day("2026-02-15"), installments: p, annualRatePercent: 12).installments
        p = RepaymentAllocation.allocate(p[0].outstandingFen, over: p, on: Self.day("2026-02-15")).applied(to: p, on: Self.day("2026-02-15"))
        let date = Self.day("2026-02-25")
        let payoff = try ServicingQuotes.payoff(contract: contract, installments: p, on: date)
        #expect(payoff.totalFen == (try engine.payoff(on: date, installmentsPaid: 1)).amountDueFen)
        let quote = try ServicingQuotes.prepayment(principalFen: 300_000, option: .lowerInstallment, contract: contract, installments: p, on: date)
        #expect(quote == (try engine.prepayment(of: 3000, on: date, installmentsPaid: 1, option: .lowerInstallment)))
        p = ServicingQuotes.replanned(p, by: quote)
        #expect(p.outstandingPrincipalFen == 1_100_000 - 300_000)
        // A later payoff owes the remaining principal plus interest on it since the last due date.
        let later = try ServicingQuotes.payoff(contract: contract, installments: p, on: Self.day("2026-03-05"))
        #expect(later.futurePrincipalFen == 800_000)
        #expect(later.accruedInterestFen == 800_000 * 12 * 18 / 36_000)  // 18 days at 12% / 360
        // Something due must be paid first.
        p = ServicingDay.open(Self.day("2026-03-15"), installments: p, annualRatePercent: 12).installments
        #expect(throws: FieldError.self) {
            try ServicingQuotes.prepayment(principalFen: 100, option: .shortenTerm, contract: contract, installments: p, on: Self.day("2026-03-15"))
        }
    }

    @Test("an interest-first loan keeps its term on a prepayment either way, and its payoff is the engine's")
    func interestFirst() throws {
        let contract = LoanTerms(principal: 50000, annualRatePercent: 9, termMonths: 6, method: .interestFirst, startDate: Self.day("2026-03-31"))
        let engine = try LoanCalculator.schedule(for: contract)
        var p = engine.installments.map(InstallmentPosition.init)
        // 2026-04-30 (month-end clamping) falls due and is paid.
        p = ServicingDay.open(Self.day("2026-04-30"), installments: p, annualRatePercent: 9).installments
        #expect(p[0].status == .due)
        p = RepaymentAllocation.allocate(p[0].outstandingFen, over: p, on: Self.day("2026-04-30")).applied(to: p, on: Self.day("2026-04-30"))
        let date = Self.day("2026-05-10")
        for option in PrepaymentOption.allCases {
            let quote = try ServicingQuotes.prepayment(principalFen: 1_000_000, option: option, contract: contract, installments: p, on: date)
            #expect(quote == (try engine.prepayment(of: 10000, on: date, installmentsPaid: 1, option: option)))
            #expect(quote.remainingInstallments.count == 5)
        }
        let payoff = try ServicingQuotes.payoff(contract: contract, installments: p, on: date)
        #expect(payoff.totalFen == (try engine.payoff(on: date, installmentsPaid: 1)).amountDueFen)
        #expect(payoff.accruedInterestFen == 5_000_000 * 9 * 10 / 36_000)  // 10 days at 9% / 360
    }
}
