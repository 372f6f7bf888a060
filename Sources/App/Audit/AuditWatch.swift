import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// What closes the moment between an unsealed entry's commit and its seal (PostgreSQL): each instance remembers the
/// entries its own requests committed until it has seen them sealed. An entry that is gone before it was sealed was
/// deleted by someone with write access to the database: nothing in Yidai deletes an entry. The instance's sealer then
/// records that in the trail itself (`audit.entry_deleted`, naming the entry, its action and application), which
/// `AuditVerifier` reports as a break. (An instance that stops before its entries are sealed forgets them; the
/// sealers of the others still chain them.)
///
/// An entry counts as committed when its statement ran outside any transaction, or when the `writeTransaction` it was
/// written in commits (`Collector`, a task-local of that transaction): an entry whose transaction rolled back was
/// never there, and is not missed.
final class AuditWatch: Sendable {
    struct Written: Sendable, Hashable {
        let id: UUID
        let action: String
        let application: UUID?
    }

    private let watched = NIOLockedValueBox<[UUID: Written]>([:])

    init() {}

    /// `entry` was written with `db`: watched from now on when no transaction is open, else from its commit.
    func wrote(_ entry: AuditTrail.Pending, on db: Database) {
        let written = Written(id: entry.id, action: entry.action, application: entry.application)
        if let collector = Collector.current, db.inTransaction {
            collector.add(written, to: self)
        } else {
            watch([written])
        }
    }

    func watch(_ entries: [Written]) {
        watched.withLockedValue { for entry in entries { $0[entry.id] = entry } }
    }

    var count: Int { watched.withLockedValue { $0.count } }

    /// Looks up every watched entry: a sealed one is no longer watched, a missing one was deleted and is recorded as
    /// such (each once). Returns the deleted ones.
    @discardableResult
    func check(on db: Database, services: YidaiServices) async throws -> [Written] {
        let entries = watched.withLockedValue { Array($0.values) }
        guard !entries.isEmpty, let sql = db as? any SQLDatabase else { return [] }
        var lanes: [UUID: Int] = [:]
        for row in try await sql.raw("SELECT id, lane FROM audit_entries WHERE id = ANY(\(bind: entries.map(\.id))::uuid[])").all() {
            lanes[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "lane", as: Int.self)
        }
        let deleted = entries.filter { lanes[$0.id] == nil }
        for entry in deleted {
            db.logger.critical("Audit entry \(entry.id) (\(entry.action)) was deleted after it was committed and before it was sealed")
            try await AuditTrail(db: db, services: services).record(
                application: entry.application, actor: "system", action: Self.deletedAction,
                details: ["entry": entry.id.uuidString.lowercased(), "action": entry.action])
        }
        let done = Set(entries.filter { (lanes[$0.id] ?? 1) > 0 }.map(\.id))
        watched.withLockedValue { for id in done { $0[id] = nil } }
        return deleted
    }

    static let deletedAction = "audit.entry_deleted"

    /// The entries a `writeTransaction` wrote, handed to their watch when it commits.
    final class Collector: Sendable {
        @TaskLocal static var current: Collector?
        private let entries = NIOLockedValueBox<[(Written, AuditWatch)]>([])

        init() {}

        func add(_ entry: Written, to watch: AuditWatch) { entries.withLockedValue { $0.append((entry, watch)) } }

        /// A new attempt of the transaction: what the rolled-back one wrote was never there.
        func reset() { entries.withLockedValue { $0.removeAll() } }

        func committed() {
            for (entry, watch) in entries.withLockedValue({ $0 }) { watch.watch([entry]) }
        }
    }
}
