import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Vapor

/// Text messages to applicants, sent through the database's job queue so that each event's message goes out
/// exactly once: `enqueue` runs inside the transaction of the change that causes it (the message exists if and
/// only if the change committed), its event key is unique (a second enqueue of the same event adds nothing), a
/// worker in each server claims the job by lease (`JobQueue.claimDue`) and sends it with the notification's id as
/// the gateway's reference, so a worker that died after the send and is retried is not delivered twice.
/// A gateway outage leaves the job queued with a growing delay.
struct Notifications {
    static let jobKind = "notification"
    static let maxAttempts = 10

    enum State {
        static let queued = "queued"
        static let sent = "sent"
        static let skipped = "skipped"
        static let failed = "failed"
    }

    let db: Database
    let services: YidaiServices
    var logger: Logger = Logger(label: "yidai.notifications")

    /// Queues `template` for the application's phone under `eventKey` in the caller's transaction; false when the
    /// event already has its message.
    @discardableResult
    static func enqueue(
        _ template: NotificationTemplate, values: [String: String] = [:], application: UUID, phoneIndex: String? = nil,
        eventKey: String, on tx: any Database, services: YidaiServices
    ) async throws -> Bool {
        guard let sql = tx as? any SQLDatabase else { throw NotificationError("notifications need an SQL database") }
        let now = services.clock.now()
        let id = RandomID.uuid()
        // The person's phone: given by a caller that holds the application, else read.
        var person = phoneIndex
        if person == nil {
            person = try await sql.raw("SELECT phone_index FROM applications WHERE id = \(bind: application)").first()?
                .decode(column: "phone_index", as: String.self)
        }
        guard let person else { throw NotificationError("application \(application) is missing") }
        let text = try await PersonVault(db: tx, services: services).seal(try template.render(values), phoneIndex: person, as: .general)
        let insert: SQLQueryString = """
            INSERT INTO notifications (id, event_key, application_id, template, template_version, purpose, text_sealed, state, attempts, created_at)
            VALUES (\(bind: id), \(bind: eventKey), \(bind: application), \(bind: template.key), \(bind: template.version), \(bind: template.purpose.rawValue), \(bind: text), \(bind: State.queued), 0, \(bind: now))
            ON CONFLICT (event_key) DO NOTHING RETURNING id
            """
        if tx.isSQLite {
            // SQLite has no data-modifying WITH: the message, then its job.
            guard try await !sql.raw(insert).all().isEmpty else { return false }
            try await JobQueue.enqueue(kind: jobKind, reference: id, on: tx, now: now)
            return true
        }
        // PostgreSQL: the message and its job in one statement; the job only when the message went in.
        let queued = try await sql.raw("WITH note AS (" + insert + ") " + JobQueue.enqueueing(kind: jobKind, referenceFrom: "note", now: now)).all()
        return !queued.isEmpty
    }

    /// Notifications a worker claims at a time.
    static let batch = 50
    /// Notifications a worker sends at the same time.
    static let width = 4

    /// Sends every due notification once; returns how many were tried.
    @discardableResult
    func runDue(limit: Int = batch) async throws -> Int {
        try await JobQueue.runDue(kind: Self.jobKind, limit: limit, width: Self.width, db: db, now: services.clock.now()) { job in
            await send(job)
        }
    }

