import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor
import ZenEngine

/// A request to put a policy version in force: publishing a candidate or rolling back to an earlier version. Made
/// by one risk person, confirmed by another (never the requester, and never a candidate's author).
final class PolicyChange: Model, @unchecked Sendable {
    static let schema = "policy_changes"
    @ID(key: .id) var id: UUID?
    @Field(key: "version_id") var versionID: UUID
    /// publish | rollback
    @Field(key: "kind") var kind: String
    @Field(key: "requested_by") var requestedBy: String
    @Field(key: "requested_at") var requestedAt: Date
    @OptionalField(key: "note") var note: String?
    /// pending | done | superseded
    @Field(key: "state") var state: String
    @OptionalField(key: "confirmed_by") var confirmedBy: String?
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?

    init() {}
}

/// A candidate evaluated against the stored inputs of the last N decisions, beside the active version.
final class ShadowReplay: Model, @unchecked Sendable {
    static let schema = "shadow_replays"
    @ID(key: .id) var id: UUID?
    @Field(key: "version_id") var versionID: UUID
    @Field(key: "requested_by") var requestedBy: String
    /// running | done | failed
    @Field(key: "state") var state: String
    @Field(key: "total") var total: Int
    @Field(key: "done") var done: Int
    @OptionalField(key: "result_json") var resultJSON: String?
    @OptionalField(key: "error") var error: String?
    @Field(key: "started_at") var startedAt: Date
    @OptionalField(key: "finished_at") var finishedAt: Date?

    init() {}
}

// MARK: - Views

struct PolicyVersionView: Content {
    let id: UUID
    let name: String
    let version: Int
    let label: String
    let sha256: String
    let state: String
    let active: Bool
    let author: String
    let uploadedAt: Date
    let approvedBy: String?
    let approvedAt: Date?
}

struct PolicyChangeView: Content {
    let id: UUID
    let versionId: UUID
    let kind: String
    let requestedBy: String
    let requestedAt: Date
    let note: String?
    let state: String
    let confirmedBy: String?
    let confirmedAt: Date?
}

struct PolicyListView: Content {
    let versions: [PolicyVersionView]
    let pendingChanges: [PolicyChangeView]
}

struct PolicyUpload: Content {
    var name: String?
    /// File name → JSON text: the graph (and sub-graphs) and cases.json.
    var files: [String: String]?
    var note: String?
}

struct PolicyUploadAnswer: Content {
    let version: PolicyVersionView
    let cases: Cases
    let change: PolicyChangeView?
    struct Cases: Content {
        let passed: Int
        let failed: Int
    }
}

struct ShadowReplayRequest: Content { var last: Int? }

struct ShadowReplayView: Content {
    struct Side: Content, Equatable {
        let version: String
        let decisions: Int
        let approved: Int
        let referred: Int
        let declined: Int
        let approvalRate: Double
        let referralRate: Double
        let declineRate: Double
        let averageLimit: String
        let totalLimit: String
        /// Approved offers by annual rate (the rate bands the policy gives), rate → count.
        let rateBands: [String: Int]
    }
    struct Outcome: Content, Equatable {
        let decision: String
        let creditLimit: String
        let annualRate: String
        let reasons: [String]
    }
    struct Change: Content, Equatable {
        let applicationId: UUID
        let active: Outcome
        let candidate: Outcome
    }
    struct Result: Content, Equatable {
        let active: Side
        let candidate: Side
        let changedCount: Int
        /// The applications whose outcome would change (decision, limit or rate), at most 1,000 listed.
        let changed: [Change]
        let seconds: Double
    }
    let id: UUID
    let versionId: UUID
    let state: String
    let total: Int
    let done: Int
    let result: Result?
    let error: String?
}

// MARK: - The service

struct PolicyOperations {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    var now: Date { services.clock.now() }
    static let maxReplay = 10_000

    static func view(_ v: PolicyVersion) -> PolicyVersionView {
        PolicyVersionView(id: v.id!, name: v.name, version: v.version, label: PolicyStore.label(v), sha256: v.sha256, state: v.state ?? "published",
                          active: v.active, author: v.publishedBy, uploadedAt: v.publishedAt, approvedBy: v.approvedBy, approvedAt: v.approvedAt)
    }

