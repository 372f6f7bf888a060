/// What a staff member may do to what, as data: the bank's role table (role → action → scope) and one pure
/// decision over facts the caller has already loaded, so every workbench route asks the same question the
/// same way and the table can be read, tested and audited in one place.
///
/// Anything the table does not grant is refused (`Scope.none`): a new action is closed until someone adds it.
/// Callers answer a refusal for a specific record with 404, like a missing id, so staff cannot probe which
/// applications exist outside their scope.
public enum StaffPermissions {
    /// A staff role; raw values are the strings stored on staff records and shown in the audit trail.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        /// Their own leads and customers: the applications that last came in through their QR code.
        case customerManager = "customer_manager"
        /// Everything in their branch and its sub-branches, and who looks after it.
        case branchHead = "branch_head"
        /// The manual review queue, bank-wide, without the customer's identity in clear.
        case riskReviewer = "risk_reviewer"
        /// Branches, staff and rollout; never personal data.
        case admin
        /// Reads what happened, bank-wide; changes nothing.
        case auditor
        /// Privacy requests (access, correction, erasure) under PIPL.
        case compliance

        /// A read-only role is never granted an action that changes data, whatever the table says, so an
        /// auditor's findings cannot be about their own changes.
        public var isReadOnly: Bool { self == .auditor }
    }

    /// Something a staff member does in the workbench.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        case viewApplication
        case listApplications
        /// Show a masked personal value (name, ID number, phone, card) in clear; audited each time.
        case revealPersonalData
        case reassignApplication
        case followUpLead
        case reviewApplication
        case confirmReview
        case viewDecisionDetails
        case manageStaff
        case manageBranches
        case viewAuditTrail
        case handlePrivacyRequest
        /// A customer manager's personal QR code, mini-program code and posters (their own; a branch head or admin
        /// any manager's within their scope, judged by the manager's branch).
        case viewMarketingMaterial
        /// Talk with an applicant in 云接洽 (the application's conversation).
        case messageApplicant
        /// Send a customer a templated reminder to finish their application.
        case nudgeCustomer
        /// The funnel and daily figures (aggregates, nothing personal): a manager their own, a branch head the
        /// branch, the head office everything.
        case viewReports
        /// Upload a credit-policy candidate, shadow-replay it, and publish or roll back (a second risk person confirms).
        case managePolicy

        /// Whether doing this writes something (beyond its own audit record); read-only roles never may.
        public var changesData: Bool {
            switch self {
            case .reassignApplication, .followUpLead, .reviewApplication, .confirmReview, .manageStaff,
                .manageBranches, .handlePrivacyRequest, .messageApplicant, .nudgeCustomer, .managePolicy:
                true
            case .viewApplication, .listApplications, .revealPersonalData, .viewDecisionDetails, .viewAuditTrail,
                .viewMarketingMaterial, .viewReports:
                false
            }
        }
    }

    /// How far a grant reaches, from narrowest to widest, plus `none` for no grant.
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        /// Applications whose last-touch manager code is the staff member's own manager code.
        case ownCustomers
        /// Applications of the staff member's branch or any branch below it.
        case branch
        /// Every application in the bank, or an action that concerns no single branch.
        case bankWide
        /// Not allowed.
        case none
    }

    /// The role table. Actions a role does not list are `.none`.
    public static let table: [Role: [Action: Scope]] = [
        .customerManager: [
            .viewApplication: .ownCustomers, .listApplications: .ownCustomers, .followUpLead: .ownCustomers,
            .revealPersonalData: .ownCustomers, .viewMarketingMaterial: .ownCustomers, .messageApplicant: .ownCustomers,
            .nudgeCustomer: .ownCustomers, .viewReports: .ownCustomers,
        ],
        .branchHead: [
            .viewApplication: .branch, .listApplications: .branch, .followUpLead: .branch,
            .revealPersonalData: .branch, .reassignApplication: .branch, .viewMarketingMaterial: .branch,
            .messageApplicant: .branch, .nudgeCustomer: .branch, .viewReports: .branch,
        ],
        .riskReviewer: [
            .listApplications: .bankWide, .viewApplication: .bankWide, .viewDecisionDetails: .bankWide,
            .reviewApplication: .bankWide, .confirmReview: .bankWide, .viewReports: .bankWide, .managePolicy: .bankWide,
        ],
        .admin: [.manageStaff: .bankWide, .manageBranches: .bankWide, .viewMarketingMaterial: .bankWide, .viewReports: .bankWide],
        .auditor: [
            .viewApplication: .bankWide, .listApplications: .bankWide, .viewDecisionDetails: .bankWide,
            .viewAuditTrail: .bankWide, .viewReports: .bankWide,
        ],
        .compliance: [.handlePrivacyRequest: .bankWide, .viewApplication: .bankWide],
    ]

    /// How far `role` may do `action`; `.none` when not at all (including any data change by a read-only role).
    public static func scope(for role: Role, action: Action) -> Scope {
        if role.isReadOnly && action.changesData { return .none }
        return table[role]?[action] ?? Scope.none
    }

    /// Whether a staff member with `role` and `staff` facts may do `action` to the record described by `target`.
    /// Missing facts never widen access: no manager code on either side means not their customer, and a target
    /// without a branch is outside every branch scope.
    public static func allows(
        role: Role, action: Action, staff: StaffScopeFacts, target: TargetScopeFacts
    ) -> Bool {
        switch scope(for: role, action: action) {
        case .none:
            return false
        case .bankWide:
            return true
        case .ownCustomers:
            guard let own = staff.managerCode, !own.isEmpty else { return false }
            return target.lastTouchManagerCode == own
        case .branch:
            guard let branch = target.branchCode else { return false }
            return isBranch(branch, within: staff.branchCode, parents: target.branchParents)
        }
    }

    /// Whether `branch` is `ancestor` or lies below it (any depth) in the child → parent map. A cycle in the
    /// map (bad data) ends the walk with false instead of looping.
    public static func isBranch(_ branch: String, within ancestor: String, parents: [String: String]) -> Bool {
        var current = branch
        var seen: Set<String> = []
        while seen.insert(current).inserted {
            if current == ancestor { return true }
            guard let parent = parents[current] else { return false }
            current = parent
        }
        return false
    }

    /// `ancestor` and every branch below it, for filtering a list query by branch scope in one `IN (…)`.
    public static func branchCodes(within ancestor: String, parents: [String: String]) -> Set<String> {
        var codes: Set<String> = [ancestor]
        for child in parents.keys where isBranch(child, within: ancestor, parents: parents) {
            codes.insert(child)
        }
        return codes
    }
}

/// The facts about the acting staff member that scopes depend on.
public struct StaffScopeFacts: Sendable, Hashable {
    /// Their customer-manager code (`SZ-0001`), nil for staff who bring in no customers.
    public var managerCode: String?
    /// The branch they belong to (`SZ`, `SZ-NS`, `HO`).
    public var branchCode: String

    public init(managerCode: String?, branchCode: String) {
        self.managerCode = managerCode
        self.branchCode = branchCode
    }
}

/// The facts about the record acted on that scopes depend on, with the branch hierarchy to resolve them.
public struct TargetScopeFacts: Sendable, Hashable {
    /// The manager code the application last came in through (last touch, within 30 days), if any.
    public var lastTouchManagerCode: String?
    /// The branch the application belongs to, if it has one yet.
    public var branchCode: String?
    /// Every branch's parent, child code → parent code (`SZ-NS` → `SZ` → `HO`); roots have no entry.
    public var branchParents: [String: String]

    public init(lastTouchManagerCode: String?, branchCode: String?, branchParents: [String: String]) {
        self.lastTouchManagerCode = lastTouchManagerCode
        self.branchCode = branchCode
        self.branchParents = branchParents
    }
}
