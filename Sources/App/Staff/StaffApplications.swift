import Fluent
import Foundation
import LendingCore
import Vapor

/// The workbench's view of applications, for one signed-in member of staff. Every application it hands out has
/// passed the role table's scope check (`StaffPermissions.allows`) for the action asked; anything else is 404,
/// exactly like an id that does not exist.
struct StaffApplications {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    static let pageSize = 20
    var now: Date { services.clock.now() }
    var cipher: FieldCipher { services.cipher }
    var vault: PersonVault { PersonVault(db: db, services: services) }

    // MARK: - Scope

    /// The organisation as scope needs it: branch parents, and each manager code's branch and name.
    struct Organisation: Sendable {
        let parents: [String: String]
        let managerBranch: [String: String]
        let managerName: [String: String]

        func branch(of application: LoanApplication) -> String? { application.cmLast.flatMap { managerBranch[$0] } }

        /// Manager codes whose branch is `branch` or below it.
        func managerCodes(within branch: String) -> [String] {
            let branches = StaffPermissions.branchCodes(within: branch, parents: parents)
            return managerBranch.filter { branches.contains($0.value) }.map(\.key).sorted()
        }
    }

    func organisation() async throws -> Organisation {
        let branches = try await Branch.query(on: db).all()
        let managers = try await StaffMember.query(on: db).filter(\.$managerCode != nil).all()
        return Organisation(
            parents: Dictionary(branches.compactMap { b in b.parentCode.map { (b.code, $0) } }, uniquingKeysWith: { a, _ in a }),
            managerBranch: Dictionary(managers.compactMap { m in m.managerCode.map { ($0, m.branchCode) } }, uniquingKeysWith: { a, _ in a }),
            managerName: Dictionary(managers.compactMap { m in m.managerCode.map { ($0, m.displayName) } }, uniquingKeysWith: { a, _ in a }))
    }

    func allows(_ action: StaffPermissions.Action, _ application: LoanApplication, _ org: Organisation) -> Bool {
        let target = TargetScopeFacts(lastTouchManagerCode: application.cmLast, branchCode: org.branch(of: application), branchParents: org.parents)
        return StaffPermissions.allows(role: principal.role, action: action, staff: principal.scopeFacts, target: target)
    }

    /// The application if it exists and `action` is within this member's scope; 404 otherwise.
    func find(_ id: UUID?, for action: StaffPermissions.Action) async throws -> (LoanApplication, Organisation) {
        guard let id, let application = try await LoanApplication.find(id, on: db) else { throw APIError.notFound("application") }
        let org = try await organisation()
        guard allows(action, application, org) else { throw APIError.notFound("application") }
        return (application, org)
    }

    // MARK: - The queue

    func list(state rawState: String?, branch: String?, page rawPage: Int?) async throws -> StaffApplicationListView {
        let org = try await organisation()
        var query = LoanApplication.query(on: db)
        switch StaffPermissions.scope(for: principal.role, action: .listApplications) {
        case .ownCustomers:
            guard let code = principal.managerCode else { return .init(items: [], total: 0, page: 1, pageSize: Self.pageSize) }
            query = query.filter(\.$cmLast == code)
        case .branch:
            query = query.filter(\.$cmLast ~~ org.managerCodes(within: principal.branchCode))
        case .bankWide:
            break
        case .none:
            throw APIError.notFound("resource")
        }
        if let branch, !branch.isEmpty {
            guard org.parents[branch] != nil || branch == "HO" else {
                throw APIError.invalid("branch", "branch must be a branch code such as SZ or SZ-NS.", zh: "请选择正确的分支机构。")
            }
            query = query.filter(\.$cmLast ~~ org.managerCodes(within: branch))
        }
        if let rawState, !rawState.isEmpty {
            guard let state = ApplicationState(rawValue: rawState) else {
                throw APIError.invalid(
                    "state", "state must be one of \(ApplicationState.allCases.map(\.rawValue).joined(separator: ", ")).", zh: "状态筛选条件不正确。")
            }
            query = query.filter(\.$state == state.rawValue)
        }
        let page = max(1, rawPage ?? 1)
        guard page <= 10_000 else { throw APIError.invalid("page", "page is too large.", zh: "页码过大。") }
        let total = try await query.count()
        // Oldest first: the queue is worked in the order the machine referred.
        let rows = try await query.sort(\.$decidedAt, .ascending).sort(\.$createdAt, .ascending)
            .range(((page - 1) * Self.pageSize)..<(page * Self.pageSize)).all()
        let ids = rows.compactMap(\.id)
        let pending = Set(
            try await ReviewDecision.query(on: db).filter(\.$applicationID ~~ ids)
                .filter(\.$state == ReviewDecision.State.awaitingConfirmation).all().map(\.applicationID))
        let items = try await rows.asyncMap { application -> StaffApplicationListView.Item in
            let (referredAt, dueBy, overdue) = serviceLevel(application)
            return .init(
                id: application.id!, state: application.state, createdAt: application.createdAt ?? application.lastActivityAt,
                branch: org.branch(of: application), manager: application.cmLast,
                applicant: .init(name: try await maskedName(application), phone: try await maskedPhone(application)),
                pendingConfirmation: pending.contains(application.id!), referredAt: referredAt, dueBy: dueBy, overdue: overdue)
        }
        return .init(items: items, total: total, page: page, pageSize: Self.pageSize)
    }

