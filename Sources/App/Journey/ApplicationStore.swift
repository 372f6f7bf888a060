import Fluent
import Foundation
import LendingCore
import SQLKit

/// Saves an application's change as a compare-and-set, with its audit entry.
///
/// On PostgreSQL the save writes the change's audit entry (unsealed, `AuditTrail.Pending`) and its move in the journey
/// funnel in the same statement, so a change that does nothing else is that one statement, with no transaction around
/// it; a change that writes more (its `also`, a message its new state queues) is that statement and the rest in one
/// transaction. A change proved by an SMS code uses the code up in the same statement: it locks the code and the
/// application's row at the version it was read at, and writes both, or neither (`LoanApplication.Recording`). SQLite
/// writes the row, then the entry, then uses the code, in one write transaction.
///
/// The application carries the `version` it was read at. The save first moves the row from that version to the
/// next in one statement; if another request changed the application in between, no row matches, nothing of
/// this request is written (its extra rows, its consumed code, its audit entry all roll back) and the caller
/// gets 409 naming the state that won. So two requests at the same moment can never both act on one state.
struct ApplicationStore {
    let db: Database
    let services: YidaiServices

    /// `consuming`: the SMS code that proves this change, used up with it, or the change is refused (409
    /// `code_already_used`) when another request used it first; a change that is refused leaves its code unused.
    func commit(
        _ application: LoanApplication, actor: String, action: String, details: [String: String], consuming proof: OneTimeCodes.Proof? = nil,
        also: (@Sendable (any Database) async throws -> Void)? = nil
    ) async throws {
        let expected = application.version
        let newState = application.state
        let now = services.clock.now()
        let queued: Bool
        do {
            queued = try await write(
                application, expected: expected, newState: newState, now: now, actor: actor, action: action, details: details, consuming: proof,
                also: also)
        } catch {
            application.version = expected  // nothing was saved
            throw error
        }
        // The move queued a message: this instance's worker sends it now, not at its next look (once committed:
        // inside a caller's transaction the worker would look before the message is there).
        if queued && !db.inTransaction { services.jobs.signal(kind: Notifications.jobKind) }
        application.loadedState = newState
        application.loadedFunnel = try? JourneyFunnel.position(application)
    }

