import LendingCore
import Testing

@Suite("The staff role table and scope decisions")
struct StaffPermissionTests {
    typealias Role = StaffPermissions.Role
    typealias Action = StaffPermissions.Action
    typealias Scope = StaffPermissions.Scope

    /// The bank's role table written out as a grid, independently of the source: one row per role, one column
    /// per action in `columns` order. o = own customers, b = branch, w = bank-wide, n = not allowed.
    static let columns: [Action] = [
        .viewApplication, .listApplications, .revealPersonalData, .reassignApplication, .followUpLead,
        .reviewApplication, .confirmReview, .viewDecisionDetails, .manageStaff, .manageBranches, .viewAuditTrail,
        .handlePrivacyRequest, .viewMarketingMaterial, .messageApplicant, .nudgeCustomer, .viewReports, .managePolicy,
    ]
    static let grid: [([Scope], Role)] = {
        let (o, b, w, n): (Scope, Scope, Scope, Scope) = (.ownCustomers, .branch, .bankWide, .none)
        return [
            // view list reveal reassign follow review confirm details staff branches audit privacy material message nudge reports policy
            ([o, o, o, n, o, n, n, n, n, n, n, n, o, o, o, o, n], .customerManager),
            ([b, b, b, b, b, n, n, n, n, n, n, n, b, b, b, b, n], .branchHead),
            ([w, w, n, n, n, w, w, w, n, n, n, n, n, n, n, w, w], .riskReviewer),
            ([n, n, n, n, n, n, n, n, w, w, n, n, w, n, n, w, n], .admin),
            ([w, w, n, n, n, n, n, w, n, n, w, n, n, n, n, w, n], .auditor),
            ([w, n, n, n, n, n, n, n, n, n, n, w, n, n, n, n, n], .compliance),
        ]
    }()

    static func expectedScope(_ role: Role, _ action: Action) -> Scope {
        let row = grid.first { $0.1 == role }!.0
        return row[columns.firstIndex(of: action)!]
    }

    static let parents = [
        "SZ": "HO", "SZ-NS": "SZ", "SZ-FT": "SZ", "WH": "HO", "WH-JH": "WH", "WH-WC": "WH", "SH": "HO",
        "SH-PD": "SH", "SH-HP": "SH",
    ]

    static func target(manager: String?, branch: String?) -> TargetScopeFacts {
        TargetScopeFacts(lastTouchManagerCode: manager, branchCode: branch, branchParents: parents)
    }