    static func view(_ c: PolicyChange) -> PolicyChangeView {
        PolicyChangeView(id: c.id!, versionId: c.versionID, kind: c.kind, requestedBy: c.requestedBy, requestedAt: c.requestedAt, note: c.note,
                         state: c.state, confirmedBy: c.confirmedBy, confirmedAt: c.confirmedAt)
    }

    func list() async throws -> PolicyListView {
        let versions = try await PolicyVersion.query(on: db).sort(\.$name).sort(\.$version, .descending).all()
        let pending = try await PolicyChange.query(on: db).filter(\.$state == "pending").sort(\.$requestedAt).all()
        return PolicyListView(versions: versions.map(Self.view), pendingChanges: pending.map(Self.view))
    }

    /// Uploads a candidate: its cases run at once and a failing case blocks it (422 with the report). The upload is
    /// also the author's request to publish it, which a second risk person confirms.
    func upload(_ body: PolicyUpload) async throws -> PolicyUploadAnswer {
        guard let files = body.files, !files.isEmpty else {
            throw APIError.invalid("files", "files must map each file name (credit.json, cases.json, …) to its JSON text.", zh: "请上传策略文件。")
        }
        guard files.count <= 50, files.values.reduce(0, { $0 + $1.utf8.count }) <= 900_000, files.keys.allSatisfy({ $0.hasSuffix(".json") && !$0.contains("/") }) else {
            throw APIError.invalid("files", "at most 50 .json files (names without folders), 900 KB in all.", zh: "策略文件过多或过大。")
        }
        let name = body.name?.trimmingCharacters(in: .whitespaces).isEmpty == false ? body.name! : "credit"
        guard name.count <= 40, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw APIError.invalid("name", "name is the policy's name (letters, digits, - and _).", zh: "策略名称不正确。")
        }
        let version: PolicyVersion
        let report: PolicyTestReport
        do {
            (version, report) = try await services.policies.upload(files: files, name: name, by: principal.login, on: db, now: now)
        } catch let error as PolicyStore.PublishError {
            switch error {
            case .casesFailed(let report):
                throw APIError(.unprocessableEntity, code: "policy_cases_failed", message: "The candidate's cases fail, so it was not stored:\n\(report.render())",
                               messageZh: "策略测试用例未通过（\(report.summary)），未保存。", field: "files")
            case .refused(let why), .unreadable(let why):
                throw APIError(.unprocessableEntity, code: "policy_refused", message: "The policy was refused: \(why)", messageZh: "策略文件无法加载：\(why)", field: "files")
            }
        }
        let (services, principal, now, note) = (services, principal, now, body.note)
        let change = try await db.writeTransaction { tx -> PolicyChange? in
            if version.id == nil {
                try await version.create(on: tx)
            } else if version.state != "candidate" {
                return nil  // the same files as a version already published: nothing to approve
            }
            if let pending = try await PolicyChange.query(on: tx).filter(\.$versionID == version.id!).filter(\.$state == "pending").first() { return pending }
            let change = PolicyChange()
            change.versionID = version.id!
            change.kind = "publish"
            change.requestedBy = principal.login
            change.requestedAt = now
            change.note = note.map { String($0.prefix(500)) }
            change.state = "pending"
            try await change.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:" + principal.login, action: "policy.uploaded",
                details: ["version": PolicyStore.label(version), "sha256": version.sha256, "cases": report.summary])
            return change
        }
        return PolicyUploadAnswer(version: Self.view(version), cases: .init(passed: report.passedCount, failed: report.failedCount), change: change.map(Self.view))
    }

    func version(_ raw: String?) async throws -> PolicyVersion {
        guard let raw, let id = UUID(uuidString: raw), let version = try await PolicyVersion.find(id, on: db) else { throw APIError.notFound("policy version") }
        return version
    }

    /// A rollback to an earlier published version, waiting for a second person.
    func requestRollback(_ raw: String?, note: String?) async throws -> PolicyChangeView {
        let version = try await version(raw)
        guard (version.state ?? "published") == "published", !version.active else {
            throw APIError(.conflict, code: "not_a_rollback", message: "Only an earlier published version that is not in force can be rolled back to.",
                           messageZh: "只能回退到此前发布过、当前未生效的版本。")
        }
        let (services, principal, now) = (services, principal, now)
        let change = try await db.writeTransaction { tx -> PolicyChange in
            try await PolicyChange.query(on: tx).filter(\.$state == "pending").filter(\.$kind == "rollback").set(\.$state, to: "superseded").update()
            let change = PolicyChange()
            change.versionID = version.id!
            change.kind = "rollback"
            change.requestedBy = principal.login
            change.requestedAt = now
            change.note = note.map { String($0.prefix(500)) }
            change.state = "pending"
            try await change.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:" + principal.login, action: "policy.rollback_requested", details: ["version": PolicyStore.label(version)])
            return change
        }
        return Self.view(change)
    }

    /// The second person confirms a pending change: the version is in force from now on, everywhere.
    func confirm(_ raw: String?) async throws -> PolicyVersionView {
        guard let raw, let id = UUID(uuidString: raw), let change = try await PolicyChange.find(id, on: db) else { throw APIError.notFound("policy change") }
        guard change.state == "pending" else {
            throw APIError(.conflict, code: "change_closed", message: "This change is already \(change.state).", messageZh: "该变更已处理。")
        }
        guard let version = try await PolicyVersion.find(change.versionID, on: db) else { throw APIError.notFound("policy version") }
        guard change.requestedBy != principal.login, version.publishedBy != principal.login || change.kind == "rollback" else {
            throw APIError(.forbidden, code: "second_person_required",
                           message: "A second risk person confirms: not the one who asked for it, nor the candidate's author.", messageZh: "须由另一位风险人员复核（不能是提交人或策略作者）。")
        }
        let (services, principal, now) = (services, principal, now)
        try await db.writeTransaction { tx in
            try await tx.lock(name: "policy-activation")
            let rows = try await (tx as! any SQLDatabase).raw(
                "UPDATE policy_changes SET state = 'done', confirmed_by = \(bind: principal.login), confirmed_at = \(bind: now) WHERE id = \(bind: id) AND state = 'pending' RETURNING id"
            ).all()
            guard !rows.isEmpty else { throw APIError(.conflict, code: "change_closed", message: "This change was just confirmed by someone else.", messageZh: "该变更刚被他人处理。") }
            if version.state == "candidate" {
                version.state = "published"
                version.approvedBy = principal.login
                version.approvedAt = now
            }
            try await PolicyStore.activate(version, on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:" + principal.login, action: change.kind == "rollback" ? "policy.rolled_back" : "policy.published",
                details: ["version": PolicyStore.label(version), "sha256": version.sha256, "requestedBy": change.requestedBy, "author": version.publishedBy])
        }
        return Self.view(version)
    }

    // MARK: Shadow replay

    func startReplay(_ raw: String?, last: Int?) async throws -> ShadowReplayView {
        let candidate = try await version(raw)
        let n = last ?? 1000
        guard (1...Self.maxReplay).contains(n) else {
            throw APIError.invalid("last", "last is how many of the latest decisions to replay, 1 to \(Self.maxReplay).", zh: "回放数量须为1至10000。")
        }
        guard let active = try await services.policies.active(on: db) else {
            throw APIError(.conflict, code: "no_active_policy", message: "No policy is in force to compare with.", messageZh: "当前没有生效的策略。")
        }
        let replay = ShadowReplay()
        replay.versionID = candidate.id!
        replay.requestedBy = principal.login
        replay.state = "running"
        replay.total = min(n, try await DecisionRecord.query(on: db).count())
        replay.done = 0
        replay.startedAt = now
        let services = services
        let principal = principal
        try await db.writeTransaction { tx in
            try await replay.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:" + principal.login, action: "policy.shadow_replay",
                details: ["candidate": PolicyStore.label(candidate), "active": PolicyStore.label(active), "last": String(n)])
        }
        let db = db
        Task.detached {
            await Self.run(replay, candidate: candidate, active: active, last: n, db: db, services: services)
        }
        return Self.view(replay)
    }

    static func view(_ replay: ShadowReplay) -> ShadowReplayView {
        ShadowReplayView(id: replay.id!, versionId: replay.versionID, state: replay.state, total: replay.total, done: replay.done,
                         result: replay.resultJSON.flatMap { try? JSONDecoder().decode(ShadowReplayView.Result.self, from: Data($0.utf8)) }, error: replay.error)
    }

    func replay(_ raw: String?) async throws -> ShadowReplayView {
        guard let raw, let id = UUID(uuidString: raw), let replay = try await ShadowReplay.find(id, on: db) else { throw APIError.notFound("shadow replay") }
        return Self.view(replay)
    }

    /// Evaluates both versions on the stored inputs, newest decisions first, writing progress as it goes.
    static func run(_ replay: ShadowReplay, candidate: PolicyVersion, active: PolicyVersion, last: Int, db: Database, services: YidaiServices) async {
        let started = Date()
        do {
            // A person who asked for erasure is no longer used for decisions, shadow ones included.
            let records = try await DecisionRecord.query(on: db).join(LoanApplication.self, on: \DecisionRecord.$applicationID == \LoanApplication.$id)
                .filter(LoanApplication.self, \.$privacyState == nil).sort(\.$decidedAt, .descending).limit(last).all()
            let candidateGraph = try await services.policies.compiledGraph(candidate)
            let activeGraph = try await services.policies.compiledGraph(active)
            var activeSide = SideTally(version: PolicyStore.label(active)), candidateSide = SideTally(version: PolicyStore.label(candidate))
            var changed: [ShadowReplayView.Change] = []
            var changedCount = 0
            for (index, record) in records.enumerated() {
                let input = try ZenJSON.parse(Data(record.inputJSON.utf8))
                let a = try outcome(activeGraph, input)
                let c = try outcome(candidateGraph, input)
                activeSide.add(a)
                candidateSide.add(c)
                if a.decision != c.decision || a.creditLimit != c.creditLimit || a.annualRate != c.annualRate {
                    changedCount += 1
                    if changed.count < 1000 { changed.append(.init(applicationId: record.applicationID, active: a, candidate: c)) }
                }
                if (index + 1) % 2000 == 0 {
                    let done = index + 1
                    try await db.writeTransaction { tx in try await ShadowReplay.query(on: tx).filter(\.$id == replay.id!).set(\.$done, to: done).update() }
                }
            }
            let result = ShadowReplayView.Result(active: activeSide.side, candidate: candidateSide.side, changedCount: changedCount, changed: changed,
                                                 seconds: (Date().timeIntervalSince(started) * 100).rounded() / 100)
            let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
            let (count, finished) = (records.count, services.clock.now())
            try await db.writeTransaction { tx in
                try await ShadowReplay.query(on: tx).filter(\.$id == replay.id!).set(\.$state, to: "done").set(\.$done, to: count).set(\.$total, to: count)
                    .set(\.$resultJSON, to: json).set(\.$finishedAt, to: finished).update()
            }
        } catch {
            let message = String(describing: error).prefix(300).description
            try? await db.writeTransaction { tx in
                try await ShadowReplay.query(on: tx).filter(\.$id == replay.id!).set(\.$state, to: "failed").set(\.$error, to: message).update()
            }
        }
    }

    static func outcome(_ graph: DecisionGraph, _ input: ZenValue) throws -> ShadowReplayView.Outcome {
        let result = try graph.evaluate(input, trace: false)
        let o = try PolicyOutcome(output: result.output, trace: .null, version: "-", sha256: "-")
        return .init(decision: o.decision, creditLimit: Money.string(o.creditLimit), annualRate: Money.string(o.annualRate), reasons: o.reasons.map(\.code))
    }

    struct SideTally {
        let version: String
        var counts: [String: Int] = [:]
        var limits: Decimal = 0
        var bands: [String: Int] = [:]

        mutating func add(_ o: ShadowReplayView.Outcome) {
            counts[o.decision, default: 0] += 1
            if o.decision == "approved" {
                limits += Decimal(string: o.creditLimit) ?? 0
                bands[o.annualRate, default: 0] += 1
            }
        }

        var side: ShadowReplayView.Side {
            let total = counts.values.reduce(0, +)
            func rate(_ k: String) -> Double { total == 0 ? 0 : (Double(counts[k, default: 0]) / Double(total) * 1000).rounded() / 10 }
            let approved = counts["approved", default: 0]
            return .init(version: version, decisions: total, approved: approved, referred: counts["referred", default: 0], declined: counts["declined", default: 0],
                         approvalRate: rate("approved"), referralRate: rate("referred"), declineRate: rate("declined"),
                         averageLimit: Money.string(approved == 0 ? 0 : limits / Decimal(approved)), totalLimit: Money.string(limits), rateBands: bands)
        }
    }
}