    /// Sends one claimed job's message and records how it ended.
    func send(_ job: BackgroundJob) async {
        let now = services.clock.now()
        var jobState = BackgroundJobState.queued
        var noteState: String?
        var error: String?
        var sentApplication: UUID?
        var template = "-"
        do {
            guard let (notification, recipient) = try await Self.message(job.reference, on: db) else {
                throw NotificationError("notification \(job.reference) is missing")
            }
            template = notification.template
            if notification.state != State.queued {
                jobState = BackgroundJobState.done
            } else if let recipient {
                let vault = PersonVault(db: db, services: services)
                let phone = try MobileNumber(try await vault.open(recipient.phoneSealed))
                if notification.purpose == NotificationTemplate.Purpose.marketing.rawValue, recipient.privacyState != nil || recipient.optedOut {
                    (jobState, noteState, error) = (BackgroundJobState.done, State.skipped, "the phone opted out of marketing")
                } else {
                    let (sms, text) = (services.providers.sms, try await vault.open(notification.textSealed))
                    try await services.metrics.measure(provider: "sms") { try await sms.send(to: phone, text: text, reference: "notification:\(job.reference)") }
                    (jobState, noteState, sentApplication) = (BackgroundJobState.done, State.sent, notification.applicationID)
                }
            } else {
                (jobState, noteState, error) = (BackgroundJobState.cancelled, State.skipped, "the application no longer exists")
            }
        } catch let failure {
            error = String(describing: failure).prefix(300).description
            if job.attempts >= Self.maxAttempts { (jobState, noteState) = (BackgroundJobState.failed, State.failed) }
        }
        let delay = min(3600, 10 * pow(2, Double(max(0, job.attempts - 1))))
        let runAfter = now.addingTimeInterval(jobState == BackgroundJobState.queued ? delay : 0)
        if let error, jobState != BackgroundJobState.done {
            logger.warning("Notification job \(job.id?.uuidString ?? "?") (attempt \(job.attempts)): \(error)")
        }
        let (finalJob, finalNote, lastError, services, id, attempts) = (jobState, noteState, error, services, job.reference, job.attempts)
        let (sentTo, sentTemplate) = (sentApplication, template)
        do {
            let jobID = try job.requireID()
            // Plain statements: every message of every journey ends here.
            let finishing = JobQueue.finishing(jobID, state: finalJob, lastError: lastError, runAfter: runAfter, now: now)
            let noting: SQLQueryString = """
                UPDATE notifications SET attempts = \(bind: attempts), last_error = \(bind: lastError),
                    state = COALESCE(\(bind: finalNote), state),
                    sent_at = CASE WHEN \(bind: finalNote == State.sent) THEN \(bind: now) ELSE sent_at END
                WHERE id = \(bind: id)
                """
            let details = ["template": sentTemplate, "notification": id.uuidString]
            guard db.isSQLite else {
                // PostgreSQL: the job, the message and, for a message sent, its audit entry (unsealed) in one statement.
                var updates: SQLQueryString = "WITH job AS (" + finishing + "), note AS (" + noting + ")"
                let entry = try sentTo.map {
                    try AuditTrail.Pending(application: $0, actor: "system", action: "notification.sent", details: details, now: now, cipher: services.cipher)
                }
                if let entry {
                    updates = updates + ", entry AS (" + PreparedStatements.text(AuditTrail.Pending.insert(first: 1, after: nil), entry.values) + ")"
                }
                let statement = updates + " SELECT 1 AS done"
                try await db.writeStatement { sql in try await sql.raw(statement).run() }
                if let entry { services.auditWatch.wrote(entry, on: db) }
                return
            }
            try await db.writeTransaction { tx in
                guard let sql = tx as? any SQLDatabase else { throw NotificationError("notifications need an SQL database") }
                try await sql.raw(finishing).run()
                try await sql.raw(noting).run()
                if let sentTo {
                    try await AuditTrail(db: tx, services: services).record(application: sentTo, actor: "system", action: "notification.sent", details: details)
                }
            }
        } catch {
            logger.error("Notification job \(job.id?.uuidString ?? "?") could not be updated: \(error)")
        }
    }
}

extension Notifications {
    /// Who a notification goes to: the application's phone (sealed), whether the person asked for erasure, and whether
    /// the phone opted out of marketing.
    struct Recipient {
        let phoneSealed: String
        let privacyState: String?
        let optedOut: Bool
    }

    /// What a job sends: its notification and the recipient, in one statement; nil when the notification is missing,
    /// and no recipient when its application no longer exists.
    struct Message {
        let template: String
        let state: String
        let purpose: String
        let textSealed: String
        let applicationID: UUID
    }

    static func message(_ id: UUID, on db: any Database) async throws -> (Message, Recipient?)? {
        guard let sql = db as? any SQLDatabase else { throw NotificationError("notifications need an SQL database") }
        guard let row = try await sql.raw("""
            SELECT n.template, n.state, n.purpose, n.text_sealed, n.application_id, a.id AS found, a.phone_sealed, a.privacy_state,
                EXISTS (SELECT 1 FROM marketing_opt_outs o WHERE o.phone_index = a.phone_index) AS opted_out
            FROM notifications n LEFT JOIN applications a ON a.id = n.application_id WHERE n.id = \(bind: id)
            """).first()
        else { return nil }
        let message = Message(
            template: try row.decode(column: "template", as: String.self), state: try row.decode(column: "state", as: String.self),
            purpose: try row.decode(column: "purpose", as: String.self), textSealed: try row.decode(column: "text_sealed", as: String.self),
            applicationID: try row.decode(column: "application_id", as: UUID.self))
        guard try row.decode(column: "found", as: UUID?.self) != nil else { return (message, nil) }
        let recipient = Recipient(
            phoneSealed: try row.decode(column: "phone_sealed", as: String.self),
            privacyState: try row.decode(column: "privacy_state", as: String?.self),
            optedOut: try row.decode(column: "opted_out", as: Bool.self))
        return (message, recipient)
    }
}