    @Test("the grid covers every role and action, and the raw values are the stored strings")
    func shape() {
        #expect(Set(Self.columns) == Set(Action.allCases) && Self.columns.count == Action.allCases.count)
        #expect(Self.grid.map(\.1) == Role.allCases && Self.grid.allSatisfy { $0.0.count == Self.columns.count })
        #expect(
            Role.allCases.map(\.rawValue)
                == ["customer_manager", "branch_head", "risk_reviewer", "admin", "auditor", "compliance"])
        #expect(Action.allCases.map(\.rawValue) == Self.columns.map(\.rawValue))
        #expect(Role(rawValue: "branch_head") == .branchHead)
    }

    @Test("every role is granted exactly its row of the table", arguments: Role.allCases, Action.allCases)
    func row(role: Role, action: Action) {
        #expect(StaffPermissions.scope(for: role, action: action) == Self.expectedScope(role, action))
    }

    @Test("only the auditor is read-only and it is never allowed a data-changing action")
    func auditorReadOnly() {
        #expect(Role.allCases.filter(\.isReadOnly) == [.auditor])
        let anything = Self.target(manager: nil, branch: "SZ-NS")
        let auditor = StaffScopeFacts(managerCode: nil, branchCode: "HO")
        for action in Action.allCases where action.changesData {
            #expect(StaffPermissions.scope(for: .auditor, action: action) == Scope.none)
            #expect(!StaffPermissions.allows(role: .auditor, action: action, staff: auditor, target: anything))
        }
        #expect(StaffPermissions.allows(role: .auditor, action: .viewAuditTrail, staff: auditor, target: anything))
    }

    @Test("the data-changing actions are the ones that write")
    func changesData() {
        #expect(
            Set(Action.allCases.filter(\.changesData))
                == [
                    .reassignApplication, .followUpLead, .reviewApplication, .confirmReview, .manageStaff,
                    .manageBranches, .handlePrivacyRequest, .messageApplicant, .nudgeCustomer, .managePolicy,
                ])
    }

    @Test("a customer manager reaches their own customers and not another manager's")
    func ownCustomers() {
        let cm = StaffScopeFacts(managerCode: "SZ-0001", branchCode: "SZ-NS")
        let own = Self.target(manager: "SZ-0001", branch: "SZ-NS")
        let colleagues = Self.target(manager: "SZ-0002", branch: "SZ-NS")
        for action in [Action.viewApplication, .listApplications, .followUpLead, .revealPersonalData] {
            #expect(StaffPermissions.allows(role: .customerManager, action: action, staff: cm, target: own))
            #expect(!StaffPermissions.allows(role: .customerManager, action: action, staff: cm, target: colleagues))
        }
        #expect(
            !StaffPermissions.allows(
                role: .customerManager, action: .viewApplication, staff: cm,
                target: Self.target(manager: nil, branch: "SZ-NS")))
        #expect(!StaffPermissions.allows(role: .customerManager, action: .reassignApplication, staff: cm, target: own))
    }

    @Test("staff without a manager code have no own customers, even an application without one")
    func missingManagerCode() {
        let noCode = StaffScopeFacts(managerCode: nil, branchCode: "SZ")
        #expect(
            !StaffPermissions.allows(
                role: .customerManager, action: .viewApplication, staff: noCode,
                target: Self.target(manager: nil, branch: "SZ")))
        let emptyCode = StaffScopeFacts(managerCode: "", branchCode: "SZ")
        #expect(
            !StaffPermissions.allows(
                role: .customerManager, action: .viewApplication, staff: emptyCode,
                target: Self.target(manager: "", branch: "SZ")))
    }

    @Test("a branch head reaches their branch and its sub-branches, not another branch or head office")
    func branchScope() {
        let head = StaffScopeFacts(managerCode: nil, branchCode: "SZ")
        for branch in ["SZ", "SZ-NS", "SZ-FT"] {
            #expect(
                StaffPermissions.allows(
                    role: .branchHead, action: .reassignApplication, staff: head,
                    target: Self.target(manager: "SZ-0001", branch: branch)))
        }
        for branch: String? in ["WH", "WH-JH", "SH-PD", "HO", "XX-UNKNOWN", nil] {
            #expect(
                !StaffPermissions.allows(
                    role: .branchHead, action: .revealPersonalData, staff: head,
                    target: Self.target(manager: "SZ-0001", branch: branch)))
        }
        #expect(
            !StaffPermissions.allows(
                role: .branchHead, action: .reviewApplication, staff: head,
                target: Self.target(manager: nil, branch: "SZ-NS")))
    }

    @Test("branch scope follows the hierarchy to any depth and survives a cycle in bad data")
    func hierarchy() {
        let deep = ["SZ-NS-1": "SZ-NS", "SZ-NS": "SZ", "SZ": "HO"]
        #expect(StaffPermissions.isBranch("SZ-NS-1", within: "SZ", parents: deep))
        #expect(StaffPermissions.isBranch("SZ-NS-1", within: "HO", parents: deep))
        #expect(!StaffPermissions.isBranch("SZ", within: "SZ-NS", parents: deep))
        #expect(!StaffPermissions.isBranch("A", within: "C", parents: ["A": "B", "B": "A"]))
        #expect(StaffPermissions.branchCodes(within: "SZ", parents: Self.parents) == ["SZ", "SZ-NS", "SZ-FT"])
        #expect(StaffPermissions.branchCodes(within: "HO", parents: Self.parents).count == 10)
    }

    @Test("bank-wide roles reach every branch; the admin never reaches an application")
    func bankWide() {
        let reviewer = StaffScopeFacts(managerCode: nil, branchCode: "HO")
        let anywhere = Self.target(manager: "WH-0002", branch: "WH-WC")
        #expect(StaffPermissions.allows(role: .riskReviewer, action: .confirmReview, staff: reviewer, target: anywhere))
        #expect(
            !StaffPermissions.allows(
                role: .riskReviewer, action: .revealPersonalData, staff: reviewer,
                target: anywhere))
        #expect(
            StaffPermissions.allows(
                role: .compliance, action: .handlePrivacyRequest, staff: reviewer,
                target: Self.target(manager: nil, branch: nil)))
        for action in Action.allCases where ![.manageStaff, .manageBranches, .viewMarketingMaterial, .viewReports].contains(action) {
            #expect(!StaffPermissions.allows(role: .admin, action: action, staff: reviewer, target: anywhere))
        }
    }
}
