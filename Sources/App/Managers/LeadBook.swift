import Fluent
import Foundation
import LendingCore
import PostgresNIO
import Providers
import SQLKit
import Vapor

/// Where a lead is in its follow-up. `applying` and `converted` are also reached by themselves: when the lead's
/// phone starts an application, and when that application's loan is paid out.
enum LeadStatus: String, CaseIterable, Sendable {
    case new, contacted, applying, converted, lost

    var titleZh: String {
        switch self {
        case .new: "待联系"
        case .contacted: "已联系"
        case .applying: "申请中"
        case .converted: "已放款"
        case .lost: "已流失"
        }
    }

    var isClosed: Bool { self == .converted || self == .lost }

    /// What a member of staff may move a lead to from here (a note alone keeps the status).
    func allowsManualMove(to next: LeadStatus) -> Bool {
        switch (self, next) {
        case (.new, .contacted), (.new, .lost), (.contacted, .applying), (.contacted, .lost), (.applying, .converted),
            (.applying, .lost):
            true
        default:
            self == next && !isClosed
        }
    }
}

/// The text a person agrees to on the lead page, versioned: the version is stored with each lead.
enum LeadConsent {
    static let version = "lead-contact-2026-12-01"
    static let text = "我同意易贷及其合作银行的客户经理通过电话或短信与我联系，介绍个人贷款产品。我的姓名、手机号和所在城市仅用于此目的，我可随时回复“退订”停止联系。"
}

struct LeadSubmission: Content {
    var name: String?
    var phone: String?
    var smsCode: String?
    var city: String?
    var consent: Bool?
    var cm: String?
    var ch: String?
    var campaign: String?
}

struct LeadReceipt: Content {
    let id: UUID
    let status: String
    /// True when the phone already had a lead within 30 days and that lead was updated instead.
    let updated: Bool
}

/// Leads: the lead page's submissions, their assignment, their follow-up and their link to applications.
struct LeadBook {
    let db: Database
    let services: YidaiServices

    static let dedupWindow: TimeInterval = 30 * 86_400
    var now: Date { services.clock.now() }
    var cipher: FieldCipher { services.cipher }

    // MARK: - The lead page

    /// A person outside every branch's city may still leave a lead: it waits in the head office's queue.
    static let otherCity = "其他城市"

    /// The cities the bank's branches serve, for the lead page's choice, and 其他城市 last.
    func cities() async throws -> [String] {
        let branches = try await Branch.query(on: db).filter(\.$level == "branch").sort(\.$code).all()
        var seen: [String] = []
        for city in branches.compactMap(\.city) where !seen.contains(city) { seen.append(city) }
        return seen + [Self.otherCity]
    }

