import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// What law makes the bank keep after a person asks for erasure, and for how long: data, not code paths, so the
/// compliance team can read (and test) them in one place.
enum RetentionRules {
    enum Event: String, Sendable {
        /// The privacy job carries out the erasure request.
        case erasureCarriedOut = "erasure_carried_out"
        /// The person's last loan is closed (paid off or written off): the business relationship ends.
        case relationshipEnded = "relationship_ended"
        /// The record was made.
        case created
    }

    struct Rule: Sendable {
        let data: String
        let titleZh: String
        /// Keep this long after the event, in calendar months and hours (both 0: destroy at the event).
        let keepMonths: Int
        var keepHours = 0
        let from: Event
        /// Only for people who borrowed (a loan was paid out to them).
        let borrowersOnly: Bool
        let law: String
    }

    static let rules: [Rule] = [
        Rule(data: "general", titleZh: "征信报告、填写的信息、识别读数、消息、线索与通知", keepMonths: 0, from: .erasureCarriedOut, borrowersOnly: false,
             law: "个人信息保护法第47条：无法律要求保存的，删除"),
        Rule(data: "kept", titleZh: "身份识别资料（姓名、身份证号、地址、手机号、银行卡）", keepMonths: 0, from: .erasureCarriedOut, borrowersOnly: false,
             law: "未建立业务关系（未放款）：无保存义务，删除"),
        Rule(data: "kept", titleZh: "身份识别资料、借款合同与交易记录", keepMonths: 5 * 12, from: .relationshipEnded, borrowersOnly: true,
             law: "反洗钱法第19条：业务关系结束后至少保存5年；借款合同及其台账随之保存"),
        Rule(data: "export", titleZh: "个人信息副本（下载文件）", keepMonths: 0, keepHours: 24, from: .created, borrowersOnly: false, law: "仅供本人下载24小时"),
    ]

    /// How long the kept class of a person must still be held: nil to destroy now; `.distantFuture` while a loan is open.
    static func keptUntil(loans: [(status: String, closedOn: String?)]) -> Date? {
        guard let rule = rules.first(where: { $0.data == "kept" && $0.borrowersOnly }), !loans.isEmpty else { return nil }
        if loans.contains(where: { !(LoanStatus(rawValue: $0.status)?.isClosed ?? false) }) { return .distantFuture }
        let ends = loans.compactMap { $0.closedOn.flatMap(CivilDate.init(iso:)) }
        guard let last = ends.max() else { return .distantFuture }
        return ContractService.startOfDay(last.adding(months: rule.keepMonths))
    }
}

/// The privacy job (hourly in `serve`, now with `yidai privacy run`): carries out accepted erasure requests and
/// destroys what has reached the end of its retention. `dryRun` lists what it would do and changes nothing.
/// Each run that does something is audited.
struct PrivacyJob {
    let db: Database
    let services: YidaiServices
    var now: Date { services.clock.now() }

    struct Action: Content {
        let request: UUID
        let phone: String
        /// erase (nothing kept), lock (kept class locked until keptUntil), destroy (retention ended).
        let action: String
        let keptUntil: Date?
        let detail: String
    }

    struct Report: Content {
        let dryRun: Bool
        let actions: [Action]
        let exportsRemoved: Int
    }

    func run(dryRun: Bool) async throws -> Report {
        var actions: [Action] = []
        for request in try await ErasureRequest.query(on: db).filter(\.$state == "accepted").sort(\.$receivedAt).all() {
            actions.append(try await carryOut(request, dryRun: dryRun))
        }
        for request in try await ErasureRequest.query(on: db).filter(\.$state == "locked").all() {
            if let action = try await reviewLock(request, dryRun: dryRun) { actions.append(action) }
        }
        let removed = try await PrivacyExport.query(on: db).filter(\.$expiresAt <= now).count()
        if !dryRun {
            try await PrivacyExport.query(on: db).filter(\.$expiresAt <= now).delete()
            try await PrivacySession.query(on: db).filter(\.$expiresAt <= now).delete()
            if !actions.isEmpty || removed > 0 {
                try await AuditTrail(db: db, services: services).record(
                    application: nil, actor: "system", action: "privacy.job_ran",
                    details: ["actions": String(actions.count), "exportsRemoved": String(removed),
                              "summary": actions.map { "\($0.action):\($0.request.uuidString.prefix(8))" }.joined(separator: ",")])
            }
        }
        return Report(dryRun: dryRun, actions: actions, exportsRemoved: removed)
    }

