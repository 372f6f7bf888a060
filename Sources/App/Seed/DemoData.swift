import Fluent
import Foundation
import Vapor

/// The demo organisation of domain.md: head office, three branches with two sub-branches each,
/// customer managers with their QR codes, branch heads, risk reviewers, an admin and an auditor.
/// Seeding is idempotent: existing rows are left as they are.
enum DemoData {
    struct BranchSeed {
        let code: String
        let name: String
        let parent: String?
        let level: String
        let online: Bool
        let pilot: Bool

        /// The city the branch serves for leads (its sub-branches the same); none for the head office.
        var city: String? { ["SZ": "深圳", "WH": "武汉", "SH": "上海"][String(code.prefix(2))] }
    }

    struct StaffSeed {
        let login: String
        let name: String
        let role: String
        let branch: String
        let managerCode: String?
    }

    static let demoPassword = "yidai-demo"

    static let branches: [BranchSeed] = [
        .init(code: "HO", name: "总行", parent: nil, level: "head_office", online: true, pilot: false),
        .init(code: "SZ", name: "深圳分行", parent: "HO", level: "branch", online: true, pilot: true),
        .init(code: "SZ-NS", name: "深圳南山支行", parent: "SZ", level: "sub_branch", online: true, pilot: true),
        .init(code: "SZ-FT", name: "深圳福田支行", parent: "SZ", level: "sub_branch", online: true, pilot: true),
        .init(code: "WH", name: "武汉分行", parent: "HO", level: "branch", online: true, pilot: true),
        .init(code: "WH-JH", name: "武汉江汉支行", parent: "WH", level: "sub_branch", online: true, pilot: true),
        .init(code: "WH-WC", name: "武汉武昌支行", parent: "WH", level: "sub_branch", online: true, pilot: true),
        .init(code: "SH", name: "上海分行", parent: "HO", level: "branch", online: false, pilot: false),
        .init(code: "SH-PD", name: "上海浦东支行", parent: "SH", level: "sub_branch", online: false, pilot: false),
        .init(code: "SH-HP", name: "上海黄浦支行", parent: "SH", level: "sub_branch", online: false, pilot: false),
    ]

    static let staff: [StaffSeed] = [
        .init(login: "sz-cm1", name: "林晓", role: "customer_manager", branch: "SZ-NS", managerCode: "SZ-0001"),
        .init(login: "sz-cm2", name: "郑楠", role: "customer_manager", branch: "SZ-FT", managerCode: "SZ-0002"),
        .init(login: "sz-head", name: "何平", role: "branch_head", branch: "SZ", managerCode: nil),
        .init(login: "wh-cm1", name: "胡蓉", role: "customer_manager", branch: "WH-JH", managerCode: "WH-0001"),
        .init(login: "wh-cm2", name: "马超", role: "customer_manager", branch: "WH-WC", managerCode: "WH-0002"),
        .init(login: "wh-head", name: "邓华", role: "branch_head", branch: "WH", managerCode: nil),
        .init(login: "sh-cm1", name: "钱程", role: "customer_manager", branch: "SH-PD", managerCode: "SH-0001"),
        .init(login: "sh-cm2", name: "韩雪", role: "customer_manager", branch: "SH-HP", managerCode: "SH-0002"),
        .init(login: "sh-head", name: "沈亮", role: "branch_head", branch: "SH", managerCode: nil),
        .init(login: "risk1", name: "罗敏", role: "risk_reviewer", branch: "HO", managerCode: nil),
        .init(login: "risk2", name: "唐杰", role: "risk_reviewer", branch: "HO", managerCode: nil),
        .init(login: "admin", name: "总行管理员", role: "admin", branch: "HO", managerCode: nil),
        // Works the head office's lead queue (leads from cities no branch serves); as a branch head of HO it sees every branch.
        .init(login: "ho-retail", name: "许宁", role: "branch_head", branch: "HO", managerCode: nil),
        .init(login: "auditor", name: "审计员", role: "auditor", branch: "HO", managerCode: nil),
        // Privacy requests under PIPL (access, correction, erasure) and their deadlines.
        .init(login: "compliance", name: "合规专员", role: "compliance", branch: "HO", managerCode: nil),
    ]

    static func seed(on db: Database, logger: Logger, clock: AppClock) async throws {
        var created = 0
        for seed in branches where try await Branch.query(on: db).filter(\.$code == seed.code).first() == nil {
            let branch = Branch()
            branch.code = seed.code
            branch.name = seed.name
            branch.parentCode = seed.parent
            branch.level = seed.level
            branch.onlineEnabled = seed.online
            branch.pilot = seed.pilot
            branch.city = seed.city
            try await branch.create(on: db)
            created += 1
        }
        // Branches seeded before cities existed get theirs (a city set by the bank is left as it is).
        for seed in branches {
            guard let city = seed.city else { continue }
            try await Branch.query(on: db).filter(\.$code == seed.code).filter(\.$city == nil).set(\.$city, to: city).update()
        }
        var passwordHash: String?
        for seed in staff where try await StaffMember.query(on: db).filter(\.$login == seed.login).first() == nil {
            if passwordHash == nil { passwordHash = try Bcrypt.hash(demoPassword, cost: 10) }
            let member = StaffMember()
            member.login = seed.login
            member.displayName = seed.name
            member.role = seed.role
            member.branchCode = seed.branch
            member.managerCode = seed.managerCode
            member.passwordHash = passwordHash!
            member.active = true
            try await member.create(on: db)
            created += 1
        }
        if created > 0 { logger.notice("Seeded the demo organisation (\(created) rows).") }
    }

    /// In sandbox mode every demo login is enrolled with the one documented TOTP secret, so anyone can sign in
    /// (README). A member who already has a second factor keeps it. Production refuses to start while any member
    /// still has this secret (`ProductionGuard.checkStaff`).
    static func enrolDemoSecondFactor(on db: Database, cipher: FieldCipher, clock: AppClock) async throws {
        let logins = staff.map(\.login)
        let members = try await StaffMember.query(on: db).filter(\.$login ~~ logins).filter(\.$totpSecretSealed == nil).all()
        guard !members.isEmpty else { return }
        let now = clock.now()
        try await db.writeTransaction { tx in
            for member in members {
                member.totpSecretSealed = try cipher.seal(StaffSignIn.demoTOTPSecret)
                member.totpEnrolledAt = now
                try await member.save(on: tx)
            }
        }
    }

    /// Publishes Policies/credit on first start, so the journey has an active credit policy.
    static func publishShippedPolicy(_ app: Application) async throws {
        if try await app.yidai.policies.active(on: app.db) != nil { return }
        let folder = app.yidai.config.policyDirectory
        let version = try await app.yidai.policies.publish(folderPath: folder, by: "system (first start)", on: app.db, now: app.yidai.clock.now())
        app.logger.notice("Published the shipped credit policy \(PolicyStore.label(version)) (sha256 \(version.sha256.prefix(12))…).")
    }
}