    func submit(_ body: LeadSubmission, codes: OneTimeCodes) async throws -> LeadReceipt {
        let name: PersonName
        do { name = try PersonName(body.name ?? "") } catch { throw APIError(error) }
        let phone = try JourneyService.phone(body.phone)
        guard let code = body.smsCode?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
            throw APIError.invalid("smsCode", "smsCode is required: the code sent to the phone with purpose lead.", zh: "请输入短信验证码。")
        }
        let cities = try await cities()
        guard let city = body.city?.trimmingCharacters(in: .whitespaces), cities.contains(city) else {
            throw APIError.invalid("city", "city must be one of \(cities.joined(separator: ", ")).", zh: "请选择所在城市。")
        }
        guard body.consent == true else {
            throw APIError.invalid("consent", "consent must be true: the person agrees to be contacted (\(LeadConsent.version)).", zh: "请阅读并同意联系授权。")
        }
        let campaign = body.campaign.flatMap(JourneyService.channel)
        let channel = JourneyService.channel(body.ch)
        let cm = try await activeManager(code: body.cm)
        let proof = try await codes.check(code, phone: phone, purpose: .lead, field: "smsCode")
        let phoneIndex = cipher.blindIndex(phone.value, purpose: "phone")
        let vault = PersonVault(db: db, services: services)
        let (phoneSealed, nameSealed) = (try await vault.seal(phone.value, phoneIndex: phoneIndex, as: .general), try await vault.seal(name.value, phoneIndex: phoneIndex, as: .general))
        let book = self
        let now = now
        return try await db.writeTransaction { tx in
            try await codes.consume(proof, on: tx)
            try await tx.lock(name: "lead:" + phoneIndex)
            let audit = AuditTrail(db: tx, services: book.services)
            let open = try await LoanApplication.query(on: tx).filter(\.$phoneIndex == phoneIndex)
                .filter(\.$state !~ [ApplicationState.cancelled.rawValue, ApplicationState.expired.rawValue, ApplicationState.declined.rawValue])
                .sort(\.$createdAt, .descending).first()
            if let lead = try await Lead.query(on: tx).filter(\.$phoneIndex == phoneIndex)
                .filter(\.$createdAt > now.addingTimeInterval(-Self.dedupWindow)).sort(\.$createdAt, .descending).first()
            {
                lead.nameSealed = nameSealed
                lead.phoneSealed = phoneSealed
                lead.city = city
                lead.consentVersion = LeadConsent.version
                lead.consentedAt = now
                if let campaign { lead.campaign = campaign }
                if let channel { lead.channel = channel }
                if lead.managerCode == nil, let cm {
                    lead.cm = cm.managerCode
                    lead.managerCode = cm.managerCode
                    lead.branchCode = cm.branchCode
                }
                lead.version += 1
                lead.updatedAt = now
                try await lead.save(on: tx)
                try await book.event(lead, status: lead.status, note: "客户再次提交了留资信息", actor: "applicant", on: tx)
                try await audit.record(application: lead.applicationID, actor: "applicant", action: "lead.updated",
                                       details: ["lead": lead.id!.uuidString, "phone": phone.masked, "city": city, "consent": LeadConsent.version])
                return LeadReceipt(id: lead.id!, status: lead.status, updated: true)
            }
            let lead = Lead()
            lead.id = RandomID.uuid()
            lead.phoneIndex = phoneIndex
            lead.phoneSealed = phoneSealed
            lead.nameSealed = nameSealed
            lead.city = city
            lead.cm = cm?.managerCode
            lead.channel = channel
            lead.campaign = campaign
            lead.consentVersion = LeadConsent.version
            lead.consentedAt = now
            lead.createdAt = now
            lead.updatedAt = now
            lead.version = 0
            lead.dueBy = WorkingHours.adding(hours: 2, to: now)
            let (manager, branch) = try await book.assign(cm: cm, city: city, on: tx)
            lead.managerCode = manager
            lead.branchCode = branch
            lead.status = LeadStatus.new.rawValue
            if let open {
                lead.status = LeadStatus.applying.rawValue
                lead.applicationID = open.id
            }
            try await lead.create(on: tx)
            try await book.event(lead, status: lead.status, note: nil, actor: "applicant", on: tx)
            try await audit.record(application: open?.id, actor: "applicant", action: "lead.created",
                                   details: ["lead": lead.id!.uuidString, "phone": phone.masked, "city": city, "manager": manager ?? "-",
                                             "branch": branch, "channel": channel ?? "-", "campaign": campaign ?? "-", "consent": LeadConsent.version])
            return LeadReceipt(id: lead.id!, status: lead.status, updated: false)
        }
    }

    func activeManager(code raw: String?) async throws -> StaffMember? {
        guard let code = raw?.trimmingCharacters(in: .whitespaces).uppercased(), !code.isEmpty, code.count <= 20 else { return nil }
        return try await StaffMember.query(on: db).filter(\.$managerCode == code).filter(\.$active == true).first()
    }

    /// To the manager whose code brought the person; otherwise round-robin among the active managers of the
    /// branch serving the city (the one who waited longest for a lead is next); otherwise (no branch serves the
    /// city, or it has no active manager) the head office's queue, worked by head-office staff (branch head of HO).
    func assign(cm: StaffMember?, city: String, on tx: any Database) async throws -> (manager: String?, branch: String) {
        if let cm, let code = cm.managerCode { return (code, cm.branchCode) }
        let branches = try await Branch.query(on: tx).all()
        let parents = Dictionary(branches.compactMap { b in b.parentCode.map { (b.code, $0) } }, uniquingKeysWith: { a, _ in a })
        guard let serving = branches.filter({ $0.level == "branch" && $0.city == city }).sorted(by: { $0.code < $1.code }).first else {
            return (nil, "HO")
        }
        try await tx.lock(name: "lead-round-robin:" + serving.code)
        let within = StaffPermissions.branchCodes(within: serving.code, parents: parents)
        let managers = try await StaffMember.query(on: tx).filter(\.$active == true).filter(\.$managerCode != nil)
            .filter(\.$role == StaffPermissions.Role.customerManager.rawValue).filter(\.$branchCode ~~ Array(within)).all()
        let next = managers.sorted { a, b in
            switch (a.lastLeadAt, b.lastLeadAt) {
            case (nil, nil): a.managerCode! < b.managerCode!
            case (nil, _): true
            case (_, nil): false
            case let (x?, y?): x == y ? a.managerCode! < b.managerCode! : x < y
            }
        }.first
        guard let next else { return (nil, "HO") }
        next.lastLeadAt = now
        try await next.save(on: tx)
        return (next.managerCode, next.branchCode)
    }

    func event(_ lead: Lead, status: String, note: String?, actor: String, on tx: any Database) async throws {
        let event = LeadEvent()
        event.leadID = try lead.requireID()
        event.status = status
        if let note { event.noteSealed = try await PersonVault(db: tx, services: services).seal(note, phoneIndex: lead.phoneIndex, as: .general) }
        event.actor = actor
        event.at = now
        try await event.create(on: tx)
    }

    // MARK: - Links to applications (inside the application's own transaction)

    /// The phone started (or resumed) an application: its open leads become `applying`.
    static func applicationStarted(_ applicationID: UUID, phoneIndex: String, on tx: any Database, services: YidaiServices) async throws {
        let now = services.clock.now()
        let open = [LeadStatus.new.rawValue, LeadStatus.contacted.rawValue]
        guard try await hasLeads(phoneIndex: phoneIndex, statuses: open, on: tx) else { return }
        let leads = try await Lead.query(on: tx).filter(\.$phoneIndex == phoneIndex)
            .filter(\.$status ~~ open)
            .filter(\.$createdAt > now.addingTimeInterval(-dedupWindow)).all()
        let book = LeadBook(db: tx, services: services)
        for lead in leads {
            lead.status = LeadStatus.applying.rawValue
            lead.applicationID = applicationID
            lead.version += 1
            lead.updatedAt = now
            try await lead.save(on: tx)
            try await book.event(lead, status: lead.status, note: "客户已开始申请", actor: "system", on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: applicationID, actor: "system", action: "lead.applying", details: ["lead": lead.id!.uuidString])
        }
    }

    /// Whether the phone has a lead in one of `statuses`: one statement (prepared on PostgreSQL), since most
    /// applicants came without a lead and Fluent's query would cost more than the answer.
    private static func hasLeads(phoneIndex: String, statuses: [String], on db: any Database) async throws -> Bool {
        guard let sql = db as? any SQLDatabase else { return true }
        if let rows = try await PreparedStatements.rows(HasLeads(phoneIndex: phoneIndex, statuses: statuses), on: sql) { return !rows.isEmpty }
        // SQLite binds no arrays: the statuses as a list.
        return try await sql.raw(
            "SELECT 1 AS found FROM leads WHERE phone_index = \(bind: phoneIndex) AND status IN (\(binds: statuses)) LIMIT 1"
        ).first() != nil
    }

    /// `hasLeads`' statement on PostgreSQL: the statuses bound as one array.
    struct HasLeads: PreparedRowStatement {
        static let name = "LeadBook.HasLeads"
        static let sql = "SELECT 1 AS found FROM leads WHERE phone_index = $1 AND status = ANY($2) LIMIT 1"
        static let bindingDataTypes: [PostgresDataType] = [.text, .textArray]
        let phoneIndex: String
        let statuses: [String]

        var values: [any StatementValue & Sendable] { [phoneIndex, statuses] }
    }

    /// The application's loan was paid out: the leads that led to it are converted.
    static func applicationPaidOut(_ applicationID: UUID, phoneIndex: String, on tx: any Database, services: YidaiServices) async throws {
        let now = services.clock.now()
        let open = [LeadStatus.new.rawValue, LeadStatus.contacted.rawValue, LeadStatus.applying.rawValue]
        guard try await hasLeads(phoneIndex: phoneIndex, statuses: open, on: tx) else { return }
        let leads = try await Lead.query(on: tx).filter(\.$phoneIndex == phoneIndex).filter(\.$status ~~ open).all()
        let book = LeadBook(db: tx, services: services)
        for lead in leads where lead.applicationID == nil || lead.applicationID == applicationID {
            lead.status = LeadStatus.converted.rawValue
            lead.applicationID = applicationID
            lead.version += 1
            lead.updatedAt = now
            try await lead.save(on: tx)
            try await book.event(lead, status: lead.status, note: "贷款已发放", actor: "system", on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: applicationID, actor: "system", action: "lead.converted", details: ["lead": lead.id!.uuidString])
        }
    }
}

/// The bank's working hours for service levels: 09:00–12:00 and 13:30–18:00 (Beijing time), Monday to Friday.
enum WorkingHours {
    static let blocks: [(start: Int, end: Int)] = [(9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60)]

    static func adding(hours: Double, to start: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        var remaining = hours * 60
        var cursor = start
        for _ in 0..<60 {
            let day = calendar.startOfDay(for: cursor)
            if !calendar.isDateInWeekend(day) {
                for block in blocks {
                    let blockStart = day.addingTimeInterval(Double(block.start) * 60)
                    let blockEnd = day.addingTimeInterval(Double(block.end) * 60)
                    let from = max(cursor, blockStart)
                    guard from < blockEnd else { continue }
                    let available = blockEnd.timeIntervalSince(from) / 60
                    if available >= remaining { return from.addingTimeInterval(remaining * 60) }
                    remaining -= available
                    cursor = blockEnd
                }
            }
            cursor = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        return cursor
    }
}