    private func loans(of phoneIndex: String) async throws -> [(status: String, closedOn: String?)] {
        try await Loan.query(on: db).filter(\.$phoneIndex == phoneIndex).all().map { ($0.status, $0.closedOn) }
    }

    /// Erases or locks one person's data, in one transaction with its audit entry.
    private func carryOut(_ request: ErasureRequest, dryRun: Bool) async throws -> Action {
        let id = try request.requireID()
        let person = request.phoneIndex
        let keptUntil = RetentionRules.keptUntil(loans: try await loans(of: person))
        let tombstone = "erased:" + id.uuidString.lowercased()
        let action = Action(
            request: id, phone: request.phoneMasked, action: keptUntil == nil ? "erase" : "lock", keptUntil: keptUntil == .distantFuture ? nil : keptUntil,
            detail: keptUntil == nil
                ? "destroy both data keys; tombstone every blind index; delete leads, sessions, codes, exports and sandbox messages"
                : "destroy the general key; lock identification, contract and ledger (kept key) \(keptUntil == .distantFuture ? "until 5 years after the last loan closes" : "until the retention ends")")
        guard !dryRun else { return action }
        let services = services
        let now = now
        let keys = try await PersonKey.query(on: db).filter(\.$phoneIndex == person).all()
        try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { return }
            // The request is taken once, whichever instance runs the job.
            let taken = try await sql.raw("""
                UPDATE erasure_requests SET state = \(bind: keptUntil == nil ? "erased" : "locked"), carried_out_at = \(bind: now),
                  kept_until = \(bind: keptUntil == .distantFuture ? nil : keptUntil), outcome = \(bind: action.detail), phone_index = \(bind: tombstone),
                  version = version + 1
                WHERE id = \(bind: id) AND state = 'accepted' RETURNING id
                """).all()
            guard !taken.isEmpty else { return }
            let vault = PersonVault(db: tx, services: services)
            for key in keys {
                if key.dataClass == PersonVault.DataClass.general.rawValue || keptUntil == nil {
                    try await vault.destroy(try key.requireID())
                } else {
                    // Locked: the key stays (the contract and ledger stay readable for compliance) but no longer leads to the phone.
                    try await sql.raw("UPDATE person_keys SET phone_index = \(bind: tombstone), destroy_after = \(bind: keptUntil == .distantFuture ? nil : keptUntil) WHERE id = \(bind: key.requireID())").run()
                    services.cipher.personKeys.forget(id: try key.requireID())
                }
            }
            try await Self.removeGeneralRows(person, sql: sql)
            let applications = try await LoanApplication.query(on: tx).filter(\.$phoneIndex == person).all()
            for application in applications {
                // An application still in progress ends here; a paid-out one goes on being serviced (the contract binds).
                if let state = try? application.applicationState, !state.isTerminal, state != .disbursing {
                    application.state = ApplicationState.cancelled.rawValue
                }
                application.privacyState = keptUntil == nil ? "erased" : "locked"
                // The general class is gone: its ciphertexts are cleared too, not only unreadable.
                application.ocrSealed = nil
                application.pendingCardSealed = nil
                application.bureauReportSealed = nil
                application.aboutYouSealed = nil
                if keptUntil == nil {
                    application.phoneIndex = tombstone
                    application.idNumberIndex = application.idNumberIndex.map { _ in tombstone }
                    application.cardIndex = application.cardIndex.map { _ in tombstone }
                }
                // A compare-and-set like every other change: a journey step saving this application at the same
                // moment gets 409 instead of writing its columns back over the erasure.
                _ = try await ApplicationStore.advance(try application.requireID(), from: application.version, on: tx)
                application.version += 1
                try await application.save(on: tx)
                try await AuditTrail(db: tx, services: services).record(
                    application: application.id, actor: "system", action: keptUntil == nil ? "privacy.erased" : "privacy.locked",
                    details: ["request": id.uuidString, "state": application.state])
            }
            if keptUntil == nil {
                try await sql.raw("UPDATE consents SET phone_index = \(bind: tombstone) WHERE phone_index = \(bind: person)").run()
            }
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "system", action: keptUntil == nil ? "privacy.erasure_carried_out" : "privacy.erasure_locked",
                details: ["request": id.uuidString, "phone": request.phoneMasked, "keys": String(keys.count)])
        }
        return action
    }

    /// Rows that hold only the general class (or only lead to the phone): deleted outright.
    static func removeGeneralRows(_ person: String, sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM lead_events WHERE lead_id IN (SELECT id FROM leads WHERE phone_index = \(bind: person))").run()
        try await sql.raw("DELETE FROM leads WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM conversation_messages WHERE application_id IN (SELECT id FROM applications WHERE phone_index = \(bind: person))").run()
        try await sql.raw("DELETE FROM conversation_consents WHERE application_id IN (SELECT id FROM applications WHERE phone_index = \(bind: person))").run()
        try await sql.raw("UPDATE notifications SET state = 'skipped' WHERE state = 'queued' AND application_id IN (SELECT id FROM applications WHERE phone_index = \(bind: person))").run()
        try await sql.raw("DELETE FROM contract_drafts WHERE application_id IN (SELECT id FROM applications WHERE phone_index = \(bind: person))").run()
        try await sql.raw("DELETE FROM privacy_exports WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM privacy_sessions WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM one_time_codes WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM code_sends WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM applicant_sessions WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM sandbox_sms WHERE phone_index = \(bind: person)").run()
        try await sql.raw("DELETE FROM marketing_opt_outs WHERE phone_index = \(bind: person)").run()
    }

    /// A locked person: once every loan is closed the retention end is fixed; once it passes, the kept key goes too.
    private func reviewLock(_ request: ErasureRequest, dryRun: Bool) async throws -> Action? {
        let id = try request.requireID()
        let tombstone = request.phoneIndex
        guard let key = try await PersonKey.query(on: db).filter(\.$phoneIndex == tombstone).first() else { return nil }
        let applications = try await LoanApplication.query(on: db).filter(\.$privacyState == "locked").all()
        let mine = applications.filter { PersonVault.keyID(of: $0.phoneSealed) == key.id }
        let loans = try await Loan.query(on: db).filter(\.$applicationID ~~ mine.compactMap(\.id)).all().map { ($0.status, $0.closedOn) }
        let until = RetentionRules.keptUntil(loans: loans)
        if let until, until > now {
            if until != .distantFuture, key.destroyAfter != until, !dryRun {
                key.destroyAfter = until
                try await key.save(on: db)
                request.keptUntil = until
                try await request.save(on: db)
            }
            return nil
        }
        let action = Action(request: id, phone: request.phoneMasked, action: "destroy", keptUntil: until, detail: "retention ended: destroy the kept key and tombstone the blind indexes")
        guard !dryRun else { return action }
        let services = services
        try await db.writeTransaction { tx in
            try await PersonVault(db: tx, services: services).destroy(try key.requireID())
            for application in mine {
                application.privacyState = "erased"
                application.phoneIndex = tombstone
                application.idNumberIndex = application.idNumberIndex.map { _ in tombstone }
                application.cardIndex = application.cardIndex.map { _ in tombstone }
                _ = try await ApplicationStore.advance(try application.requireID(), from: application.version, on: tx)
                application.version += 1
                try await application.save(on: tx)
            }
            if let sql = tx as? any SQLDatabase {
                try await sql.raw("UPDATE loans SET phone_index = \(bind: tombstone) WHERE application_id IN (SELECT id FROM applications WHERE phone_index = \(bind: tombstone))").run()
            }
            request.state = "destroyed"
            try await request.save(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "system", action: "privacy.retention_ended", details: ["request": id.uuidString, "phone": request.phoneMasked])
        }
        return action
    }
}
