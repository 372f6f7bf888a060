import Fluent
import Foundation
import LendingCore
import PostgresNIO
import SQLKit
import Vapor

/// One application's step of the journey, for the funnel: when it became the current page and when it was done.
final class JourneyStepRecord: Model, @unchecked Sendable {
    static let schema = "journey_steps"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "step") var step: String
    /// The Beijing date the step was entered (YYYY-MM-DD): the reports' date range.
    @Field(key: "day") var day: String
    @Field(key: "entered_at") var enteredAt: Date
    @OptionalField(key: "completed_at") var completedAt: Date?
    @OptionalField(key: "seconds") var seconds: Double?
    /// On the last step (loan_request): from the application's start to its completion.
    @OptionalField(key: "journey_seconds") var journeySeconds: Double?
    @OptionalField(key: "channel") var channel: String?
    @OptionalField(key: "campaign") var campaign: String?
    @OptionalField(key: "manager_code") var managerCode: String?
    @OptionalField(key: "branch_code") var branchCode: String?

    init() {}
}

/// Records the funnel from the application itself, in the transaction of every change (`ApplicationStore.commit`
/// and the sign-in that creates it), so the pages and the API count the same: a step is entered when it becomes the
/// applicant's current step (the pages show it at once) and completed when the application says it is done,
/// whichever of the two did it. Rows are only ever added or completed, never removed.
enum JourneyFunnel {
    static let steps: [JourneyStep] = [.phone, .idCard, .face, .bankCard, .authorization, .aboutYou, .decision, .loanRequest]

    /// What the funnel rows of an application follow: its completed steps and its current one. A change that leaves
    /// this as it was when the application was read has nothing to write (`ApplicationStore.commit` skips `record`).
    static func position(_ application: LoanApplication) throws -> String {
        let progress = try application.progress
        let current = application.stopStep == nil ? progress.nextStep.rawValue : "-"
        return progress.completedSteps.map(\.rawValue).joined(separator: ",") + "|" + current
    }

    /// Brings the application's funnel rows up to date, without reading them first. With `since`, the position the
    /// application had when it was read (whose rows are written already), only what changed since is written; without
    /// it, every step it has done and its current one, which leaves alone what is written already (the completion
    /// touches open rows only, the insert only steps without a row), so an application that has rows or none gets
    /// exactly the rows it lacks.
    static func record(
        _ application: LoanApplication, on tx: any Database, services: YidaiServices, since loaded: String? = nil
    ) async throws {
        // Plain statements: this runs in every change's transaction, and Fluent's reflection over the row model
        // cost more than the work.
        guard let sql = tx as? any SQLDatabase else { throw AuditError("the journey funnel needs an SQL database") }
        let before = loaded.flatMap(Position.init) ?? Position(completed: [], current: nil)
        try await recordChange(application, since: before, on: sql, services: services)
    }

    /// A funnel position as `position(_:)` writes it.
    struct Position: Equatable {
        let completed: Set<JourneyStep>
        let current: JourneyStep?

        init(completed: Set<JourneyStep>, current: JourneyStep?) {
            self.completed = completed
            self.current = current
        }

        init?(_ text: String) {
            let parts = text.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            var completed = Set<JourneyStep>()
            for raw in parts[0].split(separator: ",") {
                guard let step = JourneyStep(rawValue: String(raw)) else { return nil }
                completed.insert(step)
            }
            self.completed = completed
            if parts[1] == "-" {
                current = nil
            } else {
                guard let step = JourneyStep(rawValue: String(parts[1])) else { return nil }
                current = step
            }
        }
    }

    /// What a change since `before` writes: the steps done since then (completed, or added as done when they have no
    /// row), and the new current step, if it is new (added).
    struct Change: Sendable {
        let newlyDone: [JourneyStep]
        let entered: JourneyStep?
        /// Seconds from the application's start: written on the loan request's row when it is completed.
        let journeySeconds: Double?

        init(_ application: LoanApplication, since before: Position, now: Date) throws {
            let progress = try application.progress
            let completed = Set(progress.completedSteps)
            let next = application.stopStep == nil ? progress.nextStep : nil
            newlyDone = steps.filter { completed.contains($0) && !before.completed.contains($0) }
            if let next, steps.contains(next), !completed.contains(next), !before.completed.contains(next), next != before.current {
                entered = next
            } else {
                entered = nil
            }
            journeySeconds = application.createdAt.map { max(0, now.timeIntervalSince($0)) }
        }

