import Foundation
import LendingCore
import Providers

/// What every workbench page shows around its content.
struct ConsoleChrome: Encodable {
    let title: String
    let csrf: String
    let sandbox: Bool
    let staffName: String?
    let staffLogin: String?
    let roleTitle: String?
    let branch: String?
    let canList: Bool
    /// Leads and customers (the manager's loop): shown to roles that follow up leads.
    var canFollowLeads: Bool = false
    /// Rollout branch by branch (admins).
    var canManageBranches: Bool = false
    /// The funnel (aggregates, within the member's scope).
    var canViewReports: Bool = false
    /// Credit-policy versions (risk reviewers manage them; auditors read them).
    var canViewPolicies: Bool = false
    /// Whether the role has customer managers' codes and posters (我的推广码).
    var canMarket = false
    /// The audit trail, its verification and the reveal log (auditors).
    var canViewAudit = false
    /// Privacy requests and their deadlines (compliance).
    var canHandlePrivacy = false
}

struct ConsoleHomeContext: Encodable {
    let page: ConsoleChrome
}

struct ConsoleSignInContext: Encodable {
    let page: ConsoleChrome
    let form: FormState
}

struct ConsoleEnrolContext: Encodable {
    let page: ConsoleChrome
    let otpauthURI: String?
    let form: FormState
    /// The URI as a QR code (libqrencode), an inline SVG made here from the URI alone.
    var qrSVG: String? { otpauthURI.flatMap { try? QRCode($0).svg(pixels: 220, label: "动态验证码绑定二维码") } }

    enum CodingKeys: String, CodingKey { case page, otpauthURI, form, qrSVG }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(page, forKey: .page)
        try c.encodeIfPresent(otpauthURI, forKey: .otpauthURI)
        try c.encode(form, forKey: .form)
        try c.encodeIfPresent(qrSVG, forKey: .qrSVG)
    }
}

struct ConsoleQueueContext: Encodable {
    struct Row: Encodable {
        let href: String
        let shortID: String
        let applicant: String
        let phone: String
        let state: String
        let stateTitle: String
        let branch: String
        let manager: String
        let age: String
        let dueBy: String
        let overdue: Bool
        let pendingConfirmation: Bool
    }

    struct BranchChoice: Encodable {
        let code: String
        let name: String
        var selected = false
    }

    let page: ConsoleChrome
    let state: String
    let branch: String
    let rows: [Row]
    let total: Int
    let pageNumber: Int
    let previous: String?
    let next: String?
    let branches: [BranchChoice]
    let states: [BranchChoice]

    init(page: ConsoleChrome, state: String, branch: String, list: StaffApplicationListView, names: [String: String], branches: [BranchChoice], now: Date) {
        self.page = page
        self.state = state
        self.branch = branch
        rows = list.items.map { item in
            Row(
                href: ConsolePaths.application(item.id), shortID: String(item.id.uuidString.prefix(8)).lowercased(),
                applicant: item.applicant.name, phone: item.applicant.phone, state: item.state,
                stateTitle: ApplicationStateText.chinese(item.state), branch: item.branch ?? "—",
                manager: item.manager.map { code in names[code].map { "\($0)（\(code)）" } ?? code } ?? "—",
                age: ConsoleLabels.age(from: item.referredAt ?? item.createdAt, to: now),
                dueBy: item.dueBy.map(ConsoleLabels.time) ?? "—", overdue: item.overdue, pendingConfirmation: item.pendingConfirmation)
        }
        total = list.total
        pageNumber = list.page
        func link(_ page: Int) -> String { "\(ConsolePaths.queue)?state=\(state)&branch=\(branch)&page=\(page)" }
        previous = list.page > 1 ? link(list.page - 1) : nil
        next = list.page * list.pageSize < list.total ? link(list.page + 1) : nil
        self.branches = branches.map { var b = $0; b.selected = $0.code == branch; return b }
        states = [("referred", "待人工审核"), ("approved", "已获批"), ("declined", "未通过"), ("all", "全部")].map {
            BranchChoice(code: $0.0, name: $0.1, selected: $0.0 == state)
        }
    }
}

struct ConsoleApplicationContext: Encodable {
    struct Revealed: Encodable {
        let label: String
        let value: String
    }

    struct Preview: Encodable {
        let creditLimit: String
        let annualRate: String
        let apr: String
        let needsSecondReview: Bool
    }

    struct Reason: Encodable {
        let code: String
        let title: String
    }

    struct Policy: Encodable {
        let maxLimit: String
        let minRate: String
        let maxRate: String
        let secondReviewAbove: String
    }

    let page: ConsoleChrome
    let detail: StaffApplicationDetailView
    let form: FormState
    let revealed: Revealed?
    let preview: Preview?
    let canReview: Bool
    let canConfirm: Bool
    let ownPending: Bool
    let canReveal: Bool
    let declineReasons: [Reason]
    let policy: Policy
    var stateTitle: String { ApplicationStateText.chinese(detail.state) }
    var pendingReview: StaffApplicationDetailView.Review? { detail.reviews.last { $0.state == ReviewDecision.State.awaitingConfirmation } }
    var dueBy: String? { detail.dueBy.map(ConsoleLabels.time) }
    var referredAt: String? { detail.referredAt.map(ConsoleLabels.time) }

