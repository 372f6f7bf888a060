import Fluent
import Foundation
import Testing
import Vapor

@testable import App

@Suite("The job queue shared by every instance")
struct JobQueueTests {
    static func enqueue(_ count: Int, on app: Application, now: Date) async throws -> [UUID] {
        var references: [UUID] = []
        for _ in 0..<count {
            let reference = UUID()
            try await app.db.writeTransaction { tx in try await PayoutJobs.enqueue(reference, on: tx, now: now) }
            references.append(reference)
        }
        return references
    }

    @Test("a claim returns every field of the job model, each once")
    func claimReturnsEveryField() {
        // A field added to BackgroundJob and not to the claim's RETURNING fails here, before a claimed job lacks it.
        #expect(BackgroundJob.keys.map(\.description).sorted() == JobQueue.claimedColumns.sorted())
        #expect(Set(JobQueue.claimedColumns).count == JobQueue.claimedColumns.count)
    }

    @Test("a claim takes at most its limit of due jobs, and the next claim the rest")
    func claimHonoursItsLimit() async throws {
        try await withYidai { app, clock, _ in
            let references = try await Self.enqueue(45, on: app, now: clock.now)
            clock.advance(1)
            let claimed = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 20, db: app.db, now: clock.now)
            #expect(claimed.count == 20)
            #expect(Set(claimed.map(\.reference)).isSubset(of: Set(references)))
            let rest = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 100, db: app.db, now: clock.now)
            #expect(rest.count == 25)
            #expect(Set(claimed.compactMap(\.id)).isDisjoint(with: Set(rest.compactMap(\.id))))
        }
    }

    @Test("a job whose worker died after claiming it is claimed again once its lease has run out, and only then")
    func deadWorker() async throws {
        try await withYidai { app, clock, _ in
            // setup
            _ = try await Self.enqueue(1, on: app, now: clock.now)
            let first = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            #expect(first.count == 1)
            // MUT: the worker never finishes it
            clock.advance(30)
            #expect(try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now).isEmpty)
            clock.advance(JobQueue.lease)
            let again = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            // validation
            #expect(again.map(\.id) == first.map(\.id))
            #expect(again.first?.attempts == 2)
        }
    }

    @Test("workers claiming at the same moment never take the same job, and together take every due job")
    func simultaneousClaims() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(30, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 12, db: db, now: now).compactMap(\.id) }
                }
                return try await group.reduce(into: [UUID]()) { $0 += $1 }
            }
            #expect(claimed.count == 30)
            #expect(Set(claimed).count == 30)
        }
    }

    @Test("jobs a stopping worker had claimed but not started are given back at once, without counting an attempt")
    func releaseOnShutdown() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(2, on: app, now: clock.now)
            let claimed = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            try await JobQueue.release(claimed, db: app.db, now: clock.now)
            let again = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            #expect(again.count == 2)
            #expect(again.allSatisfy { $0.attempts == 1 })
        }
    }

    @Test("a worker stopped in the middle of its batch runs the jobs at hand to their end and gives the others back",
          arguments: [1, 2])
    func stopMidBatch(width: Int) async throws {
        try await withYidai { app, clock, _ in
            // setup
            _ = try await Self.enqueue(3, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let (started, starting) = AsyncStream.makeStream(of: Void.self)
            // MUT: the server shuts down (the worker's task is cancelled) while the first `width` jobs run
            let worker = Task {
                try await JobQueue.runDue(kind: PayoutJobs.kind, limit: 10, width: width, db: db, now: now) { _ in
                    starting.yield()
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                }
            }
            var seen = 0
            for await _ in started {
                seen += 1
                if seen == width { break }
            }
            worker.cancel()
            let ran = try await worker.value
            // validation: those started ran; the ones not started are free at once, their attempt not counted
            #expect(ran == width)
            let again = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            #expect(again.count == 3 - width)
            #expect(again.allSatisfy { $0.attempts == 1 })
        }
    }

    @Test("a worker runs four payouts at a time, never more, and every claimed one")
    func width() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(10, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let gauge = Gauge()
            let ran = try await JobQueue.runDue(kind: PayoutJobs.kind, limit: 20, width: 4, db: db, now: now) { job in
                await gauge.enter()
                try? await Task.sleep(for: .milliseconds(200))  // long enough for all four to be under way at once
                await gauge.leave()
                try? await JobQueue.finish(job.id!, state: BackgroundJobState.done, lastError: nil, runAfter: now, now: now, on: db)
            }
            #expect(ran == 10)
            #expect(await gauge.highest == 4)
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.done).count() == 10)
        }
    }

    actor Gauge {
        var now = 0
        var highest = 0
        func enter() {
            now += 1
            highest = max(highest, now)
        }
        func leave() { now -= 1 }
    }

    /// The payout queue as the worker drains it, each job simply marked done; `onBatch` runs before each batch.
    static func payouts(
        batch: Int, db: any Database, now: Date, onBatch: @escaping @Sendable () async -> Void = {}
    ) -> JobQueue.Drainable {
        JobQueue.Drainable(kind: PayoutJobs.kind, batch: batch) { limit in
            await onBatch()
            return try await JobQueue.runDue(kind: PayoutJobs.kind, limit: limit, db: db, now: now) { job in
                try? await JobQueue.finish(job.id!, state: BackgroundJobState.done, lastError: nil, runAfter: now, now: now, on: db)
            }
        }
    }

    @Test("a backlog larger than a batch is worked off in one round of the worker, not one batch per tick")
    func drainBacklog() async throws {
        try await withYidai { app, clock, _ in
            // setup: 45 payouts queued, 20 to a batch
            _ = try await Self.enqueue(45, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let batches = Counter()
            let queue = Self.payouts(batch: 20, db: db, now: now) { await batches.add() }
            // MUT
            let more = await JobQueue.drain([queue], maxBatches: 50, logger: app.logger)
            // validation: 20 + 20 + 5, and nothing left queued
            #expect(!more)
            #expect(await batches.value == 3)
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.queued).count() == 0)
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.done).count() == 45)
        }
    }

    @Test("a round stops at its cap of batches and says that due jobs may remain, so the worker goes on without sleeping")
    func drainCap() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(45, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let queue = Self.payouts(batch: 20, db: db, now: now)
            #expect(await JobQueue.drain([queue], maxBatches: 2, logger: app.logger))
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.queued).count() == 5)
            #expect(!(await JobQueue.drain([queue], maxBatches: 2, logger: app.logger)))
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.queued).count() == 0)
        }
    }

    @Test("a queue that fails is logged and does not keep the other queues from running")
    func drainFailingQueue() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(3, on: app, now: clock.now)
            let (db, now) = (app.db, clock.now)
            let broken = JobQueue.Drainable(kind: "broken", batch: 1) { _ in throw AuditError("the database went away") }
            let payouts = Self.payouts(batch: 2, db: db, now: now)
            #expect(!(await JobQueue.drain([broken, payouts], maxBatches: 50, logger: app.logger)))
            #expect(try await BackgroundJob.query(on: db).filter(\.$state == BackgroundJobState.done).count() == 3)
        }
    }

    @Test("a signed contract's wake-up starts the waiting worker at once, not at its next tick")
    func wakeUpWakesTheWorker() async throws {
        let wake = JobWakeUp()
        let clock = ContinuousClock()
        let started = clock.now
        async let waited = wake.wait(upTo: .seconds(30))
        try await Task.sleep(for: .milliseconds(50))
        wake.signal(kind: PayoutJobs.kind)
        #expect(await waited == [PayoutJobs.kind])  // the payouts' queue only: no claim of messages for it
        // Well before the 30-second timeout: the signal woke it (a full parallel run on two cores can hold the
        // cooperative pool for seconds, so the bound is not 5 s, which a loaded run once passed by 7 ms).
        #expect(clock.now - started < .seconds(20))
    }

    @Test("a worker woken for one queue looks at that queue only, and at every queue at least every two seconds however often it is woken")
    func looksAtEveryQueueEveryTwoSeconds() {
        var looks = JobQueue.Looks()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let messages: Set<String> = [Notifications.jobKind]
        #expect(looks.next(woken: nil, now: start) == nil)  // the first look: every queue
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(0.5)) == messages)
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(1.9)) == messages)
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(2.0)) == nil)  // payouts too, woken or not
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(2.1)) == messages)
        #expect(looks.next(woken: nil, now: start.addingTimeInterval(2.2)) == nil)  // a timeout: every queue
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(4.1)) == messages)  // two seconds from the last look at all
        #expect(looks.next(woken: messages, now: start.addingTimeInterval(4.2)) == nil)
    }

    @Test("wake-ups kept while the worker was busy name every queue they were for, and one for no queue names them all")
    func keptWakeUpsNameTheirQueues() async {
        let wake = JobWakeUp()
        wake.signal(kind: PayoutJobs.kind)
        wake.signal(kind: Notifications.jobKind)
        #expect(await wake.wait(upTo: .seconds(30)) == [PayoutJobs.kind, Notifications.jobKind])
        wake.signal(kind: Notifications.jobKind)
        wake.signal()
        wake.signal(kind: PayoutJobs.kind)
        #expect(await wake.wait(upTo: .seconds(30)) == nil)
        #expect(await wake.wait(upTo: .milliseconds(100)) == nil)  // a timeout: every queue
        wake.signal(kind: Notifications.jobKind)
        #expect(await wake.wait(upTo: .seconds(30)) == [Notifications.jobKind])  // not the queues of earlier wake-ups
    }

    @Test("a wake-up sent while the worker was busy is kept for its next wait, and only one")
    func wakeUpIsKept() async {
        let wake = JobWakeUp()
        wake.signal()
        wake.signal()
        let clock = ContinuousClock()
        var started = clock.now
        await wake.wait(upTo: .seconds(30))
        // Well before the 30-second timeout: the signal woke it (a full parallel run on two cores can hold the
        // cooperative pool for seconds, so the bound is not 5 s, which a loaded run once passed by 7 ms).
        #expect(clock.now - started < .seconds(20))
        started = clock.now
        await wake.wait(upTo: .milliseconds(300))  // the second signal was not kept: this wait runs to its timeout
        #expect(clock.now - started >= .milliseconds(250))
    }

    @Test("without a wake-up the worker's wait ends at its timeout")
    func wakeUpTimesOut() async {
        let wake = JobWakeUp()
        let clock = ContinuousClock()
        let started = clock.now
        await wake.wait(upTo: .milliseconds(200))
        let waited = clock.now - started
        #expect(waited >= .milliseconds(150) && waited < .seconds(10))
        wake.signal()  // a late signal after a timeout is kept for the next wait, not lost and not resumed twice
        let again = clock.now
        await wake.wait(upTo: .seconds(30))
        #expect(clock.now - again < .seconds(5))
    }

    actor Counter {
        var value = 0
        func add() { value += 1 }
    }

    @Test("an operator's retry puts a failed job back in the queue to run now; a done job stays done, a running one is left alone")
    func retry() async throws {
        try await withYidai { app, clock, _ in
            _ = try await Self.enqueue(2, on: app, now: clock.now)
            let jobs = try await BackgroundJob.query(on: app.db).sort(\.$createdAt).all()
            let (failed, done) = (jobs[0], jobs[1])
            failed.state = BackgroundJobState.failed
            failed.runAfter = clock.now.addingTimeInterval(3600)
            failed.lastError = "refused by the payments provider"
            try await failed.save(on: app.db)
            done.state = BackgroundJobState.done
            try await done.save(on: app.db)
            // MUT
            #expect(try await JobQueue.retry(failed.requireID(), db: app.db, now: clock.now) == .queued)
            #expect(try await JobQueue.retry(done.requireID(), db: app.db, now: clock.now) == .done)
            #expect(try await JobQueue.retry(UUID(), db: app.db, now: clock.now) == .notFound)
            // validation
            let claimed = try await JobQueue.claimDue(kind: PayoutJobs.kind, limit: 10, db: app.db, now: clock.now)
            #expect(claimed.map(\.id) == [failed.id])
            #expect(try await JobQueue.retry(failed.requireID(), db: app.db, now: clock.now) == .running)
            let lines = JobsListCommand.lines(claimed, now: clock.now)
            #expect(lines.first?.contains(failed.id!.uuidString.lowercased()) == true)
            #expect(lines.first?.contains("disbursement  queued  attempts 1") == true)
            #expect(lines.first?.contains("claimed until") == true)
        }
    }
}