        var isEmpty: Bool { newlyDone.isEmpty && entered == nil }

        /// Rows to add: the steps done now, as done (a step whose row is there already keeps it: the insert leaves it
        /// alone, and the completion completes it if it was open), and the new current step.
        var added: [(step: JourneyStep, done: Bool)] { newlyDone.map { ($0, true) } + (entered.map { [($0, false)] } ?? []) }
    }

    /// PostgreSQL's parts of a statement that writes a change: `done AS (…), added AS (…)`, the application's id at
    /// `$<id>`, the change's own values (`values(of:…)`) from `$<first>` on, each part written only when `condition`
    /// (SQL) holds. Its parts see the rows as they were before the statement, so the insert leaves alone every step
    /// that had a row, open or done, and the update touches no row the insert adds. Selecting `results` then gives
    /// what it wrote, for `count`.
    static func changeParts(id: Int, first n: Int, when condition: String) -> String {
        "done AS (UPDATE journey_steps SET completed_at = $\(n), seconds = GREATEST(0, EXTRACT(EPOCH FROM ($\(n) - entered_at))), "
            + "journey_seconds = CASE WHEN step = '\(JourneyStep.loanRequest.rawValue)' THEN COALESCE($\(n + 1), journey_seconds) "
            + "ELSE journey_seconds END WHERE application_id = $\(id) AND completed_at IS NULL AND step = ANY($\(n + 2)) "
            + "AND \(condition) RETURNING step), "
            + "added AS (INSERT INTO journey_steps (id, application_id, step, day, entered_at, completed_at, seconds, channel, campaign, "
            + "manager_code, branch_code) SELECT u.id, $\(id), u.step, $\(n + 3), $\(n), CASE WHEN u.done THEN $\(n) END, "
            + "CASE WHEN u.done THEN 0.0::float8 END, $\(n + 4), $\(n + 5), $\(n + 6), "
            + "(SELECT branch_code FROM staff WHERE manager_code = $\(n + 6)) "
            + "FROM unnest($\(n + 7)::uuid[], $\(n + 8)::text[], $\(n + 9)::bool[]) AS u(id, step, done) "
            + "WHERE \(condition) ON CONFLICT (application_id, step) DO NOTHING RETURNING step, completed_at)"
    }

    /// The types of `changeParts`' values, in order.
    static let changeTypes: [PostgresDataType] = [.timestamptz, .float8, .textArray, .text, .text, .text, .text, .uuidArray, .textArray, .boolArray]

    /// What a statement with `changeParts` selects for `count`.
    static let results = "(SELECT array_agg(step) FROM done) AS funnel_completed, (SELECT array_agg(step) FROM added) AS funnel_entered, "
        + "(SELECT array_agg(step) FROM added WHERE completed_at IS NOT NULL) AS funnel_entered_done"

    /// `changeParts`' values for `change` of `application`, written at `now`.
    static func values(of change: Change, application: LoanApplication, now: Date) -> [any StatementValue & Sendable] {
        let added = change.added
        return [
            now, change.journeySeconds, change.newlyDone.map(\.rawValue), BusinessCalendar.civilDate(now).iso, application.channelLast,
            application.campaign, application.cmLast, added.map { _ in RandomID.uuid() }, added.map(\.step.rawValue), added.map(\.done),
        ]
    }

    /// Counts in the metrics what a statement with `changeParts` wrote (its `results`).
    static func count(results row: any SQLRow, services: YidaiServices) throws {
        for step in try row.decode(column: "funnel_completed", as: [String]?.self) ?? [] { services.metrics.recordJourneyStep(step, "completed") }
        for step in try row.decode(column: "funnel_entered", as: [String]?.self) ?? [] { services.metrics.recordJourneyStep(step, "entered") }
        for step in try row.decode(column: "funnel_entered_done", as: [String]?.self) ?? [] {
            services.metrics.recordJourneyStep(step, "completed")
        }
    }

