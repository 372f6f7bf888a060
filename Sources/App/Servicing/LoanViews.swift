import Foundation
import LendingCore
import Vapor

// The "我的贷款" API's bodies. Money as strings with two decimals ("1234.50"), dates as YYYY-MM-DD business dates.

struct RepaymentRequest: Content, Sendable {
    /// due | amount | payoff | prepayment
    var type: String?
    /// amount: what to pay; prepayment: the principal to repay early; payoff: optional, the quoted total to confirm.
    var amount: String?
    /// prepayment only: shorten-term | lower-installment
    var prepaymentMode: String?
}

struct PrepaymentQuoteRequest: Content, Sendable {
    var amount: String?
    var prepaymentMode: String?
}

struct MoneySplitView: Content, Sendable, Equatable {
    let penalty: String
    let interest: String
    let principal: String
}

struct NextPaymentView: Content, Sendable {
    let installment: Int
    let dueDate: String
    let amount: String
}

struct LoanBalancesView: Content, Sendable {
    /// Principal not yet repaid (due or not).
    let outstandingPrincipal: String
    /// Owed now: everything of the installments that have fallen due, penalty interest included.
    let dueNow: String
    let overduePrincipal: String
    let overdueInterest: String
    let penaltyInterest: String
    let paidTotal: String
}

struct InstallmentView: Content, Sendable {
    let number: Int
    let dueDate: String
    /// scheduled | due | overdue | paid
    let status: String
    let statusZh: String
    let principal: String
    let interest: String
    let penaltyInterest: String
    let payment: String
    let paid: String
    let outstanding: String
    let paidOn: String?
}

struct LoanSummaryView: Content, Sendable {
    let id: UUID
    let applicationId: UUID
    /// active | overdue | paid_off | written_off
    let status: String
    let statusZh: String
    let principal: String
    let annualRate: String
    let termMonths: Int
    let method: String
    let disbursedOn: String
    let closedOn: String?
    let outstandingPrincipal: String
    let nextPayment: NextPaymentView?
}

struct LoanDetailView: Content, Sendable {
    let loan: LoanSummaryView
    let businessDate: String
    let balances: LoanBalancesView
    let schedule: [InstallmentView]
}

struct ApplicationSummaryView: Content, Sendable {
    let id: UUID
    let state: String
    let stateZh: String
    let loanAmount: String?
    let termMonths: Int?
    let loanId: UUID?
}

struct LoansListView: Content, Sendable {
    let businessDate: String
    let applications: [ApplicationSummaryView]
    let loans: [LoanSummaryView]
}

struct PayoffQuoteView: Content, Sendable {
    let loanId: UUID
    /// The business date the quote is valid for (only that day).
    let validOn: String
    let amount: String
    let principal: String
    let interest: String
    let penaltyInterest: String
    /// Interest since the last due date on the principal not yet due (actual days / 360), part of `interest`.
    let accruedInterest: String
    let accruedDays: Int
    let interestSaved: String
}

struct PlannedInstallmentView: Content, Sendable {
    let number: Int
    let dueDate: String
    let principal: String
    let interest: String
    let payment: String
    let remainingPrincipal: String
}

struct PrepaymentQuoteView: Content, Sendable {
    let loanId: UUID
    let validOn: String
    let prepaymentMode: String
    /// What to pay now: the principal repaid early plus the interest accrued on it.
    let amount: String
    let principalPrepaid: String
    let accruedInterest: String
    let accruedDays: Int
    let interestSaved: String
    let installmentsLeftBefore: Int
    let installmentsLeftAfter: Int
    let nextPaymentBefore: String?
    let nextPaymentAfter: String?
    let newPlan: [PlannedInstallmentView]
}

struct PaymentView: Content, Sendable {
    let id: UUID
    let kind: String
    let loanId: UUID?
    let applicationId: UUID
    let type: String?
    let prepaymentMode: String?
    /// pending | succeeded | failed
    let state: PaymentState
    let amount: String
    let collected: String?
    let allocation: MoneySplitView?
    let businessDate: String
    let providerReference: String?
    let failureCode: String?
    let loanStatus: String?
    let outstandingPrincipal: String?
    let dueNow: String?
}