    enum CodingKeys: String, CodingKey {
        case page, detail, form, revealed, preview, canReview, canConfirm, ownPending, canReveal, declineReasons, policy
        case stateTitle, pendingReview, dueBy, referredAt, reviewRows, factRows, outcomeTitle
    }

    struct FactRow: Encodable {
        let label: String
        let value: String
    }

    /// The applicant's facts in the words of the form they filled in.
    var factRows: [FactRow] {
        guard let f = detail.facts else { return [] }
        func title(_ list: [(String, String)], _ code: String) -> String { list.first { $0.0 == code }?.1 ?? code }
        let purpose = LoanOfferRules.purposes.first { $0.code == f.loanPurpose }?.titleZh ?? f.loanPurpose
        return [
            .init(label: "职业", value: title(AboutYouFacts.employmentTypes, f.employmentType)),
            .init(label: "月收入（元）", value: f.monthlyIncome),
            .init(label: "住房", value: title(AboutYouFacts.housingTypes, f.housing)),
            .init(label: "婚姻", value: title(AboutYouFacts.maritalStatuses, f.maritalStatus)),
            .init(label: "学历", value: title(AboutYouFacts.educationLevels, f.education)),
            .init(label: "借款用途", value: purpose),
        ]
    }

    var outcomeTitle: String { detail.decision.map { ApplicationStateText.chinese($0.outcome) } ?? "" }

    struct ReviewRow: Encodable {
        let who: String
        let what: String
        let when: String
        let status: String
        let note: String?
        let confirmation: String?
    }

    var reviewRows: [ReviewRow] {
        detail.reviews.map { r in
            let what = r.decision == "approve"
                ? "批准 额度\(r.creditLimit ?? "")元 · 年利率\(r.annualRate ?? "")% · 年化利率\(r.apr ?? "")%"
                : "拒绝：\(ManualReview.declineReasons.first { $0.code == r.reason }?.titleZh ?? r.reason ?? "")"
            let status: String =
                switch r.state {
                case ReviewDecision.State.awaitingConfirmation: "待复核"
                case ReviewDecision.State.confirmed: "已复核通过"
                case ReviewDecision.State.rejected: "复核退回"
                default: "已生效"
                }
            let confirmation = r.confirmer.map { "复核人 \($0)" + (r.confirmationNote.map { "：\($0)" } ?? "") }
            return ReviewRow(who: r.reviewer, what: what, when: ConsoleLabels.time(r.decidedAt), status: status, note: r.note, confirmation: confirmation)
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(page, forKey: .page)
        try c.encode(detail, forKey: .detail)
        try c.encode(form, forKey: .form)
        try c.encodeIfPresent(revealed, forKey: .revealed)
        try c.encodeIfPresent(preview, forKey: .preview)
        try c.encode(canReview, forKey: .canReview)
        try c.encode(canConfirm, forKey: .canConfirm)
        try c.encode(ownPending, forKey: .ownPending)
        try c.encode(canReveal, forKey: .canReveal)
        try c.encode(declineReasons, forKey: .declineReasons)
        try c.encode(policy, forKey: .policy)
        try c.encode(stateTitle, forKey: .stateTitle)
        try c.encodeIfPresent(pendingReview, forKey: .pendingReview)
        try c.encodeIfPresent(dueBy, forKey: .dueBy)
        try c.encodeIfPresent(referredAt, forKey: .referredAt)
        try c.encode(reviewRows, forKey: .reviewRows)
        try c.encode(factRows, forKey: .factRows)
        try c.encode(outcomeTitle, forKey: .outcomeTitle)
    }
}

enum ConsoleLabels {
    static func role(_ role: StaffPermissions.Role) -> String {
        switch role {
        case .customerManager: "客户经理"
        case .branchHead: "分行负责人"
        case .riskReviewer: "风险审核员"
        case .admin: "系统管理员"
        case .auditor: "审计员"
        case .compliance: "合规专员"
        }
    }

    static func time(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "zh_CN")
        f.timeZone = BusinessCalendar.timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    static func age(from: Date, to: Date) -> String {
        let minutes = max(0, Int(to.timeIntervalSince(from) / 60))
        if minutes < 60 { return "\(minutes)分钟" }
        if minutes < 48 * 60 { return "\(minutes / 60)小时" }
        return "\(minutes / 1440)天"
    }
}

/// 我的推广码: a manager's code, its downloads, the posters and the landing counts.
struct ConsoleMarketingContext: Encodable {
    struct Choice: Encodable {
        let code: String
        let title: String
        let selected: Bool
    }

    struct Download: Encodable {
        let title: String
        let href: String
        let fileName: String
        let id: String
    }

    struct Poster: Encodable {
        let title: String
        let href: String
        let fileName: String
        let id: String
    }

    let page: ConsoleChrome
    /// nil when the member has no code and chose none (a branch head or admin before choosing).
    let manager: ManagerView?
    let choices: [Choice]
    let downloads: [Download]
    let posters: [Poster]
    let miniProgram: Download?
    let sandbox: Bool
    let qrSVG: String?
    let counts: [LandingCountRow]
    let totalScans: Int
    let totalVisits: Int
    let from: String
    let to: String
    let rates: String?

    struct ManagerView: Encodable {
        let code: String
        let name: String
        let branch: String
        let url: String
    }
}
