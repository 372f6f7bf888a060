import Fluent
import NIOConcurrencyHelpers
import Providers
import Foundation
import SQLKit
import Vapor

/// Wakes this instance's job worker when a request has just queued a job (after its transaction committed), so a
/// payout starts at once rather than at the worker's next two-second tick; other instances find the job at their next
/// tick. A signal sent while the worker is busy is kept (one), so a job queued meanwhile is not left for the tick.
/// A signal names the queue it is for, so the woken worker claims from that queue only (a message's wake-up does not
/// also ask the database for payouts); the worker still looks at every queue at each tick (`BackgroundWorker`).
final class JobWakeUp: Sendable {
    private struct State: Sendable {
        var pending = false
        /// The queues the kept signals were for; nil when one of them named none (every queue).
        var kinds: Set<String>? = []
        var waiter: (id: Int, continuation: CheckedContinuation<Set<String>?, Never>)?
        var lastID = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Wakes the worker for jobs of `kind`, or for every queue when it is nil.
    func signal(kind: String? = nil) {
        let woken = state.withLockedValue { state -> (CheckedContinuation<Set<String>?, Never>, Set<String>?)? in
            guard let waiter = state.waiter else {
                if !state.pending { state.kinds = [] }
                state.pending = true
                if let kind { state.kinds?.insert(kind) } else { state.kinds = nil }
                return nil
            }
            state.waiter = nil
            return (waiter.continuation, kind.map { [$0] })
        }
        if let woken { woken.0.resume(returning: woken.1) }
    }

    /// Returns at a signal (at once if one came since the last wait) with the queues it was for, or after `timeout`
    /// with nil (every queue).
    @discardableResult
    func wait(upTo timeout: Duration) async -> Set<String>? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Set<String>?, Never>) in
            enum Next { case kept(Set<String>?), waiting(Int) }
            let next = state.withLockedValue { state -> Next in
                if state.pending {
                    defer { (state.pending, state.kinds) = (false, []) }
                    return .kept(state.kinds)
                }
                state.lastID += 1
                state.waiter = (state.lastID, continuation)
                return .waiting(state.lastID)
            }
            guard case .waiting(let id) = next else {
                if case .kept(let kinds) = next { continuation.resume(returning: kinds) }
                return
            }
            Task { [state] in
                try? await Task.sleep(for: timeout)
                let expired = state.withLockedValue { state -> CheckedContinuation<Set<String>?, Never>? in
                    guard let waiter = state.waiter, waiter.id == id else { return nil }  // woken by a signal already
                    state.waiter = nil
                    return waiter.continuation
                }
                expired?.resume(returning: nil)
            }
        }
    }
}

/// The claim of the database job queue that every instance's worker shares. Due jobs are claimed in one
/// statement that takes each job's lease (`locked_until`) and counts the attempt; on PostgreSQL the rows are picked
/// `FOR UPDATE SKIP LOCKED`, so workers of many instances never wait on each other nor take the same job. A claimed
/// job stays `queued` under its lease: if its worker dies, the lease runs out and another worker takes it again.
enum JobQueue {
    static let lease: TimeInterval = 60

    /// Queues a job of `kind` for `reference`, due now, inside the caller's transaction (a plain statement: every
    /// payout queues one, and on SQLite every notification; on PostgreSQL a notification's insert queues its job
    /// itself, with `enqueueing`).
    static func enqueue(kind: String, reference: UUID, on tx: any Database, now: Date) async throws {
        guard let sql = tx as? any SQLDatabase else { throw AuditError("the job queue needs an SQL database") }
        try await sql.raw(insertion + " VALUES (\(bind: RandomID.uuid()), \(bind: kind), \(bind: reference)" + dueNow(now) + ")").run()
    }

    /// `enqueue`'s statement for a caller that queues its job in a statement of its own, after `WITH <table> AS (…)`
    /// whose one row, if any, has the job's reference as `id`; returns the reference when it queued the job.
    static func enqueueing(kind: String, referenceFrom table: String, now: Date) -> SQLQueryString {
        insertion + " SELECT \(bind: RandomID.uuid()), \(bind: kind), \(unsafeRaw: table).id" + dueNow(now)
            + " FROM \(unsafeRaw: table) RETURNING reference"
    }