struct TrialBalanceView: Content, Sendable {
    struct Row: Content, Sendable {
        let account: String
        let debit: String
        let credit: String
        let balance: String
    }
    let accounts: [Row]
    let total: String
}

enum LoanPresenter {
    static func money(_ fen: Int64) -> String { Money.string(fen: fen) }

    static func summary(_ loan: Loan, positions: [InstallmentPosition], on date: CivilDate) throws -> LoanSummaryView {
        let next = nextPayment(positions, on: date)
        return LoanSummaryView(
            id: loan.id!, applicationId: loan.applicationID, status: loan.status, statusZh: try loan.loanStatus.labelZh,
            principal: money(loan.principalFen), annualRate: loan.annualRate, termMonths: loan.termMonths, method: loan.method,
            disbursedOn: loan.startDate, closedOn: loan.closedOn, outstandingPrincipal: money(positions.outstandingPrincipalFen),
            nextPayment: try loan.loanStatus.isClosed ? nil : next)
    }

    /// What to pay next: everything owed now if anything is, otherwise the next installment on its due date.
    static func nextPayment(_ positions: [InstallmentPosition], on date: CivilDate) -> NextPaymentView? {
        let owed = positions.owedFen(on: date)
        if owed > 0, let oldest = positions.first(where: { $0.hasFallenDue(on: date) && !$0.isSettled }) {
            return NextPaymentView(installment: oldest.number, dueDate: oldest.dueDate.iso, amount: money(owed))
        }
        guard let upcoming = positions.first(where: { !$0.hasFallenDue(on: date) && !$0.isSettled }) else { return nil }
        return NextPaymentView(installment: upcoming.number, dueDate: upcoming.dueDate.iso, amount: money(upcoming.outstandingFen))
    }

    static func detail(_ loan: Loan, positions: [InstallmentPosition], on date: CivilDate) throws -> LoanDetailView {
        let overdue = positions.filter { $0.status == .overdue && !$0.isSettled }
        let balances = LoanBalancesView(
            outstandingPrincipal: money(positions.outstandingPrincipalFen), dueNow: money(positions.owedFen(on: date)),
            overduePrincipal: money(overdue.reduce(0) { $0 + $1.outstandingPrincipalFen }),
            overdueInterest: money(overdue.reduce(0) { $0 + $1.outstandingInterestFen }),
            penaltyInterest: money(positions.reduce(0) { $0 + $1.outstandingPenaltyFen }),
            paidTotal: money(positions.reduce(0) { $0 + $1.paidFen }))
        let rows = positions.map { p in
            InstallmentView(
                number: p.number, dueDate: p.dueDate.iso, status: p.status.rawValue, statusZh: statusZh(p.status),
                principal: money(p.principalFen), interest: money(p.interestFen), penaltyInterest: money(p.penaltyFen),
                payment: money(p.principalFen + p.interestFen + p.penaltyFen), paid: money(p.paidFen),
                outstanding: money(p.outstandingFen), paidOn: p.paidOn?.iso)
        }
        return LoanDetailView(
            loan: try summary(loan, positions: positions, on: date), businessDate: date.iso, balances: balances,
            schedule: rows)
    }

    static func statusZh(_ status: InstallmentStatus) -> String {
        switch status {
        case .scheduled: "未到期"
        case .due: "今日到期"
        case .overdue: "已逾期"
        case .paid: "已还清"
        }
    }

    static func planned(_ rows: [ScheduledInstallment]) -> [PlannedInstallmentView] {
        rows.map {
            PlannedInstallmentView(
                number: $0.number, dueDate: $0.dueDate.iso, principal: money($0.principalFen), interest: money($0.interestFen),
                payment: money($0.paymentFen), remainingPrincipal: money($0.remainingPrincipalFen))
        }
    }
}
