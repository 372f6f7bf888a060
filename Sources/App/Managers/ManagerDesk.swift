import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

// MARK: - Views (the API's JSON shapes)

struct LeadListView: Content {
    struct Item: Content {
        let id: UUID
        let status: String
        let name: String
        let phone: String
        let manager: String?
        let createdAt: Date
        let overdue: Bool
        let city: String
        let branch: String
        let dueBy: Date
        let channel: String?
        let campaign: String?
        let lostReason: String?
        let applicationId: UUID?
    }
    let items: [Item]
}

struct LeadUpdate: Content {
    var status: String?
    var note: String?
    /// Why a lead is lost (defaults to the note).
    var reason: String?
    /// A branch head moves the lead to another manager of the branch.
    var manager: String?
}

struct CustomerListView: Content {
    struct Qualification: Content {
        /// approved | referred | declined
        let outcome: String
        /// For approved: the band the limit falls in, e.g. "50000-100000".
        let limitBand: String?
        /// For declined: the plain category (age, delinquency, inquiries, debt, income, thin_file, other).
        let declineCategory: String?
        let label: String
    }
    struct Applicant: Content {
        let name: String
        let phone: String
    }
    struct Item: Content {
        let applicationId: UUID
        let state: String
        let stateTitle: String
        /// The journey page an unfinished application stopped at (the application API's step names); nil once decided.
        let stoppedAt: String?
        let since: Date
        let qualification: Qualification?
        let applicant: Applicant
        let manager: String?
        let channel: String?
        let nudgedToday: Bool
    }
    let items: [Item]
}

struct NudgeAnswer: Content {
    let queued: Bool
    let notificationEvent: String
}

struct MessageIn: Content {
    var text: String?
    var consent: Bool?
    /// Manager: call-back times to offer (ISO 8601). Applicant: the offered time picked.
    var slots: [String]?
    var pickSlot: String?
}

struct MessageView: Content {
    let id: UUID
    let from: String
    let text: String
    let sentAt: Date
    let slots: [String]?
    let pickedSlot: String?
}

struct MessageListView: Content {
    let items: [MessageView]
    let consented: Bool
    let manager: String?
}

/// The conversation's consent text, versioned.
enum ConversationConsentText {
    static let version = "yunjieqia-2026-12-01"
    static let text = "我同意通过“云接洽”与我的客户经理在线沟通本次借款申请。沟通内容加密保存，仅我的客户经理及其所在分行负责人可见，用于办理本次业务。"
}

// MARK: - The manager's customers and leads

/// What a customer manager (or branch head, within the branch) sees of their leads and customers, and what they
/// may do: follow up a lead, nudge a customer, talk in 云接洽. Scope is the role table's, checked here for every
/// record; anything outside it answers 404, like an id that does not exist.
struct ManagerDesk {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    var now: Date { services.clock.now() }
    var cipher: FieldCipher { services.cipher }
    var applications: StaffApplications { StaffApplications(db: db, services: services, principal: principal) }

    // MARK: Leads

    func leadQuery(for action: StaffPermissions.Action) async throws -> QueryBuilder<Lead> {
        let query = Lead.query(on: db)
        switch StaffPermissions.scope(for: principal.role, action: action) {
        case .ownCustomers:
            guard let code = principal.managerCode else { return query.filter(\.$id == RandomID.uuid()) }
            return query.filter(\.$managerCode == code)
        case .branch:
            let org = try await applications.organisation()
            return query.filter(\.$branchCode ~~ Array(StaffPermissions.branchCodes(within: principal.branchCode, parents: org.parents)))
        case .bankWide:
            return query
        case .none:
            throw APIError.notFound("resource")
        }
    }

    func leads(status raw: String?) async throws -> LeadListView {
        var query = try await leadQuery(for: .followUpLead)
        if let raw, !raw.isEmpty {
            guard let status = LeadStatus(rawValue: raw) else {
                throw APIError.invalid("status", "status must be one of \(LeadStatus.allCases.map(\.rawValue).joined(separator: ", ")).", zh: "状态筛选条件不正确。")
            }
            query = query.filter(\.$status == status.rawValue)
        }
        let rows = try await query.sort(\.$createdAt, .descending).limit(500).all()
        var items: [LeadListView.Item] = []
        for row in rows { items.append(try await view(row)) }
        return LeadListView(items: items)
    }