    /// Returns whether the move queued a message.
    private func write(
        _ application: LoanApplication, expected: Int, newState: String, now: Date, actor: String, action: String,
        details: [String: String], consuming proof: OneTimeCodes.Proof?, also: (@Sendable (any Database) async throws -> Void)?
    ) async throws -> Bool {
        let id = try application.requireID()
        let services = services
        // The code's use, where it is not part of the save's own statement: in the change's transaction, after the row.
        let consume: @Sendable (any Database) async throws -> Void = { tx in
            if let proof { try await OneTimeCodes(db: tx, services: services).consume(proof, on: tx) }
        }
        application.version = expected + 1
        application.lastActivityAt = now
        // The funnel's rows change only when the completed steps or the current one do.
        let funnelMoved = application.loadedFunnel == nil || (try? JourneyFunnel.position(application)) != application.loadedFunnel
        if !db.isSQLite, let loaded = application.loadedState {
            // Read by `load` (its state then was `loaded`), on PostgreSQL: one statement moves the version on, writes
            // the row, the change's audit entry (unsealed) and the funnel's move since it was read.
            var details = details
            if loaded != newState { details["state"] = newState }
            let entry = try AuditTrail.Pending(application: id, actor: actor, action: action, details: details, now: now, cipher: services.cipher)
            let funnel = try application.loadedFunnel.flatMap(JourneyFunnel.Position.init).flatMap { since in
                funnelMoved ? try JourneyFunnel.Change(application, since: since, now: now) : nil
            }
            let recount = funnelMoved && funnel == nil  // no position it was read at: the funnel is written from none
            let queues = loaded != newState && Milestones.queuesMessage(entering: newState)
            let save: @Sendable (any Database, OneTimeCodes.Proof?) async throws -> Void = { db, folded in
                guard let sql = db as? any SQLDatabase else { throw AuditError("applications need an SQL database") }
                let matched = try await db.writeStatement { sql in
                    try await application.writeRowRecording(
                        entry, on: sql, now: now, matching: expected, funnel: funnel, consuming: folded, services: services)
                }
                guard matched else { throw try await Self.refusal(id, usingCodeAt: folded != nil ? expected : nil, on: sql) }
                services.auditWatch.wrote(entry, on: db)
            }
            guard also != nil || queues || recount else {
                try await save(db, proof)  // the whole change is this one statement, the code's use included
                return false
            }
            return try await db.writeTransaction { tx in
                try await save(tx, nil)
                try await consume(tx)
                try await also?(tx)
                let queued = loaded != newState ? try await Milestones.applicationMoved(application, from: loaded, on: tx, services: services) : false
                if recount { try await JourneyFunnel.record(application, on: tx, services: services, since: nil) }
                return queued
            }
        }
        return try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw AuditError("applications need an SQL database") }
            let previous: String
            if application.loadedState != nil, tx.isSQLite {
                // Read by `load`: one statement moves the version on and writes the row; its state then was `loaded`.
                guard try await application.writeRow(on: sql, now: now, matching: expected) else {
                    throw try await Self.refusal(id, on: sql)
                }
                previous = application.loadedState ?? newState
            } else {
                previous = try await Self.advance(id, from: expected, on: tx)
                _ = try await application.writeRow(on: sql, now: now, matching: expected + 1)
            }
            // The change's entry comes first, before whatever the change goes on to record (a review's own entries).
            var details = details
            if previous != newState { details["state"] = newState }
            try await AuditTrail(db: tx, services: services).record(application: id, actor: actor, action: action, details: details)
            try await consume(tx)
            try await also?(tx)
            let queued = previous != newState ? try await Milestones.applicationMoved(application, from: previous, on: tx, services: services) : false
            if funnelMoved {
                try await JourneyFunnel.record(application, on: tx, services: services, since: application.loadedFunnel)
            }
            return queued
        }
    }

    /// Moves the row's version on by one if it is still `expected`; returns the state it had, or throws 409.
    static func advance(_ id: UUID, from expected: Int, on tx: any Database) async throws -> String {
        guard let sql = tx as? any SQLDatabase else { throw AuditError("applications need an SQL database") }
        let rows = try await sql.raw(
            "UPDATE applications SET version = version + 1 WHERE id = \(bind: id) AND version = \(bind: expected) RETURNING state"
        ).all()
        if let row = rows.first { return try row.decode(column: "state", as: String.self) }
        throw try await refusal(id, on: sql)
    }

    /// Why a save that matched nothing was refused: the application moved on (409 naming its state now), or, when
    /// the save was to use a code and the application is still at `usingCodeAt`, the version it was read at, the code
    /// was used first.
    static func refusal(_ id: UUID, usingCodeAt expected: Int? = nil, on sql: any SQLDatabase) async throws -> APIError {
        let current = try await sql.raw("SELECT state, version FROM applications WHERE id = \(bind: id)").first()
        if let expected, let current, try current.decode(column: "version", as: Int.self) == expected { return OneTimeCodes.alreadyUsed }
        return raced(state: try current?.decode(column: "state", as: String.self) ?? "missing")
    }

    static func raced(state: String) -> APIError {
        APIError(
            .conflict, code: "application_changed",
            message: "Another request changed this application at the same moment; it is now \(state). Reload and try again.",
            messageZh: "申请状态已被同时发生的另一操作更新（当前：\(ApplicationStateText.chinese(state))），请刷新后重试。")
    }
}

enum ApplicationStateText {
    /// The state's Chinese title (LendingCore's `titleZh`), or the stored text when it is not a state.
    static func chinese(_ raw: String) -> String { ApplicationState(rawValue: raw)?.titleZh ?? raw }
}