    private static let insertion: SQLQueryString =
        "INSERT INTO jobs (id, kind, reference, state, attempts, run_after, locked_until, last_error, created_at, updated_at)"

    /// The columns after the reference of a job due now: queued, no tries yet.
    private static func dueNow(_ now: Date) -> SQLQueryString {
        ", \(bind: BackgroundJobState.queued), 0, \(bind: now), NULL, NULL, \(bind: now), \(bind: now)"
    }

    /// Records how a claimed job's run ended and gives up its lease (a plain statement; inside the caller's
    /// transaction when there is one).
    static func finish(_ jobID: UUID, state: String, lastError: String?, runAfter: Date, now: Date, on db: any Database) async throws {
        try await db.writeStatement { sql in
            try await sql.raw(finishing(jobID, state: state, lastError: lastError, runAfter: runAfter, now: now)).run()
        }
    }

    /// `finish`'s statement, for a caller that runs it as part of one of its own.
    static func finishing(_ jobID: UUID, state: String, lastError: String?, runAfter: Date, now: Date) -> SQLQueryString {
        """
        UPDATE jobs SET state = \(bind: state), last_error = \(bind: lastError), run_after = \(bind: runAfter),
            locked_until = NULL, updated_at = \(bind: now) WHERE id = \(bind: jobID)
        """
    }

    /// Which queues the worker looks at next: the ones a wake-up was for, but every queue at least every
    /// `everyQueueAfter` seconds (for jobs other instances queued and jobs whose lease ran out), however often
    /// wake-ups come.
    struct Looks {
        static let everyQueueAfter: TimeInterval = 2
        private var lastAtEveryQueue = Date.distantPast

        /// The queues to look at now (nil: every queue), after a wake-up for `woken` (nil: every queue, or a timeout).
        mutating func next(woken: Set<String>?, now: Date) -> Set<String>? {
            if woken == nil || now.timeIntervalSince(lastAtEveryQueue) >= Self.everyQueueAfter {
                lastAtEveryQueue = now
                return nil
            }
            return woken
        }
    }

    /// One queue as the worker drains it: its kind, how many jobs a batch claims, and the run of one batch (returns
    /// how many jobs ran).
    struct Drainable: Sendable {
        let kind: String
        let batch: Int
        let runBatch: @Sendable (_ limit: Int) async throws -> Int
    }

    /// One round of the worker: each queue's due jobs, batch after batch, until no queue filled its batch, so a backlog
    /// is worked off at once rather than one batch per two-second tick, or until
    /// `maxBatches` batches of one queue ran. A queue that fails is logged and left until the next round. Returns true
    /// when a queue may still hold due jobs (the cap was reached): the worker goes on without sleeping.
    static func drain(_ queues: [Drainable], maxBatches: Int, logger: Logger) async -> Bool {
        var open = queues
        for _ in 0..<maxBatches {
            guard !Task.isCancelled else { return false }
            var full: [Drainable] = []
            for queue in open {
                do {
                    if try await queue.runBatch(queue.batch) >= queue.batch { full.append(queue) }
                } catch {
                    logger.warning("\(queue.kind) jobs did not run: \(error)")
                }
            }
            if full.isEmpty { return false }
            open = full
        }
        return true
    }

    /// Every column of a job, as a claim returns it (`JobQueueTests` holds it to the model).
    static let claimedColumns = [
        "id", "kind", "reference", "state", "attempts", "run_after", "locked_until", "last_error", "created_at", "updated_at",
    ]

