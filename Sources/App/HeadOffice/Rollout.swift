import Fluent
import Foundation
import LendingCore
import Vapor

/// Switching the product on branch by branch. A branch is open to new applicants when it and every branch above it
/// are online; switching a branch writes the flag on it and its sub-branches at once, audited with who and why.
/// Applications already started are never cut off: only a new application through a manager of a branch that is
/// not online is refused (`branch_not_online`), and the person is offered the lead page instead.
struct Rollout {
    let db: Database
    let services: YidaiServices

    struct BranchView: Content {
        let code: String
        let name: String
        let parent: String?
        let level: String
        let city: String?
        let online: Bool
        let pilot: Bool
        /// Online itself and every branch above it: new applications through its managers are taken.
        let effectiveOnline: Bool
    }

    struct BranchList: Content { let items: [BranchView] }

    struct Update: Content {
        var online: Bool?
        var pilot: Bool?
        var reason: String?
    }

    static func effectiveOnline(_ code: String, branches: [String: Branch]) -> Bool {
        var current: String? = code
        var seen: Set<String> = []
        while let c = current, seen.insert(c).inserted {
            guard let branch = branches[c], branch.onlineEnabled else { return false }
            current = branch.parentCode
        }
        return true
    }

    func branches() async throws -> [String: Branch] {
        Dictionary(try await Branch.query(on: db).all().map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func list() async throws -> BranchList {
        let all = try await branches()
        return BranchList(items: all.values.sorted { $0.code < $1.code }.map { view($0, all) })
    }

    func view(_ branch: Branch, _ all: [String: Branch]) -> BranchView {
        BranchView(code: branch.code, name: branch.name, parent: branch.parentCode, level: branch.level, city: branch.city,
                   online: branch.onlineEnabled, pilot: branch.pilot, effectiveOnline: Self.effectiveOnline(branch.code, branches: all))
    }

    /// Whether a new application may start through manager `code` (nil: no manager, always).
    func acceptsNewApplications(throughManager code: String?) async throws -> Bool {
        guard let code, let manager = try await StaffMember.query(on: db).filter(\.$managerCode == code).first() else { return true }
        return Self.effectiveOnline(manager.branchCode, branches: try await branches())
    }

    static let notOnline = APIError(
        .forbidden, code: "branch_not_online",
        message: "Online applications have not opened yet in this manager's branch; leave your details at /lead and the branch will call you.",
        messageZh: "该地区即将开通线上申请，您可以先留下联系方式，客户经理会与您联系。")

    func update(_ code: String?, _ body: Update, actor: StaffPrincipal) async throws -> BranchView {
        guard let code, let branch = try await Branch.query(on: db).filter(\.$code == code.uppercased()).first() else {
            throw APIError.notFound("branch")
        }
        guard body.online != nil || body.pilot != nil else {
            throw APIError.invalid("online", "Send online and/or pilot (true or false).", zh: "请指定上线或试点状态。")
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard reason.count >= 2, reason.count <= 200 else {
            throw APIError.invalid("reason", "reason is required (2 to 200 characters): why the branch is switched.", zh: "请填写调整原因（2–200字）。")
        }
        let all = try await branches()
        let parents = Dictionary(all.values.compactMap { b in b.parentCode.map { (b.code, $0) } }, uniquingKeysWith: { a, _ in a })
        let affected = StaffPermissions.branchCodes(within: branch.code, parents: parents).sorted()
        let services = services
        try await db.writeTransaction { tx in
            var update = Branch.query(on: tx).filter(\.$code ~~ affected)
            if let online = body.online { update = update.set(\.$onlineEnabled, to: online) }
            if let pilot = body.pilot { update = update.set(\.$pilot, to: pilot) }
            try await update.update()
            var details = ["branch": branch.code, "branches": affected.joined(separator: ","), "reason": reason]
            if let online = body.online { details["online"] = String(online) }
            if let pilot = body.pilot { details["pilot"] = String(pilot) }
            try await AuditTrail(db: tx, services: services).record(application: nil, actor: "staff:" + actor.login, action: "branch.switched", details: details)
        }
        let after = try await branches()
        return view(after[branch.code]!, after)
    }
}
