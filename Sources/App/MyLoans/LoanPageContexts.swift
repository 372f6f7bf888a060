import Foundation
import LendingCore

// What each Leaf template of Resources/Views/loans receives ("我的贷款"). Values are display-ready strings:
// the templates only lay them out.

/// The page URLs of "我的贷款", in one place.
enum LoanPaths {
    static let list = "/loans"

    static func loan(_ id: UUID) -> String { "/loans/\(id.uuidString.lowercased())" }
    static func repay(_ id: UUID) -> String { loan(id) + "/repay" }
    static func prepay(_ id: UUID) -> String { loan(id) + "/prepay" }
    static func payoff(_ id: UUID) -> String { loan(id) + "/payoff" }
    static func repayments(_ id: UUID) -> String { loan(id) + "/repayments" }
    static func payment(_ id: UUID, _ paymentID: UUID) -> String {
        loan(id) + "/payments/\(paymentID.uuidString.lowercased())"
    }
    static func contractPDF(_ id: UUID) -> String { loan(id) + "/contract.pdf" }
    static func contractSignature(_ id: UUID) -> String { loan(id) + "/contract.p7s" }
}

/// Labels and CSS classes ("ok", "pending", "action", "warn", "muted") for the state badges.
enum LoanPageLabels {
    /// The application's state as the list shows it, named for what it is: 申请中/已获批/审核中/已锁定/暂不可继续/
    /// 未通过/待签约/放款中/已放款/已取消/已过期.
    static func application(_ application: LoanApplication, now: Date) throws -> (label: String, tone: String) {
        let state = try application.applicationState
        if application.stopStep != nil && !state.isTerminal {
            if let until = application.faceLockedUntil, until > now { return ("已锁定", "warn") }
            return ("暂不可继续", "muted")
        }
        switch state {
        case .started, .identityVerified, .creditAuthorized, .infoCompleted: return ("申请中", "pending")
        case .approved: return ("已获批", "ok")
        case .referred: return ("审核中", "pending")
        case .declined: return ("未通过", "muted")
        case .loanRequested: return ("待签约", "action")
        case .contractSigned, .disbursing: return ("放款中", "pending")
        case .disbursed: return ("已放款", "ok")
        case .cancelled: return ("已取消", "muted")
        case .expired: return ("已过期", "muted")
        }
    }

    /// 还款中/已逾期/已结清/已核销.
    static func loan(_ status: LoanStatus) -> (label: String, tone: String) {
        switch status {
        case .active: (status.labelZh, "ok")
        case .overdue: (status.labelZh, "warn")
        case .paidOff: (status.labelZh, "muted")
        case .writtenOff: (status.labelZh, "muted")
        }
    }

    static func method(_ method: RepaymentMethod) -> String { PageFormat.methodTitle(method) }

    static func mode(_ raw: String?) -> String {
        switch raw {
        case PrepaymentOption.shortenTerm.rawValue: "缩短期限"
        case PrepaymentOption.lowerInstallment.rawValue: "减少月供"
        default: "—"
        }
    }

    static func repaymentType(_ type: RepaymentService.RepaymentType?) -> String {
        switch type {
        case .due: "归还当前应还"
        case .amount: "部分还款"
        case .payoff: "提前结清"
        case .prepayment: "部分提前还款"
        case nil: "自动扣款"
        }
    }

    /// "2026-07-25" → "2026年7月25日"
    static func civil(_ iso: String?) -> String {
        guard let iso, let date = CivilDate(iso: iso) else { return iso ?? "—" }
        return PageFormat.civil(date)
    }

    /// Money strings of the servicing views ("1234.50") → "1,234.50".
    static func yuan(_ amount: String?) -> String {
        guard let amount else { return "0.00" }
        return PageFormat.yuan(amount)
    }

    static func isZero(_ amount: String?) -> Bool {
        guard let amount, let value = Money.parse(amount) else { return true }
        return value == 0
    }
}

struct LoansListPageContext: Encodable {
    let page: PageChrome
    let businessDate: String
    let loans: [LoanItem]
    let applications: [ApplicationItem]
    /// Leaf treats every array as true in `#if`, so the templates test these.
    let hasLoans: Bool
    let hasApplications: Bool

    struct LoanItem: Encodable {
        let href: String
        let amount: String
        let status: String
        let tone: String
        let terms: String
        let disbursedOn: String
        let outstanding: String
        let closed: Bool
        let closedOn: String?
        let nextAmount: String?
        let nextDue: String?
        let nextOverdue: Bool
    }

    struct ApplicationItem: Encodable {
        let title: String
        let status: String
        let tone: String
        let detail: String
        let href: String?
        let action: String?
    }
}