    /// A change on its own (PostgreSQL): `changeParts` and nothing else.
    struct Move: PreparedRowStatement {
        static let name = "JourneyFunnel.Move"
        static let sql = "WITH " + changeParts(id: 1, first: 2, when: "TRUE") + " SELECT " + results
        static let bindingDataTypes: [PostgresDataType] = [.uuid] + changeTypes
        let values: [any StatementValue & Sendable]
    }

    /// The change since `before`: on PostgreSQL one statement completes and adds (`Move`; the application's save
    /// usually writes the change itself, `LoanApplication.writeRowRecording`); on SQLite an UPDATE (SQLite keeps
    /// dates as seconds since 1970), then a multi-row INSERT that leaves existing rows alone.
    private static func recordChange(
        _ application: LoanApplication, since before: Position, on sql: any SQLDatabase, services: YidaiServices
    ) async throws {
        let id = try application.requireID()
        let now = services.clock.now()
        let change = try Change(application, since: before, now: now)
        if sql.dialect.name != "sqlite" {
            guard !change.isEmpty else { return }
            let rows = try await PreparedStatements.all(Move(values: [id] + values(of: change, application: application, now: now)), on: sql)
            if let row = rows.first { try count(results: row, services: services) }
            return
        }
        guard !change.newlyDone.isEmpty else {
            try await add(change.added, of: application, now: now, on: sql, services: services)
            return
        }
        let complete: SQLQueryString =
            "UPDATE journey_steps SET completed_at = \(bind: now), seconds = MAX(0, \(bind: now) - entered_at)"
            + ", journey_seconds = CASE WHEN step = \(bind: JourneyStep.loanRequest.rawValue) THEN COALESCE(\(bind: change.journeySeconds), journey_seconds) ELSE journey_seconds END"
            + " WHERE application_id = \(bind: id) AND completed_at IS NULL AND step IN (\(binds: change.newlyDone.map(\.rawValue))) RETURNING step"
        var completedNow: Set<String> = []
        for row in try await sql.raw(complete).all() { completedNow.insert(try row.decode(column: "step", as: String.self)) }
        for step in completedNow { services.metrics.recordJourneyStep(step, "completed") }
        try await add(change.added.filter { !completedNow.contains($0.step.rawValue) }, of: application, now: now, on: sql, services: services)
    }

    /// Adds the application's rows for `added` steps, entered now (and done now when `done`), in one multi-row INSERT
    /// that leaves rows already there alone; counts what it added.
    private static func add(
        _ added: [(step: JourneyStep, done: Bool)], of application: LoanApplication, now: Date, on sql: any SQLDatabase,
        services: YidaiServices
    ) async throws {
        guard !added.isEmpty else { return }
        for row in try await sql.raw(try insertion(added, of: application, now: now, on: sql)).all() {
            try count(inserted: row, step: try row.decode(column: "step", as: String.self), services: services)
        }
    }

    /// The INSERT of `add`, returning the steps it added with their `completed_at`.
    private static func insertion(
        _ added: [(step: JourneyStep, done: Bool)], of application: LoanApplication, now: Date, on sql: any SQLDatabase
    ) throws -> SQLQueryString {
        let id = try application.requireID()
        let day = BusinessCalendar.civilDate(now).iso
        let branch: SQLQueryString = application.cmLast.map {
            "(SELECT branch_code FROM staff WHERE manager_code = \(bind: $0))"
        } ?? "NULL"
        let values: [SQLQueryString] = added.map { step, done in
            "(\(bind: RandomID.uuid()), \(bind: id), \(bind: step.rawValue), \(bind: day), \(bind: now), \(bind: done ? now : nil), "
                + "\(bind: done ? 0.0 : nil), \(bind: application.channelLast), \(bind: application.campaign), \(bind: application.cmLast), "
                + branch + ")"
        }
        return "INSERT INTO journey_steps (id, application_id, step, day, entered_at, completed_at, seconds, channel, campaign, manager_code, branch_code) VALUES "
            + values.joined(separator: ", ") + " ON CONFLICT (application_id, step) DO NOTHING RETURNING step, completed_at"
    }

    private static func count(inserted row: any SQLRow, step: String, services: YidaiServices) throws {
        services.metrics.recordJourneyStep(step, "entered")
        if try row.decode(column: "completed_at", as: Date?.self) != nil { services.metrics.recordJourneyStep(step, "completed") }
    }
}