/// The messages each change of an application or loan causes, queued in the change's own transaction. The one
/// place that knows which event sends what (the templates' texts live in `NotificationTemplate`).
enum Milestones {
    /// The states whose entry sends the applicant a message (`applicationMoved`).
    static let messageStates: Set<ApplicationState> = [.approved, .declined, .loanRequested, .disbursed]

    /// Whether entering `state` queues a message, so its change needs a transaction for it.
    static func queuesMessage(entering state: String) -> Bool {
        ApplicationState(rawValue: state).map(messageStates.contains) ?? false
    }

    /// Called by `ApplicationStore.commit` whenever an application's state changes; returns whether it queued a message.
    @discardableResult
    static func applicationMoved(_ application: LoanApplication, from previous: String, on tx: any Database, services: YidaiServices) async throws -> Bool {
        let id = try application.requireID()
        let state = try application.applicationState
        guard messageStates.contains(state) else { return false }
        switch state {
        case .approved:
            try await Notifications.enqueue(
                .decisionApproved, values: ["limit": application.creditLimit ?? "-", "rate": application.annualRate ?? "-"],
                application: id, phoneIndex: application.phoneIndex, eventKey: "decision:\(id)", on: tx, services: services)
        case .declined:
            try await Notifications.enqueue(.decisionDeclined, application: id, phoneIndex: application.phoneIndex, eventKey: "decision:\(id)", on: tx, services: services)
        case .loanRequested:
            try await Notifications.enqueue(
                .contractReady, values: ["amount": application.loanAmount ?? "-"], application: id, phoneIndex: application.phoneIndex, eventKey: "contract:\(id)", on: tx, services: services)
        case .disbursed:
            // The loan booked in this transaction and its first due date, in one statement.
            guard let sql = tx as? any SQLDatabase else { throw NotificationError("notifications need an SQL database") }
            let loan = try await sql.raw("""
                SELECT l.principal_fen, i.due_date FROM loans l
                LEFT JOIN loan_installments i ON i.loan_id = l.id AND i.number = 1
                WHERE l.application_id = \(bind: id) LIMIT 1
                """).first()
            let firstDue = try loan?.decode(column: "due_date", as: String?.self) ?? "-"
            let amount = try loan.map { Money.string(fen: try $0.decode(column: "principal_fen", as: Int64.self)) } ?? (application.loanAmount ?? "-")
            try await Notifications.enqueue(
                .paidOut, values: ["amount": amount, "card": String((application.cardMasked ?? "----").suffix(4)), "firstDue": firstDue],
                application: id, phoneIndex: application.phoneIndex, eventKey: "paid_out:\(id)", on: tx, services: services)
            try await LeadBook.applicationPaidOut(id, phoneIndex: application.phoneIndex, on: tx, services: services)
        default:
            return false
        }
        return true
    }

    /// Called by `LoanBook.updateStatus` when a loan changes status.
    static func loanMoved(_ loan: Loan, to status: LoanStatus, on tx: any Database, services: YidaiServices) async throws {
        guard status == .paidOff, let id = loan.id else { return }
        try await Notifications.enqueue(
            .paidOff, values: ["amount": Money.string(fen: loan.principalFen)], application: loan.applicationID, eventKey: "paid_off:\(id)",
            on: tx, services: services)
    }

    /// End of day `date`: reminders for installments due in 3 days and for those overdue 1 and 7 days (each once).
    static func dailyReminders(on date: CivilDate, db: Database, services: YidaiServices) async throws -> Int {
        let soon = date.adding(days: 3).iso
        let day1 = date.adding(days: -1).iso
        let day7 = date.adding(days: -7).iso
        let rows = try await LoanInstallment.query(on: db).filter(\.$dueDate ~~ [soon, day1, day7]).all()
        var queued = 0
        for row in rows {
            let position = try row.position
            let owed = position.principalFen + position.interestFen + position.penaltyFen - position.paidPrincipalFen - position.paidInterestFen - position.paidPenaltyFen
            guard owed > 0, let loan = try await Loan.find(row.loanID, on: db), !(try loan.loanStatus).isClosed else { continue }
            let (template, tag): (NotificationTemplate, String) =
                row.dueDate == soon ? (.dueSoon, "due_soon") : row.dueDate == day1 ? (.overdueDay1, "overdue_1") : (.overdueDay7, "overdue_7")
            let values = ["number": String(row.number), "amount": Money.string(fen: owed), "dueDate": row.dueDate]
            let key = "\(tag):\(row.loanID):\(row.number)"
            let added = try await db.writeTransaction { tx in
                try await Notifications.enqueue(template, values: values, application: loan.applicationID, eventKey: key, on: tx, services: services)
            }
            if added { queued += 1 }
        }
        return queued
    }
}