    /// Claims up to `limit` due jobs of `kind` (oldest due first) and returns them with their attempt counted.
    static func claimDue(kind: String, limit: Int, db: any Database, now: Date) async throws -> [BackgroundJob] {
        guard db is any SQLDatabase else { return [] }
        let until = now.addingTimeInterval(lease)
        let queued = BackgroundJobState.queued
        let due: SQLQueryString = """
            SELECT id FROM jobs WHERE kind = \(bind: kind) AND state = \(bind: queued) AND run_after <= \(bind: now)
                AND (locked_until IS NULL OR locked_until < \(bind: now))
                ORDER BY run_after LIMIT \(unsafeRaw: String(max(1, limit)))
            """
        let statement: SQLQueryString
        if db.isSQLite {
            // One writer at a time: the subquery is read once, inside the claim's own transaction.
            statement = """
                UPDATE jobs SET locked_until = \(bind: until), attempts = attempts + 1, updated_at = \(bind: now)
                WHERE id IN (\(due)) AND state = \(bind: queued) AND (locked_until IS NULL OR locked_until < \(bind: now))
                RETURNING \(unsafeRaw: claimedColumns.joined(separator: ", "))
                """
        } else {
            // The due rows are picked once, in a materialized CTE: as `WHERE id IN (… LIMIT n FOR UPDATE SKIP LOCKED)`
            // PostgreSQL may run the subquery again for each row it updates, each time skipping the rows it has just
            // locked, and so claim every due job whatever the limit (seen: 45 claimed by a claim of 20).
            statement = """
                WITH picked AS MATERIALIZED (\(due) FOR UPDATE SKIP LOCKED)
                UPDATE jobs SET locked_until = \(bind: until), attempts = attempts + 1, updated_at = \(bind: now)
                FROM picked WHERE jobs.id = picked.id AND jobs.state = \(bind: queued)
                    AND (jobs.locked_until IS NULL OR jobs.locked_until < \(bind: now))
                RETURNING \(unsafeRaw: claimedColumns.map { "jobs." + $0 }.joined(separator: ", "))
                """
        }
        // The claimed rows come back whole from the claim itself (no second read, no model reflection).
        let rows: [any SQLRow]
        if db.isSQLite {
            rows = try await db.writeTransaction { tx in try await (tx as! any SQLDatabase).raw(statement).all() }
        } else {
            rows = try await (db as! any SQLDatabase).raw(statement).all()
        }
        return try rows.map { row in
            let job = BackgroundJob()
            job.id = try row.decode(column: "id", as: UUID.self)
            job.kind = try row.decode(column: "kind", as: String.self)
            job.reference = try row.decode(column: "reference", as: UUID.self)
            job.state = try row.decode(column: "state", as: String.self)
            job.attempts = try row.decode(column: "attempts", as: Int.self)
            job.runAfter = try row.decode(column: "run_after", as: Date.self)
            job.lockedUntil = try row.decode(column: "locked_until", as: Date?.self)
            job.lastError = try row.decode(column: "last_error", as: String?.self)
            job.createdAt = try row.decode(column: "created_at", as: Date.self)
            job.updatedAt = try row.decode(column: "updated_at", as: Date.self)
            job.$id.exists = true
            return job
        }.sorted { $0.runAfter < $1.runAfter }
    }

    /// Gives claimed jobs back untried (a worker stopping before it got to them): the attempt is not counted and
    /// any worker may take them at once.
    static func release(_ jobs: [BackgroundJob], db: any Database, now: Date) async throws {
        let ids = jobs.compactMap(\.id)
        guard !ids.isEmpty else { return }
        try await db.writeTransaction { tx in
            guard let sql = tx as? any SQLDatabase else { return }
            for id in ids {
                try await sql.raw(
                    "UPDATE jobs SET locked_until = NULL, attempts = attempts - 1, updated_at = \(bind: now) WHERE id = \(bind: id) AND state = \(bind: BackgroundJobState.queued)"
                ).run()
            }
        }
    }