    /// A referral is to be decided within one business day (the next weekday at the same time).
    func serviceLevel(_ application: LoanApplication) -> (referredAt: Date?, dueBy: Date?, overdue: Bool) {
        guard application.state == ApplicationState.referred.rawValue, let referredAt = application.decidedAt else { return (nil, nil, false) }
        let due = ReviewContact.dueBy(referredAt: referredAt)
        return (referredAt, due, now > due)
    }

    func maskedName(_ application: LoanApplication) async throws -> String {
        try await vault.openIfKept(application.nameSealed).map(PersonalDataMask.name) ?? (application.nameSealed == nil ? "（未实名）" : "（已删除）")
    }

    func maskedPhone(_ application: LoanApplication) async throws -> String {
        guard let phone = try await vault.openIfKept(application.phoneSealed) else { return "（已删除）" }
        return PersonalDataMask.phone(phone)
    }

    // MARK: - One application

    func detail(_ id: UUID?) async throws -> StaffApplicationDetailView {
        let (application, org) = try await find(id, for: .viewApplication)
        let applicationID = try application.requireID()
        let (referredAt, dueBy, overdue) = serviceLevel(application)
        let idNumber = try await vault.openIfKept(application.idNumberSealed)
        let age = idNumber.flatMap { try? ChineseIDNumber($0) }?.age(on: BusinessCalendar.civilDate(now))
        var decision: StaffApplicationDetailView.Decision?
        if StaffPermissions.scope(for: principal.role, action: .viewDecisionDetails) != StaffPermissions.Scope.none,
            let record = try await DecisionRecord.query(on: db).filter(\.$applicationID == applicationID).sort(\.$decidedAt, .descending).first()
        {
            decision = Self.decisionView(record)
        }
        var bureau: StaffApplicationDetailView.Bureau?
        if let sealed = application.bureauReportSealed,
            let report = try? JSONDecoder().decode(CreditReport.self, from: Data((try await vault.openIfKept(sealed) ?? "").utf8))
        {
            bureau = .init(
                reportId: report.reportId, thinFile: report.thinFile, accounts: report.accounts,
                currentOverdueAmount: Money.string(report.currentOverdueAmount), overdueMonthsLast24: report.overdueMonthsLast24,
                inquiriesLast3Months: report.inquiriesLast3Months, cardUtilization: Money.string(report.cardUtilization * 100) + "%",
                monthlyRepayments: Money.string(report.monthlyRepayments))
        }
        var facts: StaffApplicationDetailView.Facts?
        if let sealed = application.aboutYouSealed,
            let about = try? JSONDecoder().decode(AboutYouFacts.self, from: Data((try await vault.openIfKept(sealed) ?? "").utf8))
        {
            facts = .init(
                employmentType: about.employmentType, monthlyIncome: Money.string(about.monthlyIncome), housing: about.housing,
                maritalStatus: about.maritalStatus, education: about.education, loanPurpose: about.loanPurpose)
        }
        let reviews = try await ReviewDecision.query(on: db).filter(\.$applicationID == applicationID).sort(\.$decidedAt).all().map {
            StaffApplicationDetailView.Review(
                decision: $0.decision, reviewer: $0.reviewerLogin, creditLimit: $0.creditLimit, annualRate: $0.annualRate, apr: $0.apr,
                reason: $0.reason, note: $0.note, state: $0.state, confirmer: $0.confirmerLogin, confirmationNote: $0.confirmationNote,
                decidedAt: $0.decidedAt)
        }
        var offer: StaffApplicationDetailView.Offer?
        if let limit = application.creditLimit, let rate = application.annualRate, let apr = application.apr {
            offer = .init(creditLimit: limit, annualRate: rate, apr: apr, validUntil: application.limitExpiresAt)
        }
        return StaffApplicationDetailView(
            id: applicationID, state: application.state, createdAt: application.createdAt ?? application.lastActivityAt,
            branch: org.branch(of: application), manager: application.cmLast,
            applicant: .init(
                name: try await maskedName(application), phone: try await maskedPhone(application),
                idNumber: idNumber.map(PersonalDataMask.idNumber) ?? "—", age: age),
            pendingConfirmation: reviews.contains { $0.state == ReviewDecision.State.awaitingConfirmation },
            referredAt: referredAt, dueBy: dueBy, overdue: overdue, decision: decision, bureau: bureau,
            identityChecks: .init(
                registry: application.idConfirmedAt == nil ? "pending" : "match", idConfirmedAt: application.idConfirmedAt,
                faceSimilarity: application.faceScore, faceVerifiedAt: application.faceVerifiedAt,
                carrierVerifiedAt: application.carrierVerifiedAt, card: application.cardMasked, cardBank: application.cardBank,
                cardVerifiedAt: application.cardVerifiedAt),
            facts: facts, reviews: reviews, offer: offer)
    }