/// Phones that replied 退订 (or withdrew marketing consent): nothing marketing is sent to them again.
enum MarketingOptOuts {
    static func hasOptedOut(phoneIndex: String, on db: any Database) async throws -> Bool {
        try await MarketingOptOut.query(on: db).filter(\.$phoneIndex == phoneIndex).first() != nil
    }

    /// Records the opt-out once (a second one changes nothing); audited.
    static func record(phoneIndex: String, source: String, on tx: any Database, services: YidaiServices) async throws {
        guard let sql = tx as? any SQLDatabase else { return }
        let rows = try await sql.raw("""
            INSERT INTO marketing_opt_outs (id, phone_index, source, at) VALUES (\(bind: RandomID.uuid()), \(bind: phoneIndex), \(bind: source), \(bind: services.clock.now()))
            ON CONFLICT (phone_index) DO NOTHING RETURNING id
            """).all()
        if !rows.isEmpty {
            try await AuditTrail(db: tx, services: services).record(application: nil, actor: "applicant", action: "marketing.opted_out", details: ["source": source])
        }
    }

    /// A reply from a phone: 退订 (or TD / T, as operators accept) opts the phone out of marketing.
    static func isOptOutReply(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return ["退订", "TD", "T", "N", "取消订阅"].contains(t)
    }
}

/// The sandbox SMS outbox in the database (bounded to the last 1,000 messages and 24 hours), sealed at rest.
/// Sandbox only.
struct DatabaseSandboxOutbox: SandboxOutboxStore {
    let db: Database
    let cipher: FieldCipher
    static let keep = 1000

    func append(_ message: SandboxSMSMessage, reference: String?) async throws -> Bool {
        let index = cipher.blindIndex(message.phone, purpose: "phone")
        let vault = PersonVault(db: db, cipher: cipher)
        let sealed = try await vault.seal([message.phone, message.text], phoneIndex: index, as: .general)
        let (phone, text) = (sealed[0], sealed[1])
        // One statement (its own transaction on PostgreSQL); the occasional trim runs after it.
        let inserted = try await db.writeStatement { sql in
            try await sql.raw("""
                INSERT INTO sandbox_sms (id, phone_index, phone_sealed, text_sealed, reference, sent_at, position)
                VALUES (\(bind: RandomID.uuid()), \(bind: index), \(bind: phone), \(bind: text), \(bind: reference), \(bind: message.sentAt),
                        (SELECT COALESCE(MAX(position), 0) + 1 FROM sandbox_sms))
                ON CONFLICT (reference) DO NOTHING RETURNING id
                """).all()
        }
        if Int.random(in: 0..<50) == 0 {
            let cutoff = message.sentAt.addingTimeInterval(-86_400)
            try await db.writeStatement { sql in
                try await sql.raw("DELETE FROM sandbox_sms WHERE sent_at < \(bind: cutoff)").run()
            }
            try await db.writeStatement { sql in
                try await sql.raw("DELETE FROM sandbox_sms WHERE id NOT IN (SELECT id FROM sandbox_sms ORDER BY position DESC LIMIT \(unsafeRaw: String(Self.keep)))").run()
            }
        }
        return !inserted.isEmpty
    }

    func list(phone: String?, limit: Int) async throws -> [SandboxSMSMessage] {
        guard let sql = db as? any SQLDatabase else { throw AuditError("the sandbox outbox needs an SQL database") }
        // A plain statement: the journey benchmark reads the outbox for every code, and model reflection cost more
        // than the read.
        let filter: SQLQueryString = phone.map { "WHERE phone_index = \(bind: cipher.blindIndex($0, purpose: "phone")) " } ?? ""
        let rows = try await sql.raw(
            "SELECT phone_sealed, text_sealed, sent_at FROM sandbox_sms " + filter
                + "ORDER BY position DESC LIMIT \(unsafeRaw: String(min(max(limit, 0), Self.keep)))"
        ).all()
        let vault = PersonVault(db: db, cipher: cipher)
        var messages: [SandboxSMSMessage] = []
        for row in rows {
            // An erased person's messages can no longer be read: they are left out.
            guard let phone = try await vault.openIfKept(try row.decode(column: "phone_sealed", as: String.self)),
                let text = try await vault.openIfKept(try row.decode(column: "text_sealed", as: String.self))
            else { continue }
            messages.append(SandboxSMSMessage(phone: phone, text: text, sentAt: try row.decode(column: "sent_at", as: Date.self)))
        }
        return messages
    }
}
