import Fluent
import Foundation
import LendingCore
import Testing
import Vapor

@testable import App

private typealias H = ServicingHarness

/// The plan the borrower signs is the plan the bank books, to the fen; a payout after end of day moves the due
/// dates by the rule the contract states, never the amounts.
@Suite("The signed plan is the booked plan")
struct SignedPlanIsBookedPlanTests {
    static func signedPlan(_ app: Application, _ p: Applicant) async throws -> ContractContent {
        let signed = try #require(try await SignedContract.query(on: app.db).filter(\.$applicationID == UUID(uuidString: p.applicationID)!).first())
        return try JSONDecoder().decode(ContractContent.self, from: Data(try await PersonVault(db: app.db, services: app.yidai).open(signed.contentSealed).utf8))
    }

    static func bookedRows(_ app: Application) async throws -> (Loan, [LoanInstallment]) {
        let loan = try #require(try await Loan.query(on: app.db).first())
        return (loan, try await LoanInstallment.query(on: app.db).filter(\.$loanID == loan.id!).sort(\.$number).all())
    }

    static func yuan(_ fen: Int64) -> String { ContractFormat.yuan(Money.string(fen: fen)) }

    @Test("paid out on the signing day, every row of the booked loan is the signed row: date, payment, principal, interest", arguments: ["equal-installment", "equal-principal", "interest-first"])
    func sameDay(method: String) async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "36000", termMonths: 12, method: method)
            let contract = try await Self.signedPlan(app, p)
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let (loan, rows) = try await Self.bookedRows(app)
            #expect(loan.startDate == contract.businessDate)
            #expect(rows.count == contract.plan.count)
            for (row, signed) in zip(rows, contract.plan) {
                #expect(row.number == signed.number)
                #expect(row.dueDate == signed.dueDate)
                #expect(Self.yuan(row.principalFen + row.interestFen) == signed.payment)
                #expect(Self.yuan(row.principalFen) == signed.principal)
                #expect(Self.yuan(row.interestFen) == signed.interest)
            }
        }
    }

    @Test("paid out after end of day, the amounts are the signed ones and each due date is the payout date's day in each month, or the month's last day")
    func afterEndOfDay() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            // Signed on 2026-07-25 (the harness's business date); end of day runs to the 31st before the payout.
            try await p.walkToSignedContract(amount: "36000", termMonths: 12)
            let contract = try await Self.signedPlan(app, p)
            try await H.endOfDay(app, through: "2026-07-31")
            #expect(try await PayoutJobs.runDue(app.servicing) == 1)
            let (loan, rows) = try await Self.bookedRows(app)
            #expect(loan.startDate == "2026-07-31")
            #expect(contract.planNote.contains("每期还款日为放款日在各月的对应日，无对应日的为该月最后一日"))
            let start = try #require(CivilDate(iso: loan.startDate))
            for (row, signed) in zip(rows, contract.plan) {
                #expect(Self.yuan(row.principalFen) == signed.principal)
                #expect(Self.yuan(row.interestFen) == signed.interest)
                // The stated rule, written out: the same day of the month, or the last day of a shorter month.
                let month = (start.month - 1 + row.number) % 12 + 1
                let year = start.year + (start.month - 1 + row.number) / 12
                let day = min(start.day, CivilDate.daysIn(month: month, year: year))
                #expect(row.dueDate == CivilDate(year: year, month: month, day: day)!.iso, "installment \(row.number)")
            }
            #expect(rows.first { $0.number == 1 }?.dueDate == "2026-08-31")
            #expect(rows.first { $0.number == 2 }?.dueDate == "2026-09-30")
        }
    }

    @Test("a missing loan field stops the payout with an error naming it, instead of a default")
    func missingFieldIsLoud() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.walkToSignedContract(amount: "12000", termMonths: 12)
            let application = try #require(try await LoanApplication.find(UUID(uuidString: p.applicationID)!, on: app.db))
            application.loanMethod = nil
            try await application.save(on: app.db)
            let (status, body) = try await p.disburse()
            #expect(status == .conflict)
            #expect(body.errorCode == "loan_terms_incomplete")
            #expect(body.errorField == "loanMethod")
            #expect(try await H.cardBalance(app, p.card) == 0)
            #expect(try await Loan.query(on: app.db).count() == 0)
        }
    }
}
