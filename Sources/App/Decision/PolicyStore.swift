import Crypto
import Fluent
import Foundation
import PostgresNIO
import LendingCore
import SQLKit

/// Published credit-policy versions: immutable once published, one active, old ones kept for replay.
/// A version is a folder's files (graph, sub-graphs, cases) stored whole, with the SHA-256 over them.
actor PolicyStore {
    private var compiled: [UUID: DecisionGraph] = [:]

    struct PolicyFolder: Sendable {
        let name: String
        let entryFile: String
        let files: [String: String]
        let sha256: String
    }

    enum PublishError: Error, CustomStringConvertible {
        case unreadable(String)
        case casesFailed(PolicyTestReport)
        case refused(String)

        var description: String {
            switch self {
            case .unreadable(let why): "cannot read the policy folder: \(why)"
            case .casesFailed(let report): "the policy's cases fail, so it was not published:\n\(report.render())"
            case .refused(let why): "the policy graph was refused: \(why)"
            }
        }
    }

    /// Reads every .json file of a policy folder. The entry graph is the case file's `graph`.
    static func readFolder(_ path: String) throws -> PolicyFolder {
        let url = URL(fileURLWithPath: path, isDirectory: true)
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: url.path) else { throw PublishError.unreadable("\(path) is not a folder") }
        var files: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            guard let text = try? String(contentsOf: url.appendingPathComponent(name), encoding: .utf8) else {
                throw PublishError.unreadable("\(name) is not UTF-8 text")
            }
            files[name] = text
        }
        guard files[PolicyCaseFile.fileName] != nil else { throw PublishError.unreadable("\(path) has no \(PolicyCaseFile.fileName)") }
        return try folder(name: url.lastPathComponent, files: files)
    }

    static func graph(entry: String, files: [String: String]) throws(DecisionLoadError) -> DecisionGraph {
        guard let text = files[entry] else { throw DecisionLoadError(nodeName: nil, feature: "file", message: "\(entry) is missing") }
        return try DecisionGraph(json: Data(text.utf8)) { key in
            let name = key.hasSuffix(".json") ? key : key + ".json"
            guard let sub = files[name] ?? files[(name as NSString).lastPathComponent] else {
                throw DecisionLoadError(nodeName: nil, feature: "decisionNode", message: "sub-decision \(key) is not in the policy folder")
            }
            return Data(sub.utf8)
        }
    }

    /// Runs the folder's cases; publishes only if all pass. Returns the new version.
    func publish(folderPath: String, by publisher: String, on db: Database, now: Date) async throws -> PolicyVersion {
        let folder = try Self.readFolder(folderPath)
        let (graph, _) = try Self.checked(folder)
        let existing = try await PolicyVersion.query(on: db).filter(\.$name == folder.name).sort(\.$version, .descending).all()
        if let same = existing.first(where: { $0.sha256 == folder.sha256 }) {
            if !same.active { try await db.writeTransaction { tx in try await Self.activate(same, on: tx) } }
            return same
        }
        let version = try Self.newVersion(folder, after: existing, by: publisher, at: now)
        try await db.writeTransaction { tx in
            try await version.create(on: tx)
            try await Self.activate(version, on: tx)
        }
        compiled[try version.requireID()] = graph
        return version
    }

    /// Checks a folder's files as `publish` does (the graph loads, every case passes) and stores them as a
    /// candidate: not active until a second risk person approves it. The same files again give the same version.
    func upload(files: [String: String], name: String, by author: String, on db: Database, now: Date) async throws -> (PolicyVersion, PolicyTestReport) {
        let folder = try Self.folder(name: name, files: files)
        let (_, report) = try Self.checked(folder)
        let existing = try await PolicyVersion.query(on: db).filter(\.$name == folder.name).sort(\.$version, .descending).all()
        if let same = existing.first(where: { $0.sha256 == folder.sha256 }) { return (same, report) }
        let version = try Self.newVersion(folder, after: existing, by: author, at: now)
        version.state = "candidate"
        return (version, report)
    }

    /// The folder's graph, once it loads and every case passes (publishing and uploading refuse it otherwise).
    static func checked(_ folder: PolicyFolder) throws -> (DecisionGraph, PolicyTestReport) {
        let graph: DecisionGraph
        do { graph = try Self.graph(entry: folder.entryFile, files: folder.files) } catch { throw PublishError.refused(error.description) }
        let caseFile = try PolicyCaseFile(json: Data(folder.files[PolicyCaseFile.fileName]!.utf8))
        let report = PolicyCaseRunner.run(caseFile.cases, on: graph)
        guard report.allPassed else { throw PublishError.casesFailed(report) }
        return (graph, report)
    }

    /// The next version of the folder's policy, not active and not stored yet.
    static func newVersion(_ folder: PolicyFolder, after existing: [PolicyVersion], by author: String, at now: Date) throws -> PolicyVersion {
        let version = PolicyVersion()
        version.name = folder.name
        version.version = (existing.first?.version ?? 0) + 1
        version.sha256 = folder.sha256
        version.filesJSON = String(decoding: try JSONEncoder().encode(folder.files), as: UTF8.self)
        version.entryFile = folder.entryFile
        version.publishedBy = author
        version.publishedAt = now
        version.active = false
        return version
    }

    /// A folder from uploaded files, hashed exactly as `readFolder` hashes a folder on disk.
    static func folder(name: String, files: [String: String]) throws -> PolicyFolder {
        guard let casesText = files[PolicyCaseFile.fileName] else { throw PublishError.unreadable("the files have no \(PolicyCaseFile.fileName)") }
        let caseFile: PolicyCaseFile
        do { caseFile = try PolicyCaseFile(json: Data(casesText.utf8)) } catch { throw PublishError.unreadable(error.description) }
        guard let entry = caseFile.graph ?? files.keys.sorted().first(where: { $0 != PolicyCaseFile.fileName }), files[entry] != nil else {
            throw PublishError.unreadable("the files have no graph file")
        }
        var hasher = SHA256()
        for name in files.keys.sorted() {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: Data(files[name]!.utf8))
            hasher.update(data: Data([0]))
        }
        let sha = Hex.string(hasher.finalize())
        return PolicyFolder(name: name, entryFile: entry, files: files, sha256: sha)
    }

    /// Makes `version` the one in force, inside the caller's transaction (every instance reads the active version
    /// from the database at each decision, so it is in force everywhere at once).
    static func activate(_ version: PolicyVersion, on tx: any Database) async throws {
        try await PolicyVersion.query(on: tx).set(\.$active, to: false).update()
        version.active = true
        try await version.save(on: tx)
    }

    func active(on db: Database) async throws -> PolicyVersion? {
        try await PolicyVersion.query(on: db).filter(\.$active == true).first()
    }

    func compiledGraph(_ version: PolicyVersion) throws -> DecisionGraph {
        let id = try version.requireID()
        if let graph = compiled[id] { return graph }
        let files = try JSONDecoder().decode([String: String].self, from: Data(version.filesJSON.utf8))
        let graph = try Self.graph(entry: version.entryFile, files: files)
        compiled[id] = graph
        return graph
    }

    static func label(_ version: PolicyVersion) -> String { "\(version.name)@v\(version.version)" }

    /// Evaluates the active version with a trace. The active version is read from the database at every decision
    /// (so a version published on any instance is in force on every one at once), but only its id and labels: its
    /// files are read and compiled once per version and process.
    func decide(_ input: CreditDecisionInput, on db: Database) async throws -> PolicyOutcome {
        guard let sql = db as? any SQLDatabase else {
            guard let version = try await active(on: db) else { throw Self.noActivePolicy }
            return try evaluate(input, version: version)
        }
        guard let row = try await PreparedStatements.all(ActiveVersion(), on: sql).first else { throw Self.noActivePolicy }
        let id = try row.decode(column: "id", as: UUID.self)
        let label = "\(try row.decode(column: "name", as: String.self))@v\(try row.decode(column: "version", as: Int.self))"
        let sha256 = try row.decode(column: "sha256", as: String.self)
        let graph: DecisionGraph
        if let known = compiled[id] {
            graph = known
        } else {
            guard let version = try await PolicyVersion.find(id, on: db) else { throw Self.noActivePolicy }
            graph = try compiledGraph(version)
        }
        return try Self.outcome(of: graph, input, version: label, sha256: sha256)
    }

    /// The active version's id and labels (prepared on PostgreSQL: every decision reads it).
    struct ActiveVersion: PreparedRowStatement {
        static let name = "PolicyStore.ActiveVersion"
        static let sql = "SELECT id, name, version, sha256 FROM policy_versions WHERE active LIMIT 1"
        static let bindingDataTypes: [PostgresDataType] = []
        var values: [any StatementValue & Sendable] { [] }
    }

    static let noActivePolicy = APIError(
        .serviceUnavailable, code: "no_active_policy", message: "No credit policy is published yet.", messageZh: "系统暂未配置审批策略，请稍后再试。")

    func evaluate(_ input: CreditDecisionInput, version: PolicyVersion) throws -> PolicyOutcome {
        try Self.outcome(of: try compiledGraph(version), input, version: Self.label(version), sha256: version.sha256)
    }

    private static func outcome(of graph: DecisionGraph, _ input: CreditDecisionInput, version: String, sha256: String) throws -> PolicyOutcome {
        let result = try graph.evaluate(input.value, trace: true)
        return try PolicyOutcome(output: result.output, trace: result.traceJSON(), version: version, sha256: sha256)
    }
}