    func view(_ lead: Lead) async throws -> LeadListView.Item {
        let status = LeadStatus(rawValue: lead.status)
        let vault = PersonVault(db: db, services: services)
        return .init(
            id: try lead.requireID(), status: lead.status, name: try await vault.openIfKept(lead.nameSealed).map(PersonalDataMask.name) ?? "（已删除）",
            phone: try await vault.openIfKept(lead.phoneSealed).map(PersonalDataMask.phone) ?? "（已删除）", manager: lead.managerCode, createdAt: lead.createdAt,
            overdue: status == .new && now > lead.dueBy, city: lead.city, branch: lead.branchCode, dueBy: lead.dueBy,
            channel: lead.channel, campaign: lead.campaign, lostReason: lead.lostReason, applicationId: lead.applicationID)
    }

    func lead(_ raw: String?) async throws -> Lead {
        guard let raw, let id = UUID(uuidString: raw) else { throw APIError.notFound("lead") }
        guard let lead = try await leadQuery(for: .followUpLead).filter(\.$id == id).first() else { throw APIError.notFound("lead") }
        return lead
    }

    func update(lead raw: String?, _ body: LeadUpdate) async throws -> LeadListView.Item {
        let lead = try await lead(raw)
        let current = LeadStatus(rawValue: lead.status) ?? .new
        var next = current
        if let rawStatus = body.status, !rawStatus.isEmpty {
            guard let status = LeadStatus(rawValue: rawStatus) else {
                throw APIError.invalid("status", "status must be one of \(LeadStatus.allCases.map(\.rawValue).joined(separator: ", ")).", zh: "跟进状态不正确。")
            }
            next = status
        }
        let note = body.note?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var manager: StaffMember?
        if let code = body.manager?.trimmingCharacters(in: .whitespaces).uppercased(), !code.isEmpty, code != lead.managerCode {
            guard StaffPermissions.scope(for: principal.role, action: .reassignApplication) != StaffPermissions.Scope.none else {
                throw APIError(.forbidden, code: "not_allowed", message: "Only a branch head reassigns leads.", messageZh: "只有分行负责人可以重新分配线索。", field: "manager")
            }
            let org = try await applications.organisation()
            guard let member = try await StaffMember.query(on: db).filter(\.$managerCode == code).filter(\.$active == true).first(),
                StaffPermissions.allows(role: principal.role, action: .reassignApplication, staff: principal.scopeFacts,
                                        target: TargetScopeFacts(lastTouchManagerCode: code, branchCode: member.branchCode, branchParents: org.parents))
            else {
                throw APIError.invalid("manager", "manager must be an active customer manager of your branch.", zh: "请选择本分行在岗的客户经理。")
            }
            manager = member
        }
        guard note.count <= 500 else { throw APIError.invalid("note", "note must be at most 500 characters.", zh: "备注最多500字。") }
        guard !note.isEmpty else {
            throw APIError.invalid("note", "note is required: say what happened (every change of a lead carries a note).", zh: "请填写跟进备注。")
        }
        guard next == current || current.allowsManualMove(to: next) else {
            throw APIError(.conflict, code: "invalid_transition",
                           message: "A lead that is \(current.rawValue) cannot become \(next.rawValue).", messageZh: "该线索当前为“\(current.titleZh)”，不能改为“\(next.titleZh)”。", field: "status")
        }
        if current.isClosed && next == current && manager != nil {
            throw APIError(.conflict, code: "lead_closed", message: "A \(current.rawValue) lead is not reassigned.", messageZh: "已结束的线索不能重新分配。", field: "manager")
        }
        let expected = lead.version
        let (services, principal, now, target, newManager) = (services, principal, now, next, manager)
        try await db.writeTransaction { tx in
            lead.status = target.rawValue
            if target == .lost { lead.lostReason = String((body.reason?.isEmpty == false ? body.reason! : note).prefix(200)) }
            if target == .contacted && lead.contactedAt == nil { lead.contactedAt = now }
            if let manager = newManager {
                lead.managerCode = manager.managerCode
                lead.branchCode = manager.branchCode
            }
            lead.version = expected + 1
            lead.updatedAt = now
            // Compare-and-set on the version: of two changes at the same moment, the second answers 409.
            guard let sql = tx as? any SQLDatabase else { throw APIError.notFound("lead") }
            let changed = try await sql.raw("""
                UPDATE leads SET status = \(bind: lead.status), lost_reason = \(bind: lead.lostReason), contacted_at = \(bind: lead.contactedAt),
                manager_code = \(bind: lead.managerCode), branch_code = \(bind: lead.branchCode), version = \(bind: lead.version), updated_at = \(bind: now)
                WHERE id = \(bind: lead.id!) AND version = \(bind: expected) RETURNING id
                """).all()
            guard !changed.isEmpty else {
                throw APIError(.conflict, code: "lead_changed", message: "Someone else changed this lead at the same moment; reload it.", messageZh: "该线索刚被他人更新，请刷新后重试。")
            }
            try await LeadBook(db: tx, services: services).event(lead, status: lead.status, note: note, actor: "staff:" + principal.login, on: tx)
            var details = ["lead": lead.id!.uuidString, "from": current.rawValue, "to": target.rawValue]
            if let manager = newManager { details["manager"] = manager.managerCode ?? "-" }
            try await AuditTrail(db: tx, services: services).record(
                application: lead.applicationID, actor: "staff:" + principal.login, action: newManager == nil ? "lead.followed_up" : "lead.reassigned", details: details)
        }
        return try await view(lead)
    }