    /// The stored machine decision as a reviewer reads it: policy version, reasons, and the inputs that drove them.
    static func decisionView(_ record: DecisionRecord) -> StaffApplicationDetailView.Decision {
        let input = (try? JSONSerialization.jsonObject(with: Data(record.inputJSON.utf8))) as? [String: Any] ?? [:]
        let output = (try? JSONSerialization.jsonObject(with: Data(record.outputJSON.utf8))) as? [String: Any] ?? [:]
        let applicant = input["applicant"] as? [String: Any] ?? [:]
        let bureau = input["bureau"] as? [String: Any] ?? [:]
        func text(_ value: Any?) -> String? { value.map { "\($0)" } }
        let reasons = (output["reasons"] as? [[String: Any]] ?? []).map {
            StaffApplicationDetailView.Reason(code: $0["code"] as? String ?? "", message: $0["message"] as? String ?? "")
        }
        let suggested = (output["creditLimit"] as? NSNumber).flatMap { $0.doubleValue > 0 ? "\($0)" : nil }
        let trace = ((try? JSONSerialization.jsonObject(with: Data(record.traceJSON.utf8))) as? [String: Any] ?? [:])
            .compactMap { ($0.value as? [String: Any])?["name"] as? String }.sorted()
        return .init(
            outcome: output["decision"] as? String ?? "?", policyVersion: record.policyVersion, decidedAt: record.decidedAt, reasons: reasons,
            debtToIncome: text(output["debtToIncome"]), monthlyIncome: text(applicant["monthlyIncome"]),
            monthlyRepayments: text(bureau["monthlyRepayments"]), inquiriesLast3Months: (bureau["inquiriesLast3Months"] as? NSNumber)?.intValue,
            overdueMonthsLast24: (bureau["overdueMonthsLast24"] as? NSNumber)?.intValue, currentOverdueAmount: text(bureau["currentOverdueAmount"]),
            suggestedLimit: suggested, trace: trace)
    }
}