struct LoanDetailPageContext: Encodable {
    let page: PageChrome
    let notice: String?
    let amount: String
    let status: String
    let tone: String
    let closed: Bool
    let closedOn: String?
    let annualRate: String
    let termMonths: Int
    let method: String
    let disbursedOn: String
    let businessDate: String
    let card: String?
    let bank: String?
    let next: NextPayment?
    let balances: Balances
    let rows: [ScheduleRow]
    let payments: [PaymentRow]
    /// Leaf treats every array as true in `#if`.
    let hasPayments: Bool
    let repayHref: String
    let prepayHref: String
    let payoffHref: String
    let contractPDF: String?
    let contractSignature: String?
    let contractPage: String?

    struct NextPayment: Encodable {
        let installment: Int
        let dueDate: String
        let amount: String
        /// Owed now (fallen due and unpaid) rather than the next installment ahead.
        let owedNow: Bool
        let overdue: Bool
    }

    struct Balances: Encodable {
        let outstandingPrincipal: String
        let dueNow: String
        let hasDue: Bool
        let overduePrincipal: String
        let overdueInterest: String
        let penaltyInterest: String
        let hasOverdue: Bool
        let paidTotal: String
    }

    struct ScheduleRow: Encodable {
        let number: Int
        let dueDate: String
        /// "paid", "due", "overdue" or "scheduled": a CSS class of the row.
        let status: String
        let statusZh: String
        let payment: String
        let principal: String
        let interest: String
        let penalty: String?
        let paid: String?
        let isNext: Bool
    }

    struct PaymentRow: Encodable {
        let date: String
        let kind: String
        let amount: String
        let state: String
        let tone: String
        let href: String
    }
}

struct RepayPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let loanHref: String
    let action: String
    let businessDate: String
    let dueNow: String
    let hasDue: Bool
    let overdue: Bool
    let dueKey: String
    let amountKey: String
    let nextAmount: String?
    let nextDue: String?
    let prepayHref: String
    let payoffHref: String
}

struct PayoffPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let loanHref: String
    let action: String
    let validOn: String
    let amount: String
    let rawAmount: String
    let principal: String
    let interest: String
    let accruedInterest: String
    let accruedDays: Int
    let penaltyInterest: String
    let hasPenalty: Bool
    let interestSaved: String
    let key: String
}

struct PrepayPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let loanHref: String
    let quoteAction: String
    let payAction: String
    let businessDate: String
    let outstandingPrincipal: String
    let modes: [ModeChoice]
    let quote: Quote?
    let key: String

    struct ModeChoice: Encodable {
        let value: String
        let label: String
        let hint: String
        let selected: Bool
    }

    struct Quote: Encodable {
        let mode: String
        let modeLabel: String
        let rawPrincipal: String
        let amount: String
        let principalPrepaid: String
        let accruedInterest: String
        let accruedDays: Int
        let interestSaved: String
        let installmentsBefore: Int
        let installmentsAfter: Int
        let nextBefore: String?
        let nextAfter: String?
        let paysOff: Bool
        let rows: [Row]

        struct Row: Encodable {
            let number: Int
            let dueDate: String
            let payment: String
            let principal: String
            let interest: String
            let remaining: String
        }

        init(_ view: PrepaymentQuoteView, rawPrincipal: String) {
            mode = view.prepaymentMode
            modeLabel = LoanPageLabels.mode(view.prepaymentMode)
            self.rawPrincipal = rawPrincipal
            amount = LoanPageLabels.yuan(view.amount)
            principalPrepaid = LoanPageLabels.yuan(view.principalPrepaid)
            accruedInterest = LoanPageLabels.yuan(view.accruedInterest)
            accruedDays = view.accruedDays
            interestSaved = LoanPageLabels.yuan(view.interestSaved)
            installmentsBefore = view.installmentsLeftBefore
            installmentsAfter = view.installmentsLeftAfter
            nextBefore = view.nextPaymentBefore.map(LoanPageLabels.yuan)
            nextAfter = view.nextPaymentAfter.map(LoanPageLabels.yuan)
            paysOff = view.newPlan.isEmpty
            rows = view.newPlan.map {
                Row(
                    number: $0.number, dueDate: $0.dueDate, payment: LoanPageLabels.yuan($0.payment),
                    principal: LoanPageLabels.yuan($0.principal), interest: LoanPageLabels.yuan($0.interest),
                    remaining: LoanPageLabels.yuan($0.remainingPrincipal))
            }
        }
    }
}

struct ReceiptPageContext: Encodable {
    let page: PageChrome
    let loanHref: String
    let refreshHref: String
    /// "succeeded", "failed" or "pending".
    let state: String
    let heading: String
    let message: String
    let kind: String
    let mode: String?
    let amount: String
    let collected: String?
    let penalty: String?
    let interest: String?
    let principal: String?
    let businessDate: String
    let reference: String?
    let loanStatus: String
    let loanClosed: Bool
    let outstandingPrincipal: String
    /// "当前应还" when the next payment has fallen due, else "下期应还".
    let nextLabel: String
    let nextAmount: String?
    let nextDue: String?
}
