import Fluent
import Foundation
import LendingCore
import Vapor

/// The manager's loop in the workbench: leads to follow up (with the service level), customers with their stage
/// and qualification (masked), a reminder button, and an application's 云接洽 conversation. The same services and
/// role table as the staff API (`ManagerDesk`, `Conversation`).
struct ManagerConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let staff = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator())
        staff.requiring(.followUpLead).get("leads", use: leads)
        staff.requiring(.followUpLead).post("leads", ":leadID", use: updateLead)
        staff.requiring(.listApplications).get("customers", use: customers)
        staff.requiring(.nudgeCustomer).post("customers", ":applicationID", "nudge", use: nudge)
        staff.requiring(.messageApplicant).get("applications", ":applicationID", "messages", use: messages)
        staff.requiring(.messageApplicant).post("applications", ":applicationID", "messages", use: send)
    }

    static let console = ConsolePagesController()

    func desk(_ req: Request) throws -> ManagerDesk { ManagerDesk(db: req.db, services: req.yidai, principal: try req.staff) }

    static func time(_ date: Date) -> String { PageFormat.shortTime(date) }

    // MARK: Leads

    struct LeadsContext: Encodable {
        struct Row: Encodable {
            let id: String
            let name: String
            let phone: String
            let city: String
            let status: String
            let statusTitle: String
            let manager: String
            let created: String
            let dueBy: String
            let overdue: Bool
            let source: String
            let closed: Bool
            let options: [Option]
        }
        struct Option: Encodable {
            let code: String
            let name: String
        }
        let page: ConsoleChrome
        let rows: [Row]
        let filter: String
        let statuses: [Option]
        let notice: String?
        let error: String?
        let canReassign: Bool
    }

    func leads(_ req: Request) async throws -> Response { try await renderLeads(req, notice: nil, error: nil) }

    func renderLeads(_ req: Request, notice: String?, error: String?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.staff
        let filter = req.query[String.self, at: "status"] ?? ""
        let list = try await desk(req).leads(status: LeadStatus(rawValue: filter) == nil ? nil : filter)
        let rows = list.items.map { item -> LeadsContext.Row in
            let status = LeadStatus(rawValue: item.status) ?? .new
            return .init(
                id: item.id.uuidString.lowercased(), name: item.name, phone: item.phone, city: item.city, status: item.status, statusTitle: status.titleZh,
                manager: item.manager ?? "待分配（\(item.branch)）", created: Self.time(item.createdAt), dueBy: Self.time(item.dueBy), overdue: item.overdue,
                source: [item.channel, item.campaign].compactMap { $0 }.joined(separator: " · "), closed: status.isClosed,
                options: LeadStatus.allCases.filter { status.allowsManualMove(to: $0) }.map { .init(code: $0.rawValue, name: $0.titleZh) })
        }
        let context = LeadsContext(
            page: Self.console.chrome(req, "线索跟进", principal), rows: rows, filter: filter,
            statuses: [.init(code: "", name: "全部")] + LeadStatus.allCases.map { .init(code: $0.rawValue, name: $0.titleZh) },
            notice: notice, error: error,
            canReassign: StaffPermissions.scope(for: principal.role, action: .reassignApplication) != StaffPermissions.Scope.none)
        return try await req.renderPage("console/leads", context, status: status)
    }

    struct LeadForm: Content {
        var status: String?
        var note: String?
        var manager: String?
    }

    func updateLead(_ req: Request) async throws -> Response {
        let form = try req.content.decode(LeadForm.self)
        do {
            _ = try await desk(req).update(lead: req.parameters.get("leadID"), LeadUpdate(status: form.status, note: form.note, reason: nil, manager: form.manager))
            return req.redirect(to: "/console/leads")
        } catch let error as APIError where error.status != .notFound {
            return try await renderLeads(req, notice: nil, error: error.messageZh, status: error.status)
        }
    }

    // MARK: Customers

    struct CustomersContext: Encodable {
        struct Row: Encodable {
            let id: String
            let name: String
            let phone: String
            let stateTitle: String
            let stoppedAt: String
            let since: String
            let qualification: String
            let canNudge: Bool
            let nudgedToday: Bool
            let messagesHref: String
        }
        let page: ConsoleChrome
        let rows: [Row]
        let notice: String?
        let error: String?
    }

    func customers(_ req: Request) async throws -> Response { try await renderCustomers(req, notice: nil, error: nil) }

    func renderCustomers(_ req: Request, notice: String?, error: String?, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.staff
        let canNudge = StaffPermissions.scope(for: principal.role, action: .nudgeCustomer) != StaffPermissions.Scope.none
        let list = try await desk(req).customers(state: nil)
        let rows = list.items.map { item in
            CustomersContext.Row(
                id: item.applicationId.uuidString.lowercased(), name: item.applicant.name, phone: item.applicant.phone, stateTitle: item.stateTitle,
                stoppedAt: item.stoppedAt.flatMap { JourneyStep(rawValue: $0)?.titleZh } ?? "—", since: Self.time(item.since),
                qualification: item.qualification?.label ?? "—", canNudge: canNudge && item.stoppedAt != nil, nudgedToday: item.nudgedToday,
                messagesHref: "/console/applications/\(item.applicationId.uuidString.lowercased())/messages")
        }
        let context = CustomersContext(page: Self.console.chrome(req, "我的客户", principal), rows: rows, notice: notice, error: error)
        return try await req.renderPage("console/customers", context, status: status)
    }

    func nudge(_ req: Request) async throws -> Response {
        do {
            _ = try await desk(req).nudge(StaffAPIController.id(req))
            return try await renderCustomers(req, notice: "提醒短信已发送。", error: nil)
        } catch let error as APIError where error.status != .notFound {
            return try await renderCustomers(req, notice: nil, error: error.messageZh, status: error.status)
        }
    }

    // MARK: 云接洽

    struct MessagesContext: Encodable {
        struct Message: Encodable {
            let mine: Bool
            let text: String
            let time: String
            let slots: String
            let picked: String
        }
        let page: ConsoleChrome
        let applicationHref: String
        let action: String
        let applicant: String
        let messages: [Message]
        let consented: Bool
        let form: FormState
    }

    func conversation(_ req: Request) async throws -> (Conversation, LoanApplication) {
        let (application, _) = try await desk(req).applications.find(StaffAPIController.id(req), for: .messageApplicant)
        return (Conversation(db: req.db, services: req.yidai, application: application), application)
    }

    func messages(_ req: Request) async throws -> Response { try await renderMessages(req, form: FormState()) }

    func renderMessages(_ req: Request, form: FormState, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.staff
        let (conversation, application) = try await conversation(req)
        let list = try await conversation.list()
        let applications = try desk(req).applications
        let id = application.id!.uuidString.lowercased()
        let context = MessagesContext(
            page: Self.console.chrome(req, "云接洽", principal), applicationHref: "/console/applications/\(id)", action: "/console/applications/\(id)/messages",
            applicant: "\(try await applications.maskedName(application)) · \(try await applications.maskedPhone(application))",
            messages: list.items.map {
                .init(mine: $0.from == "manager", text: $0.text, time: Self.time($0.sentAt),
                      slots: ($0.slots ?? []).map(Conversation.slotLabel).joined(separator: "、"), picked: $0.pickedSlot.map(Conversation.slotLabel) ?? "")
            },
            consented: list.consented, form: form)
        return try await req.renderPage("console/messages", context, status: status)
    }

    struct MessageForm: Content {
        var text: String?
        var slot: String?
    }

    func send(_ req: Request) async throws -> Response {
        let form = try req.content.decode(MessageForm.self)
        var slots: [String]?
        if let slot = form.slot?.trimmingCharacters(in: .whitespaces), !slot.isEmpty {
            // A datetime-local field: Beijing time without an offset.
            slots = [slot.count == 16 ? slot + ":00+08:00" : slot]
        }
        do {
            let (conversation, _) = try await conversation(req)
            _ = try await conversation.managerSends(MessageIn(text: form.text, consent: nil, slots: slots, pickSlot: nil), staff: try req.staff)
            return req.redirect(to: req.url.path)
        } catch let error as APIError where error.status != .notFound {
            var state = FormState(values: ["text": form.text ?? "", "slot": form.slot ?? ""])
            state.record(error, fieldMap: ["text": "text", "slots": "slot"], fallbackField: "text")
            return try await renderMessages(req, form: state, status: error.status)
        }
    }
}
