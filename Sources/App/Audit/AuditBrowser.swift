import Fluent
import Foundation
import LendingCore
import Vapor

/// The auditor's view of the trail: entries filtered by application, staff member (or any actor), action and Beijing
/// date range, newest first, paged by sequence; the hash chain verified on request with its result; exports as CSV
/// or JSON carrying that result; and every reveal of personal data, per staff member. Reading changes nothing; an
/// export and a verification are themselves recorded (who took what out of the trail, and what they were told).
struct AuditBrowser {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    struct Filter: Sendable {
        var application: UUID?
        var actor: String?
        var action: String?
        var from: CivilDate?
        var to: CivilDate?
        var before: Int?
        var limit = 50

        /// Query items for links that keep the filter (paging and export).
        var queryItems: [URLQueryItem] {
            var items: [URLQueryItem] = []
            if let application { items.append(.init(name: "application", value: application.uuidString.lowercased())) }
            if let actor { items.append(.init(name: "actor", value: actor)) }
            if let action { items.append(.init(name: "action", value: action)) }
            if let from { items.append(.init(name: "from", value: from.iso)) }
            if let to { items.append(.init(name: "to", value: to.iso)) }
            return items
        }
    }

    static let maxExport = 100_000

    /// Reads and checks the filter from a query string; each bad value is named.
    static func filter(_ req: Request, limitCap: Int = 500) throws -> Filter {
        func text(_ name: String) -> String? {
            guard let raw = req.query[String.self, at: name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        var filter = Filter()
        if let raw = text("application") {
            guard let id = UUID(uuidString: raw) else {
                throw APIError.invalid("application", "application must be an application id (a UUID).", zh: "申请编号格式不正确。")
            }
            filter.application = id
        }
        if let raw = text("actor") {
            guard raw.count <= 100 else { throw APIError.invalid("actor", "actor is at most 100 characters.", zh: "操作人过长。") }
            // applicant, system and operator are actors of their own; any other bare word is a staff login.
            filter.actor = raw.contains(":") || ["applicant", "system", "operator"].contains(raw) ? raw : "staff:" + raw.lowercased()
        }
        if let raw = text("action") {
            guard raw.count <= 100 else { throw APIError.invalid("action", "action is at most 100 characters.", zh: "操作类型过长。") }
            filter.action = raw
        }
        if let raw = text("from") { filter.from = try Reports.date(raw, field: "from") }
        if let raw = text("to") { filter.to = try Reports.date(raw, field: "to") }
        if let from = filter.from, let to = filter.to, to < from {
            throw APIError.invalid("to", "to must not be before from.", zh: "结束日期不能早于开始日期。")
        }
        if let raw = text("before") {
            guard let before = Int(raw), before > 0 else { throw APIError.invalid("before", "before must be a sequence number above 0.", zh: "分页参数不正确。") }
            filter.before = before
        }
        if let raw = text("limit") {
            guard let limit = Int(raw), (1...limitCap).contains(limit) else {
                throw APIError.invalid("limit", "limit must be between 1 and \(limitCap).", zh: "每页条数应在1到\(limitCap)之间。")
            }
            filter.limit = limit
        }
        return filter
    }

    struct EntryView: Content {
        let sequence: Int
        let recordedAt: Date
        let actor: String
        let action: String
        let applicationId: UUID?
        let details: [String: String]
        let entryHash: String
        /// The hash of the previous entry in the same lane of the chain (its lane's genesis for the first).
        let previousHash: String
        let lane: Int
        let lanePosition: Int
    }

    struct Page: Content {
        let items: [EntryView]
        /// Pass as `before` for the next (older) page; nil on the last page.
        let nextBefore: Int?
    }

    struct VerificationView: Content {
        let intact: Bool
        let entries: Int
        let anchorsChecked: Int
        let firstBrokenSequence: Int?
        let problems: [String]
        let checkedAt: Date
    }

    func query(_ filter: Filter) -> QueryBuilder<AuditEntry> {
        let query = AuditEntry.query(on: db)
        if let application = filter.application { query.filter(\.$applicationID == application) }
        if let actor = filter.actor { query.filter(\.$actor == actor) }
        if let action = filter.action { query.filter(\.$action == action) }
        if let from = filter.from { query.filter(\.$recordedAt >= ContractService.startOfDay(from)) }
        if let to = filter.to { query.filter(\.$recordedAt < ContractService.startOfDay(to.adding(days: 1))) }
        if let before = filter.before { query.filter(\.$sequence < before) }
        return query.sort(\.$sequence, .descending)
    }

    static func view(_ entry: AuditEntry) -> EntryView {
        EntryView(
            sequence: entry.sequence, recordedAt: entry.recordedAt, actor: entry.actor, action: entry.action, applicationId: entry.applicationID,
            details: (try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8))) ?? ["raw": entry.details],
            entryHash: entry.entryHash, previousHash: entry.previousHash, lane: entry.lane, lanePosition: entry.lanePosition)
    }