    // MARK: Customers

    func customers(state raw: String?) async throws -> CustomerListView {
        let org = try await applications.organisation()
        var query = LoanApplication.query(on: db)
        switch StaffPermissions.scope(for: principal.role, action: .listApplications) {
        case .ownCustomers:
            guard let code = principal.managerCode else { return .init(items: []) }
            query = query.filter(\.$cmLast == code)
        case .branch:
            query = query.filter(\.$cmLast ~~ org.managerCodes(within: principal.branchCode))
        case .bankWide:
            query = query.filter(\.$cmLast != nil)
        case .none:
            throw APIError.notFound("resource")
        }
        if let raw, !raw.isEmpty {
            guard let state = ApplicationState(rawValue: raw) else {
                throw APIError.invalid("state", "state must be one of \(ApplicationState.allCases.map(\.rawValue).joined(separator: ", ")).", zh: "状态筛选条件不正确。")
            }
            query = query.filter(\.$state == state.rawValue)
        }
        let rows = try await query.sort(\.$lastActivityAt, .descending).limit(500).all()
        let today = Self.nudgeDay(now)
        let ids = rows.compactMap(\.id)
        let nudged = Set(try await Notification.query(on: db).filter(\.$applicationID ~~ ids).filter(\.$template == NotificationTemplate.nudge.key)
            .all().filter { $0.eventKey.hasSuffix(":" + today) }.map(\.applicationID))
        return CustomerListView(items: try await rows.asyncMap { application in
            let state = try application.applicationState
            let progress = try application.progress
            let stoppedAt: String? = state.isDecided || state.isTerminal ? nil : (application.stopStep ?? progress.nextStep.rawValue)
            return .init(
                applicationId: try application.requireID(), state: application.state, stateTitle: state.titleZh, stoppedAt: stoppedAt,
                since: application.lastActivityAt, qualification: Self.qualification(application),
                applicant: .init(name: try await applications.maskedName(application), phone: try await applications.maskedPhone(application)),
                manager: application.cmLast, channel: application.channelLast, nudgedToday: nudged.contains(application.id!))
        })
    }