    /// Claims due jobs of `kind` and runs them with `run`, `width` at a time (the jobs of a batch are independent:
    /// one application's payout or one message each). Jobs not yet started when the task is cancelled (the server
    /// shutting down), or when half their lease has gone by (slow jobs ahead of them), are released rather than started
    /// late, so no job is started under a lease about to run out; jobs already started run to their end. Returns how
    /// many ran.
    static func runDue(
        kind: String, limit: Int, width: Int = 1, db: any Database, now: Date, _ run: @escaping @Sendable (BackgroundJob) async -> Void
    ) async throws -> Int {
        guard !Task.isCancelled else { return 0 }  // stopping: claim nothing new
        let claimed = try await claimDue(kind: kind, limit: limit, db: db, now: now)
        let clock = ContinuousClock()
        let claimedAt = clock.now
        var started = 0
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            while started < claimed.count {
                if running >= max(1, width) {
                    await group.next()
                    running -= 1
                }
                if Task.isCancelled || clock.now - claimedAt > .seconds(lease / 2) { break }
                let job = claimed[started]
                started += 1
                running += 1
                group.addTask {
                    await OutsideCallContext.$requestID.withValue("job-" + (job.id?.uuidString.lowercased() ?? "?")) { await run(job) }
                }
            }
        }
        if started < claimed.count { try await release(Array(claimed[started...]), db: db, now: now) }
        return started
    }

    /// Puts a job back in the queue to run now (`yidai jobs retry`): a failed, cancelled or waiting job. A job that
    /// is done stays done; a job under a live lease is being run and is left alone.
    enum RetryOutcome: Equatable { case queued, notFound, done, running }

    static func retry(_ id: UUID, db: any Database, now: Date) async throws -> RetryOutcome {
        try await db.writeTransaction { tx in
            guard let job = try await BackgroundJob.find(id, on: tx) else { return .notFound }
            if job.state == BackgroundJobState.done { return .done }
            if job.state == BackgroundJobState.queued, let until = job.lockedUntil, until > now { return .running }
            job.state = BackgroundJobState.queued
            job.runAfter = now
            job.lockedUntil = nil
            job.updatedAt = now
            try await job.save(on: tx)
            return .queued
        }
    }
}

/// `yidai jobs list [--state S] [--kind K]` and `yidai jobs retry ID`: the queue as operators see it.
struct JobsCommand: AsyncCommandGroup {
    var help: String { "The job queue: `list` shows jobs; `retry ID` queues a failed, cancelled or waiting job to run now." }
    var commands: [String: any AnyAsyncCommand] { ["list": JobsListCommand(), "retry": JobsRetryCommand()] }
}

struct JobsListCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "state", help: "queued | done | failed | cancelled (default: every state but done)")
        var state: String?
        @Option(name: "kind", help: "disbursement | notification")
        var kind: String?
    }

    var help: String { "Lists jobs: id, kind, state, attempts, when due, the lease and the last error." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        var query = BackgroundJob.query(on: app.db)
        if let state = signature.state { query = query.filter(\.$state == state) } else { query = query.filter(\.$state != BackgroundJobState.done) }
        if let kind = signature.kind { query = query.filter(\.$kind == kind) }
        let jobs = try await query.sort(\.$runAfter).limit(500).all()
        if jobs.isEmpty {
            context.console.print("No jobs.")
            return
        }
        for line in Self.lines(jobs, now: app.yidai.clock.now()) { context.console.print(line) }
    }

    static func lines(_ jobs: [BackgroundJob], now: Date) -> [String] {
        let format = ISO8601DateFormatter()
        return jobs.map { job in
            let lease = job.lockedUntil.map { $0 > now ? "claimed until \(format.string(from: $0))" : "lease ran out" } ?? "-"
            return [
                job.id?.uuidString.lowercased() ?? "?", job.kind, job.state, "attempts \(job.attempts)", "due \(format.string(from: job.runAfter))",
                lease, job.lastError ?? "",
            ].joined(separator: "  ")
        }
    }
}

struct JobsRetryCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "id", help: "the job id (see yidai jobs list)")
        var id: String
    }

    var help: String { "Queues a failed, cancelled or waiting job to run now (audited)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        guard let id = UUID(uuidString: signature.id) else { throw ConfigurationError("jobs retry needs a job id (see yidai jobs list)") }
        switch try await JobQueue.retry(id, db: app.db, now: app.yidai.clock.now()) {
        case .queued:
            try await AuditTrail(db: app.db, services: app.yidai).record(
                application: nil, actor: "operator", action: "job.retried", details: ["job": id.uuidString.lowercased()])
            context.console.print("Job \(id.uuidString.lowercased()) is queued to run now.")
        case .notFound:
            context.console.error("No job \(signature.id).")
            throw ExitCode(1)
        case .done:
            context.console.error("Job \(signature.id) is done; it is not run again.")
            throw ExitCode(1)
        case .running:
            context.console.error("Job \(signature.id) is being run by a worker now (its lease has not run out).")
            throw ExitCode(1)
        }
    }
}
