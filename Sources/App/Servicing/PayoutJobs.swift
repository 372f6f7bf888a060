import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

enum BackgroundJobState {
    static let queued = "queued"
    static let done = "done"
    static let failed = "failed"
    static let cancelled = "cancelled"
}

/// The payout after signing as a durable job: signing queues it in its own transaction, and a worker in every
/// server instance runs due jobs. A job is claimed by compare-and-set on its lease (`locked_until`), so one
/// instance runs it at a time; a crash leaves the lease to run out and another instance takes it over. The
/// payout itself is idempotent, so running a job twice never pays twice.
enum PayoutJobs {
    static let kind = "disbursement"
    static let lease: TimeInterval = 60
    /// Payouts a worker claims at a time.
    static let batch = 20
    /// Payouts a worker runs at the same time: each waits on the database and the payments provider most of its time.
    static let width = 4

    /// Queues the payout of `applicationID` inside the caller's transaction.
    static func enqueue(_ applicationID: UUID, on tx: any Database, now: Date) async throws {
        try await JobQueue.enqueue(kind: kind, reference: applicationID, on: tx, now: now)
    }

    /// Runs every due payout job once; returns how many ran.
    @discardableResult
    static func runDue(_ servicing: ServicingContext, limit: Int = batch) async throws -> Int {
        try await JobQueue.runDue(kind: kind, limit: limit, width: width, db: servicing.db, now: servicing.clock.now()) { job in
            await run(job, servicing)
        }
    }

    /// Takes one job's lease if nobody holds it (the worker claims due jobs in one statement: `JobQueue.claimDue`).
    static func claim(_ job: BackgroundJob, db: Database, now: Date) async throws -> Bool {
        guard let id = job.id, db is any SQLDatabase else { return false }
        let until = now.addingTimeInterval(lease)
        let rows = try await db.writeTransaction { tx in
            try await (tx as! any SQLDatabase).raw(
                "UPDATE jobs SET locked_until = \(bind: until), attempts = attempts + 1, updated_at = \(bind: now) WHERE id = \(bind: id) AND state = \(bind: BackgroundJobState.queued) AND (locked_until IS NULL OR locked_until < \(bind: now)) RETURNING attempts"
            ).all()
        }
        guard let row = rows.first else { return false }
        job.attempts = try row.decode(column: "attempts", as: Int.self)
        return true
    }

    /// Pays out, then records how the job ended: done, failed (refused, nothing sent), cancelled (the application
    /// is no longer waiting for money), or queued again with a growing delay (the provider's answer is pending).
    static func run(_ job: BackgroundJob, _ servicing: ServicingContext) async {
        let now = servicing.clock.now()
        var state = BackgroundJobState.queued
        var error: String?
        do {
            let outcome = try await servicing.disbursement.disburse(applicationID: job.reference)
            if outcome.loan != nil {
                state = BackgroundJobState.done
            } else if outcome.payment.state == PaymentState.failed {
                state = BackgroundJobState.failed
                error = "refused by the payments provider: \(outcome.payment.failureCode ?? "refused")"
            } else {
                error = "the payments provider has not confirmed the payout yet"
            }
        } catch let failure as APIError {
            switch failure.code {
            case "not_ready_for_disbursement": state = BackgroundJobState.cancelled
            case "payout_failed": state = BackgroundJobState.failed
            default: break
            }
            error = failure.message
        } catch let failure {
            error = String(describing: failure).prefix(300).description
        }
        let delay = min(3600, 5 * pow(2, Double(max(0, job.attempts - 1))))
        let runAfter = now.addingTimeInterval(state == BackgroundJobState.queued ? delay : 0)
        if let error { servicing.logger.warning("Payout job \(job.id?.uuidString ?? "?") (attempt \(job.attempts)): \(error)") }
        let (finalState, lastError) = (state, error)
        do {
            try await JobQueue.finish(try job.requireID(), state: finalState, lastError: lastError, runAfter: runAfter, now: now, on: servicing.db)
        } catch {
            servicing.logger.error("Payout job \(job.id?.uuidString ?? "?") could not be updated: \(error)")
        }
    }
}

/// The server's background work: due payout and notification jobs every two seconds, or at once when a request of this
/// instance queued one (`JobWakeUp`, then that job's queue only), each backlog worked off batch after batch
/// (`JobQueue.drain`); pending repayments and an audit anchor every minute; the privacy job every hour.
/// Runs in `serve` only (tests and commands drive the same functions themselves).
final class BackgroundWorker: LifecycleHandler, @unchecked Sendable {
    private var task: Task<Void, Never>?

    func didBootAsync(_ application: Application) async throws {
        guard application.environment != .testing else { return }
        let command = application.environment.arguments.dropFirst().first
        guard command == nil || command == "serve" || command?.hasPrefix("-") == true else { return }
        let logger = application.logger
        task = Task { [application] in
            var lastAnchor = Date.distantPast
            var lastPrivacy = Date.distantPast
            let servicing = application.servicing
            let notifications = Notifications(db: application.db, services: application.yidai)
            let queues: [JobQueue.Drainable] = [
                .init(kind: PayoutJobs.kind, batch: PayoutJobs.batch) { try await PayoutJobs.runDue(servicing, limit: $0) },
                .init(kind: Notifications.jobKind, batch: Notifications.batch) { try await notifications.runDue(limit: $0) },
            ]
            var looks = JobQueue.Looks()
            var woken: Set<String>? = nil
            while !Task.isCancelled {
                let kinds = looks.next(woken: woken, now: Date())
                let backlog = await JobQueue.drain(queues.filter { kinds?.contains($0.kind) ?? true }, maxBatches: 50, logger: logger)
                if Date().timeIntervalSince(lastAnchor) >= 60 {
                    lastAnchor = Date()
                    // Repayments whose provider answer was lost are finished here (asking again with the same
                    // key), never by a page view.
                    do {
                        try await servicing.repayments.resumePending(loanID: nil, except: nil)
                    } catch {
                        logger.warning("Pending repayments not resumed: \(error)")
                    }
                    do {
                        try await AuditAnchoring(db: application.db, services: application.yidai).checkpoint(reason: "minute")
                    } catch {
                        logger.error("Audit anchor failed: \(error)")
                    }
                }
                if Date().timeIntervalSince(lastPrivacy) >= 3600 {
                    lastPrivacy = Date()
                    // Erasure requests carried out, expired retention destroyed (PrivacyJob).
                    do {
                        _ = try await PrivacyJob(db: application.db, services: application.yidai).run(dryRun: false)
                    } catch {
                        logger.error("Privacy job failed: \(error)")
                    }
                }
                // After a backlog, every queue again (a queue left with due jobs is looked at at once).
                woken = backlog ? nil : await application.yidai.jobs.wait(upTo: .seconds(2))
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        application.yidai.jobs.signal()  // out of its wait at once
        await task?.value
    }
}