    static func qualification(_ application: LoanApplication) -> CustomerListView.Qualification? {
        switch application.decision {
        case "approved"?:
            let limit = application.creditLimit.flatMap { Double($0) } ?? 0
            let bands: [(Double, Double)] = [(0, 10_000), (10_000, 30_000), (30_000, 50_000), (50_000, 100_000), (100_000, 200_000), (200_000, 500_000)]
            let band = bands.first { limit >= $0.0 && limit < $0.1 } ?? (500_000, 0)
            let text = band.1 == 0 ? "500000+" : "\(Int(band.0))-\(Int(band.1))"
            let label = band.1 == 0 ? "已获批 50万以上" : "已获批 \(Self.wan(band.0))–\(Self.wan(band.1))"
            return .init(outcome: "approved", limitBand: text, declineCategory: nil, label: label)
        case "referred"?:
            return .init(outcome: "referred", limitBand: nil, declineCategory: nil, label: "人工审核中")
        case "declined"?:
            let codes = (application.decisionReasons.flatMap { try? JSONDecoder().decode([PolicyReason].self, from: Data($0.utf8)) } ?? []).map(\.code)
            let (category, label) = declineCategory(codes)
            return .init(outcome: "declined", limitBand: nil, declineCategory: category, label: "未通过：" + label)
        default:
            return nil
        }
    }

    static func wan(_ yuan: Double) -> String { yuan >= 10_000 ? "\(Int(yuan / 10_000))万" : "\(Int(yuan))元" }

    /// The plain category of a decline, from its first reason code (never the score or the rule itself).
    static func declineCategory(_ codes: [String]) -> (String, String) {
        guard let code = codes.first else { return ("other", "综合评估未通过") }
        if code.hasPrefix("AGE_") { return ("age", "年龄不在可贷范围") }
        if code.contains("OVERDUE") { return ("delinquency", "征信有逾期") }
        if code.contains("INQUIRIES") { return ("inquiries", "近期征信查询较多") }
        if code.contains("DEBT") || code.contains("REPAYMENT_CAPACITY") { return ("debt", "负债偏高") }
        if code.contains("INCOME") { return ("income", "收入不足") }
        if code == "THIN_FILE" { return ("thin_file", "信用记录不足") }
        return ("other", "综合评估未通过")
    }

    static func nudgeDay(_ date: Date) -> String { BusinessCalendar.civilDate(date).iso }

    /// Quiet hours for marketing: 21:00 to 08:00, Beijing time.
    static func isQuietHour(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        let hour = calendar.component(.hour, from: date)
        return hour >= 21 || hour < 8
    }

    func nudge(_ id: UUID?) async throws -> NudgeAnswer {
        let (application, _) = try await applications.find(id, for: .nudgeCustomer)
        let state = try application.applicationState
        let unfinished: Set<ApplicationState> = [.started, .identityVerified, .creditAuthorized, .infoCompleted, .approved, .loanRequested]
        guard unfinished.contains(state), application.stopStep == nil, application.privacyState == nil else {
            throw APIError(.conflict, code: "nothing_to_finish", message: "This application is \(state.rawValue): there is nothing for the customer to finish.",
                           messageZh: "该申请当前为“\(state.titleZh)”，无需提醒客户。")
        }
        guard !Self.isQuietHour(now) else {
            throw APIError(.conflict, code: "quiet_hours", message: "Reminders are not sent between 21:00 and 08:00 (Beijing time); send it after 08:00.",
                           messageZh: "21:00至次日08:00不发送提醒短信，请08:00后再发。")
        }
        guard try await !MarketingOptOuts.hasOptedOut(phoneIndex: application.phoneIndex, on: db) else {
            throw APIError(.conflict, code: "opted_out", message: "The customer replied 退订: no reminders are sent to this phone.",
                           messageZh: "客户已退订营销短信，不能发送提醒。")
        }
        let key = "nudge:\(application.id!):\(Self.nudgeDay(now))"
        let progress = try application.progress
        let managerName = try await StaffMember.query(on: db).filter(\.$managerCode == application.cmLast).first()?.displayName ?? "您的客户经理"
        let values = ["stoppedAt": progress.nextStep.titleZh, "manager": managerName]
        let (services, principal) = (services, principal)
        let queued = try await db.writeTransaction { tx in
            let added = try await Notifications.enqueue(.nudge, values: values, application: application.id!, eventKey: key, on: tx, services: services)
            if added {
                try await AuditTrail(db: tx, services: services).record(
                    application: application.id!, actor: "staff:" + principal.login, action: "customer.nudged", details: ["step": progress.nextStep.rawValue])
            }
            return added
        }
        guard queued else {
            throw APIError(.tooManyRequests, code: "already_nudged_today", message: "This customer was already reminded today; one reminder a day at most.",
                           messageZh: "今天已提醒过该客户，每天最多提醒一次。")
        }
        return NudgeAnswer(queued: true, notificationEvent: key)
    }
}