    func page(_ filter: Filter) async throws -> Page {
        try await AuditSealing(db: db, services: services).sealAll()  // every entry shown with its place in the chain
        let rows = try await query(filter).limit(filter.limit + 1).all()
        let items = rows.prefix(filter.limit).map(Self.view)
        return Page(items: Array(items), nextBefore: rows.count > filter.limit ? items.last?.sequence : nil)
    }

    /// Runs the whole verification (`AuditVerifier`, as `yidai audit verify` does) and records that it was run.
    func verify() async throws -> VerificationView {
        let report = try await AuditVerifier(db: db, services: services).verify()
        let view = VerificationView(
            intact: report.isIntact, entries: report.entries, anchorsChecked: report.anchorsChecked,
            firstBrokenSequence: report.firstBrokenSequence, problems: report.problems, checkedAt: services.clock.now())
        try await AuditTrail(db: db, services: services).record(
            application: nil, actor: "staff:\(principal.login)", action: "audit.verified",
            details: ["intact": String(view.intact), "entries": String(view.entries), "role": principal.role.rawValue])
        return view
    }

    struct Export: Content {
        let verification: VerificationView
        let filter: [String: String]
        let entries: [EntryView]
    }

    /// The entries the filter selects (oldest first, at most `maxExport`), with the verification of the whole chain
    /// run just before; recorded in the trail.
    func export(_ filter: Filter, format: String) async throws -> Response {
        guard format == "csv" || format == "json" else {
            throw APIError.invalid("format", "format must be csv or json.", zh: "导出格式应为CSV或JSON。")
        }
        let verification = try await verify()
        var unpaged = filter
        unpaged.before = nil
        let rows = try await query(unpaged).limit(Self.maxExport).all().reversed().map(Self.view)
        let filterSummary = Dictionary(uniqueKeysWithValues: filter.queryItems.map { ($0.name, $0.value ?? "") })
        try await AuditTrail(db: db, services: services).record(
            application: filter.application, actor: "staff:\(principal.login)", action: "audit.exported",
            details: filterSummary.merging(["format": format, "entries": String(rows.count)]) { a, _ in a })
        let stamp = BusinessCalendar.civilDate(services.clock.now()).iso
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = try encoder.encode(Export(verification: verification, filter: filterSummary, entries: Array(rows)))
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
            headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"audit-\(stamp).json\"")
            return Response(status: .ok, headers: headers, body: .init(data: body))
        }
        let iso = ISO8601DateFormatter()
        var lines = [
            "verification,entries,anchorsChecked,firstBrokenSequence,checkedAt",
            [verification.intact ? "intact" : "broken", String(verification.entries), String(verification.anchorsChecked),
             verification.firstBrokenSequence.map(String.init) ?? "", iso.string(from: verification.checkedAt)].joined(separator: ","),
        ]
        lines += verification.problems.map { "problem," + ReportCSV.field($0) }
        lines.append("")
        lines.append("sequence,recordedAt,actor,action,applicationId,details,entryHash,previousHash,lane,lanePosition")
        for entry in rows {
            let details = AuditTrail.canonicalJSON(entry.details)
            lines.append([String(entry.sequence), iso.string(from: entry.recordedAt), ReportCSV.field(entry.actor), ReportCSV.field(entry.action),
                          entry.applicationId?.uuidString.lowercased() ?? "", ReportCSV.field(details), entry.entryHash, entry.previousHash,
                          String(entry.lane), String(entry.lanePosition)]
                .joined(separator: ","))
        }
        return ReportCSV.response(lines.joined(separator: "\r\n") + "\r\n", name: "audit-\(stamp).csv")
    }

    struct RevealList: Content {
        struct Reveal: Content {
            let sequence: Int
            let recordedAt: Date
            let applicationId: UUID?
            let field: String
            let reason: String
        }
        struct Member: Content {
            let login: String
            let role: String
            let count: Int
            let reveals: [Reveal]
        }
        let members: [Member]
    }

    /// Every reveal of personal data in the range (or of one staff member), grouped per member, most reveals first.
    func reveals(_ filter: Filter) async throws -> RevealList {
        var onlyReveals = filter
        onlyReveals.action = "personal_data.revealed"
        onlyReveals.before = nil
        let rows = try await query(onlyReveals).limit(Self.maxExport).all().map(Self.view)
        var members: [String: (role: String, reveals: [RevealList.Reveal])] = [:]
        for entry in rows {
            let login = entry.details["staff"] ?? entry.actor.replacingOccurrences(of: "staff:", with: "")
            var member = members[login] ?? (entry.details["role"] ?? "", [])
            member.reveals.append(.init(sequence: entry.sequence, recordedAt: entry.recordedAt, applicationId: entry.applicationId,
                                        field: entry.details["field"] ?? "", reason: entry.details["reason"] ?? ""))
            members[login] = member
        }
        return RevealList(members: members.map { .init(login: $0.key, role: $0.value.role, count: $0.value.reveals.count, reveals: $0.value.reveals) }
            .sorted { ($0.count, $1.login) > ($1.count, $0.login) })
    }
}
