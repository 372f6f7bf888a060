import Fluent
import Foundation
import LendingCore
import Vapor

/// /console/policies: the risk team's policy operations in the workbench: every version with its hash, author and
/// approver; uploading a candidate (its cases run at once); its shadow replay beside the version in force; and the
/// second person's confirmation of a publish or a rollback. The same service as the API (`PolicyOperations`).
struct PolicyConsoleController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let pages = routes.grouped("console").grouped(CSRFMiddleware()).grouped(StaffAuthenticator())
        pages.requiring(.viewDecisionDetails).get("policies", use: page)
        pages.requiring(.managePolicy).on(.POST, "policies", body: .collect(maxSize: "1mb"), use: upload)
        pages.requiring(.managePolicy).post("policies", ":versionID", "shadow-replays", use: replay)
        pages.requiring(.managePolicy).post("policies", ":versionID", "rollback", use: rollback)
        pages.requiring(.managePolicy).post("policy-changes", ":changeID", "confirmation", use: confirm)
        pages.requiring(.managePolicy).get("shadow-replays", ":replayID", use: replayPage)
    }

    func operations(_ req: Request) throws -> PolicyOperations { PolicyOperations(db: req.db, services: req.yidai, principal: try req.staff) }

    struct Context: Encodable {
        struct Version: Encodable {
            let id: String
            let label: String
            let state: String
            let active: Bool
            let sha: String
            let author: String
            let approver: String
            let uploadedAt: String
            let canReplay: Bool
            let canRollback: Bool
        }
        struct Change: Encodable {
            let id: String
            let title: String
            let requestedBy: String
            let note: String
            let canConfirm: Bool
        }
        let page: ConsoleChrome
        let versions: [Version]
        let changes: [Change]
        let canManage: Bool
        let notice: String?
        let error: String?
    }

    func render(_ req: Request, notice: String? = nil, error: String? = nil, status: HTTPStatus = .ok) async throws -> Response {
        let principal = try req.staff
        let list = try await operations(req).list()
        let labels = Dictionary(list.versions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let canManage = StaffPermissions.scope(for: principal.role, action: .managePolicy) != StaffPermissions.Scope.none
        let context = Context(
            page: ConsolePagesController().chrome(req, "审批策略", principal),
            versions: list.versions.map { v in
                .init(id: v.id.uuidString.lowercased(), label: v.label, state: v.state == "candidate" ? "待复核" : "已发布", active: v.active,
                      sha: String(v.sha256.prefix(12)), author: v.author, approver: v.approvedBy ?? "—", uploadedAt: ManagerConsoleController.time(v.uploadedAt),
                      canReplay: canManage && !v.active, canRollback: canManage && v.state == "published" && !v.active)
            },
            changes: list.pendingChanges.map { c in
                let label = labels[c.versionId]?.label ?? "?"
                let author = labels[c.versionId]?.author
                return .init(id: c.id.uuidString.lowercased(), title: (c.kind == "rollback" ? "回退到 " : "发布 ") + label, requestedBy: c.requestedBy, note: c.note ?? "",
                             canConfirm: canManage && c.requestedBy != principal.login && (c.kind == "rollback" || author != principal.login))
            },
            canManage: canManage, notice: notice, error: error)
        return try await req.renderPage("console/policies", context, status: status)
    }

    func page(_ req: Request) async throws -> Response { try await render(req) }

    struct UploadForm: Content {
        var files: [File]?
        var note: String?
    }

    func upload(_ req: Request) async throws -> Response {
        let form = try req.content.decode(UploadForm.self)
        var files: [String: String] = [:]
        for file in form.files ?? [] where !file.filename.isEmpty {
            files[(file.filename as NSString).lastPathComponent] = String(buffer: file.data)
        }
        do {
            let answer = try await operations(req).upload(PolicyUpload(name: nil, files: files, note: form.note))
            return try await render(req, notice: "\(answer.version.label) 已上传：测试用例 \(answer.cases.passed) 个全部通过，等待另一位风险人员复核发布。")
        } catch let error as APIError where error.status != .notFound {
            return try await render(req, error: error.message, status: error.status)
        }
    }

    func replay(_ req: Request) async throws -> Response {
        let view = try await operations(req).startReplay(req.parameters.get("versionID"), last: PolicyOperations.maxReplay)
        return req.redirect(to: "/console/shadow-replays/\(view.id.uuidString.lowercased())")
    }

    func rollback(_ req: Request) async throws -> Response {
        do {
            let change = try await operations(req).requestRollback(req.parameters.get("versionID"), note: "工作台发起回退")
            _ = change
            return try await render(req, notice: "回退申请已提交，等待另一位风险人员复核。")
        } catch let error as APIError where error.status != .notFound {
            return try await render(req, error: error.messageZh, status: error.status)
        }
    }

    func confirm(_ req: Request) async throws -> Response {
        do {
            let version = try await operations(req).confirm(req.parameters.get("changeID"))
            return try await render(req, notice: "\(version.label) 已生效（所有实例立即使用）。")
        } catch let error as APIError where error.status != .notFound {
            return try await render(req, error: error.messageZh, status: error.status)
        }
    }

    struct ReplayContext: Encodable {
        struct Row: Encodable {
            let metric: String
            let active: String
            let candidate: String
        }
        struct Changed: Encodable {
            let application: String
            let href: String
            let active: String
            let candidate: String
        }
        let page: ConsoleChrome
        let running: Bool
        let progress: String
        let error: String?
        let rows: [Row]
        let changed: [Changed]
        let changedCount: Int
        let seconds: String
    }

    func replayPage(_ req: Request) async throws -> Response {
        let view = try await operations(req).replay(req.parameters.get("replayID"))
        var rows: [ReplayContext.Row] = []
        var changed: [ReplayContext.Changed] = []
        if let r = view.result {
            let a = r.active, c = r.candidate
            rows = [
                .init(metric: "版本", active: a.version, candidate: c.version),
                .init(metric: "决策笔数", active: "\(a.decisions)", candidate: "\(c.decisions)"),
                .init(metric: "通过率", active: "\(a.approvalRate)%", candidate: "\(c.approvalRate)%"),
                .init(metric: "转人工率", active: "\(a.referralRate)%", candidate: "\(c.referralRate)%"),
                .init(metric: "拒绝率", active: "\(a.declineRate)%", candidate: "\(c.declineRate)%"),
                .init(metric: "平均额度（元）", active: a.averageLimit, candidate: c.averageLimit),
                .init(metric: "总额度（元）", active: a.totalLimit, candidate: c.totalLimit),
                .init(metric: "利率分布", active: a.rateBands.sorted { $0.key < $1.key }.map { "\($0.key)%×\($0.value)" }.joined(separator: " "),
                      candidate: c.rateBands.sorted { $0.key < $1.key }.map { "\($0.key)%×\($0.value)" }.joined(separator: " ")),
            ]
            func text(_ o: ShadowReplayView.Outcome) -> String {
                "\(o.decision) \(o.creditLimit) @\(o.annualRate)%" + (o.reasons.isEmpty ? "" : "（\(o.reasons.joined(separator: ","))）")
            }
            changed = r.changed.prefix(200).map {
                .init(application: String($0.applicationId.uuidString.prefix(8)), href: ConsolePaths.application($0.applicationId), active: text($0.active), candidate: text($0.candidate))
            }
        }
        let context = ReplayContext(
            page: ConsolePagesController().chrome(req, "影子回放", try req.staff), running: view.state == "running", progress: "\(view.done) / \(view.total)",
            error: view.error, rows: rows, changed: changed, changedCount: view.result?.changedCount ?? 0, seconds: view.result.map { String($0.seconds) } ?? "")
        return try await req.renderPage("console/shadow-replay", context)
    }
}