// MARK: - 云接洽

/// An application's conversation between the applicant and the application's manager. Messages are sealed at
/// rest and never logged; the applicant consents (versioned) with the first message; a new message from the
/// manager is signalled to the applicant by SMS at most once an hour.
struct Conversation {
    let db: Database
    let services: YidaiServices
    let application: LoanApplication

    var now: Date { services.clock.now() }

    func list() async throws -> MessageListView {
        let id = try application.requireID()
        let rows = try await ConversationMessage.query(on: db).filter(\.$applicationID == id).sort(\.$sentAt, .ascending).sort(\.$id).all()
        let consented = try await ConversationConsent.query(on: db).filter(\.$applicationID == id).first() != nil
        var items: [MessageView] = []
        for row in rows { items.append(try await view(row)) }
        return MessageListView(items: items, consented: consented, manager: application.cmLast)
    }

    func view(_ row: ConversationMessage) async throws -> MessageView {
        MessageView(
            id: try row.requireID(), from: row.sender, text: try await PersonVault(db: db, services: services).openIfKept(row.textSealed) ?? "（已删除）", sentAt: row.sentAt,
            slots: row.slots.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }, pickedSlot: row.pickedSlot)
    }

    static func text(_ raw: String?, required: Bool) throws -> String {
        let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if required && text.isEmpty { throw APIError.invalid("text", "text is required: the message to send.", zh: "请输入消息内容。") }
        guard text.count <= 1000 else { throw APIError.invalid("text", "text must be at most 1000 characters.", zh: "消息最多1000字。") }
        return text
    }

    func requireManager() throws {
        guard application.cmLast != nil else {
            throw APIError(.conflict, code: "no_manager", message: "This application has no customer manager to talk to.",
                           messageZh: "该申请没有专属客户经理，请联系客服95xxx。")
        }
    }

    /// The applicant writes (or picks an offered call-back time). The first message needs `consent: true`.
    func applicantSends(_ body: MessageIn) async throws -> MessageView {
        try requireManager()
        let id = try application.requireID()
        var text = try Self.text(body.text, required: body.pickSlot == nil)
        var picked: String?
        if let slot = body.pickSlot {
            let offered = try await ConversationMessage.query(on: db).filter(\.$applicationID == id).filter(\.$sender == "manager").all()
                .flatMap { $0.slots.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [] }
            guard offered.contains(slot) else {
                throw APIError.invalid("pickSlot", "pickSlot must be one of the call-back times your manager offered.", zh: "请选择客户经理提供的回电时间。")
            }
            picked = slot
            if text.isEmpty { text = "我选择的回电时间：\(Self.slotLabel(slot))" }
        }
        let consented = try await ConversationConsent.query(on: db).filter(\.$applicationID == id).first() != nil
        guard consented || body.consent == true else {
            throw APIError.invalid("consent", "consent must be true with the first message (\(ConversationConsentText.version)).", zh: "请先同意云接洽服务说明。")
        }
        let (services, now, finalText, finalPick) = (services, now, text, picked)
        return try await db.writeTransaction { tx in
            try await tx.lock(name: "conversation:\(id)")
            if !consented {
                if try await ConversationConsent.query(on: tx).filter(\.$applicationID == id).first() == nil {
                    let consent = ConversationConsent()
                    consent.applicationID = id
                    consent.textVersion = ConversationConsentText.version
                    consent.at = now
                    try await consent.create(on: tx)
                    try await AuditTrail(db: tx, services: services).record(
                        application: id, actor: "applicant", action: "conversation.consented", details: ["version": ConversationConsentText.version])
                }
            }
            let row = try await Self.store(application: id, sender: "applicant", staff: nil, text: finalText, slots: nil, picked: finalPick, on: tx, services: services)
            try await AuditTrail(db: tx, services: services).record(application: id, actor: "applicant", action: "conversation.message", details: ["from": "applicant"])
            return try await Conversation(db: tx, services: services, application: application).view(row)
        }
    }

    /// The manager writes, optionally offering call-back times. Only after the applicant opened the conversation.
    func managerSends(_ body: MessageIn, staff: StaffPrincipal) async throws -> MessageView {
        let id = try application.requireID()
        let text = try Self.text(body.text, required: true)
        var slots: [String]?
        if let offered = body.slots, !offered.isEmpty {
            guard offered.count <= 6 else { throw APIError.invalid("slots", "slots offers at most 6 times.", zh: "最多提供6个回电时间。") }
            for slot in offered {
                guard let date = Self.parseSlot(slot), date > now else {
                    throw APIError.invalid("slots", "each slot must be a future time in ISO 8601 (2026-12-05T10:00:00+08:00); \(slot.prefix(40)) is not.", zh: "回电时间格式不正确或已过去。")
                }
            }
            slots = offered
        }
        guard try await ConversationConsent.query(on: db).filter(\.$applicationID == id).first() != nil else {
            throw APIError(.conflict, code: "no_consent", message: "The applicant has not opened 云接洽 yet (their consent comes with their first message).",
                           messageZh: "客户尚未开通云接洽，需客户先发起沟通。")
        }
        let (services, now, offered) = (services, now, slots)
        let hour = Int(now.timeIntervalSince1970 / 3600)
        return try await db.writeTransaction { tx in
            let row = try await Self.store(application: id, sender: "manager", staff: staff.login, text: text, slots: offered, picked: nil, on: tx, services: services)
            try await AuditTrail(db: tx, services: services).record(
                application: id, actor: "staff:" + staff.login, action: "conversation.message", details: ["from": "manager", "slots": String(offered?.count ?? 0)])
            // One SMS an hour at most, however many messages the manager writes.
            let recent = try await Notification.query(on: tx).filter(\.$applicationID == id).filter(\.$template == NotificationTemplate.newMessage.key)
                .filter(\.$createdAt > now.addingTimeInterval(-3600)).count()
            if recent == 0 {
                try await Notifications.enqueue(.newMessage, application: id, eventKey: "message:\(id):\(hour)", on: tx, services: services)
            }
            return try await Conversation(db: tx, services: services, application: application).view(row)
        }
    }

    static func store(
        application: UUID, sender: String, staff: String?, text: String, slots: [String]?, picked: String?, on tx: any Database, services: YidaiServices
    ) async throws -> ConversationMessage {
        // Messages are listed in the order they were written: a message never shares or precedes its predecessor's time.
        try await tx.lock(name: "conversation:\(application)")
        var at = services.clock.now()
        if let last = try await ConversationMessage.query(on: tx).filter(\.$applicationID == application).sort(\.$sentAt, .descending).first(),
            last.sentAt >= at
        {
            at = last.sentAt.addingTimeInterval(0.001)
        }
        let row = ConversationMessage()
        row.id = RandomID.uuid()
        row.applicationID = application
        row.sender = sender
        row.staffLogin = staff
        guard let person = try await LoanApplication.find(application, on: tx)?.phoneIndex else { throw APIError.notFound("application") }
        row.textSealed = try await PersonVault(db: tx, services: services).seal(text, phoneIndex: person, as: .general)
        row.slots = try slots.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        row.pickedSlot = picked
        row.sentAt = at
        try await row.create(on: tx)
        return row
    }

    static func parseSlot(_ raw: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: raw)
    }

    static func slotLabel(_ raw: String) -> String {
        guard let date = parseSlot(raw) else { return raw }
        return PageFormat.shortTime(date)
    }
}
