import Foundation
import ZenEngine

/// Names a node while it is compiled, so every refusal says where it comes from.
/// Collects what the loader tolerated the way zen-engine does (e.g. a table cell that does not parse
/// never matches), so callers can show it.
final class DecisionLoadWarnings {
    var messages: [String] = []
}

struct DecisionNodeInfo {
    let id: String
    let name: String
    let type: String
    var warnings = DecisionLoadWarnings()

    func warn(_ message: String) { warnings.messages.append("node '\(name)' (\(type)): \(message)") }

    /// Compiles a table cell or switch condition. zen-engine treats one that does not parse as
    /// "never true"; this does the same and records a warning. An unknown function is refused.
    func compileTolerant(_ source: String, unary: Bool, what: String) throws(DecisionLoadError) -> ZExpr? {
        do {
            return try ZenCompiler.compile(source, mode: unary ? .unary : .standard)
        } catch {
            if let name = error.unknownFunction {
                throw self.error(feature: "function \(name)", "\(what): unknown function `\(name)` in `\(source)`")
            }
            warn("\(what): `\(source)` does not parse (\(error.message)); like zen-engine, it never matches")
            return nil
        }
    }

    func error(feature: String, _ message: String) -> DecisionLoadError {
        DecisionLoadError(nodeName: name, nodeType: type, feature: feature, message: message)
    }

    func compileStandard(_ source: String, what: String) throws(DecisionLoadError) -> ZExpr {
        do {
            return try ZenCompiler.compile(source, mode: .standard)
        } catch {
            throw self.error(feature: "expression", "\(what): cannot compile `\(source)`: \(error.message)")
        }
    }

    func compileUnary(_ source: String, what: String) throws(DecisionLoadError) -> ZExpr {
        do {
            return try ZenCompiler.compile(source, mode: .unary)
        } catch {
            throw self.error(feature: "expression", "\(what): cannot compile `\(source)`: \(error.message)")
        }
    }
}

/// passThrough / inputField / outputPath / executionMode of table, expression and decision nodes.
struct DecisionTransform {
    let inputField: ZExpr?
    let inputFieldSource: String?
    let outputPath: [String]?
    let loop: Bool
    let passThrough: Bool

    var isIdentity: Bool { inputField == nil && outputPath == nil && !loop && !passThrough }

    init(_ c: ZenObject, node: DecisionNodeInfo) throws(DecisionLoadError) {
        func text(_ key: String) -> String? {
            guard case .string(let s)? = c[key], !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return s
        }
        inputFieldSource = text("inputField")
        inputField = try inputFieldSource.map { (s) throws(DecisionLoadError) in
            try node.compileStandard(s, what: "inputField")
        }
        outputPath = text("outputPath").map {
            $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }
        switch c["executionMode"] {
        case nil, .null?, .string("single")?: loop = false
        case .string("loop")?: loop = true
        case let other?:
            throw node.error(feature: "executionMode", "execution mode \(ZenJSON.serialize(other)) is not supported")
        }
        switch c["passThrough"] {
        case .bool(let b)?: passThrough = b
        default: passThrough = false
        }
    }
}

final class ExpressionNodeProgram {
    let items: [(key: String, path: [String], hashes: [UInt32], expr: ZExpr, source: String)]
    let usesDollar: Bool

    init(content: ZenObject, node: DecisionNodeInfo) throws(DecisionLoadError) {
        guard case .array(let list)? = content["expressions"] else {
            throw node.error(feature: "expressionNode", "an expression node needs a list of expressions")
        }
        var items: [(key: String, path: [String], hashes: [UInt32], expr: ZExpr, source: String)] = []
        var dollar = false
        for entry in list {
            guard case .object(let e) = entry else { continue }
            let key = e["key"]?.stringValue ?? ""
            let value = e["value"]?.stringValue ?? ""
            if key.isEmpty || value.isEmpty { continue }
            let expr = try node.compileStandard(value, what: "expression '\(key)'")
            if ZenCompiler.mayReadDollar(value) { dollar = true }
            let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            items.append((key, path, path.map(ZenObject.hash), expr, value))
        }
        self.items = items
        self.usesDollar = dollar
    }
}

final class SwitchNodeProgram {
    let collect: Bool
    let statements: [(id: String, condition: ZExpr?)]

    init(content: ZenObject, node: DecisionNodeInfo) throws(DecisionLoadError) {
        switch content["hitPolicy"] {
        case nil, .null?, .string("first")?: collect = false
        case .string("collect")?: collect = true
        case let other?:
            throw node.error(feature: "hitPolicy", "hit policy \(ZenJSON.serialize(other)) is not supported")
        }
        guard case .array(let list)? = content["statements"] else {
            throw node.error(feature: "switchNode", "a switch node needs statements")
        }
        var statements: [(id: String, condition: ZExpr?)] = []
        for s in list {
            guard case .object(let o) = s, case .string(let id)? = o["id"] else {
                throw node.error(feature: "switchNode", "a switch statement has no id")
            }
            let condition = o["condition"]?.stringValue ?? ""
            if condition.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                statements.append((id, nil))
            } else {
                let compiled = try node.compileTolerant(condition, unary: false, what: "switch condition")
                statements.append((id, compiled ?? ZConst(.null)))
            }
        }
        self.statements = statements
    }
}

enum DecisionNodeKind {
    case input(DecisionSchema?)
    case output(DecisionSchema?)
    case table(DecisionTableProgram, DecisionTransform)
    case expression(ExpressionNodeProgram, DecisionTransform)
    case switchNode(SwitchNodeProgram)
    case decision(DecisionGraphProgram, DecisionTransform)
}

final class DecisionGraphNode {
    let info: DecisionNodeInfo
    let kind: DecisionNodeKind
    /// Alive edge indices, newest first (petgraph's order).
    let incoming: [Int]
    let outgoing: [Int]

    init(info: DecisionNodeInfo, kind: DecisionNodeKind, incoming: [Int], outgoing: [Int]) {
        self.info = info
        self.kind = kind
        self.incoming = incoming
        self.outgoing = outgoing
    }

    var isSwitch: Bool { if case .switchNode = kind { return true } else { return false } }
    var isOutput: Bool { if case .output = kind { return true } else { return false } }
    var isInput: Bool { if case .input = kind { return true } else { return false } }
}

struct DecisionGraphEdge {
    let source: Int
    let target: Int
    let handle: String?
}

/// A compiled graph: nodes, edges and everything needed to evaluate without parsing.
final class DecisionGraphProgram: @unchecked Sendable {
    var nodes: [DecisionGraphNode] = []
    var edges: [DecisionGraphEdge] = []
    var inputNodes: [Int] = []
    var hasSwitch = false
    var usesNodes = false
    /// Whether any expression can make a date (only `d(...)` does); results then need date-to-text.
    var usesDates = false
    var warnings = DecisionLoadWarnings()
    /// For graphs without switch nodes the walk never changes: the nodes in evaluation order.
    var staticOrder: [Int]?
    var staticEnding: [Int]?
    var staticIncoming: [[Int]] = []

    static let maxDepth = 5
}

/// Loads and compiles JDM graphs (GoRules JSON Decision Model).
struct DecisionGraphLoader {
    let loader: (String) throws -> Data
    let warnings = DecisionLoadWarnings()
    var cache: [String: DecisionGraphProgram] = [:]
    var loading: [String] = []

    mutating func compile(_ json: ZenValue, key: String?) throws(DecisionLoadError) -> DecisionGraphProgram {
        guard case .object(let root) = json else {
            throw DecisionLoadError(feature: "graph", message: "a decision graph must be a JSON object")
        }
        let content: ZenObject
        if case .object(let inner)? = root["content"], inner["nodes"] != nil {
            content = inner  // { "contentType": ..., "content": { nodes, edges } }
        } else {
            content = root
        }
        guard case .array(let nodeList)? = content["nodes"] else {
            throw DecisionLoadError(feature: "graph", message: "a decision graph needs a `nodes` list")
        }
        let edgeList: [ZenValue]
        switch content["edges"] {
        case .array(let e)?: edgeList = e
        case nil, .null?: edgeList = []
        default: throw DecisionLoadError(feature: "graph", message: "`edges` must be a list")
        }
        let program = DecisionGraphProgram()
        var infos: [DecisionNodeInfo] = []
        program.warnings = warnings
        var nodeObjects: [ZenObject] = []
        var indexById: [String: Int] = [:]
        for item in nodeList {
            guard case .object(let n) = item else {
                throw DecisionLoadError(feature: "graph", message: "a node is not a JSON object")
            }
            guard case .string(let id)? = n["id"] else {
                throw DecisionLoadError(feature: "graph", message: "a node has no id")
            }
            let name = n["name"]?.stringValue ?? id
            guard case .string(let type)? = n["type"] else {
                throw DecisionLoadError(nodeName: name, feature: "node type", message: "node '\(name)' has no type")
            }
            indexById[id] = infos.count
            infos.append(DecisionNodeInfo(id: id, name: name, type: type, warnings: warnings))
            nodeObjects.append(n)
        }
        for item in edgeList {
            guard case .object(let e) = item, case .string(let s)? = e["sourceId"], case .string(let t)? = e["targetId"]
            else {
                throw DecisionLoadError(feature: "graph", message: "an edge has no sourceId or targetId")
            }
            guard let si = indexById[s] else {
                throw DecisionLoadError(feature: "graph", message: "an edge starts at missing node \(s)")
            }
            guard let ti = indexById[t] else {
                throw DecisionLoadError(feature: "graph", message: "an edge ends at missing node \(t)")
            }
            var handle: String?
            if case .string(let h)? = e["sourceHandle"] { handle = h }
            program.edges.append(DecisionGraphEdge(source: si, target: ti, handle: handle))
        }
        var incoming = Array(repeating: [Int](), count: infos.count)
        var outgoing = Array(repeating: [Int](), count: infos.count)
        for (i, e) in program.edges.enumerated().reversed() {
            outgoing[e.source].append(i)
            incoming[e.target].append(i)
        }
        for (i, info) in infos.enumerated() {
            let n = nodeObjects[i]
            let contentValue = n["content"] ?? .null
            let c = contentValue.objectValue ?? ZenObject()
            let kind: DecisionNodeKind
            switch info.type {
            case "inputNode":
                kind = .input(try schema(c, info))
                program.inputNodes.append(i)
            case "outputNode":
                kind = .output(try schema(c, info))
            case "decisionTableNode":
                kind = .table(
                    try DecisionTableProgram(content: contentValue, node: info), try DecisionTransform(c, node: info))
            case "expressionNode":
                kind = .expression(
                    try ExpressionNodeProgram(content: c, node: info), try DecisionTransform(c, node: info))
            case "switchNode":
                kind = .switchNode(try SwitchNodeProgram(content: c, node: info))
                program.hasSwitch = true
            case "decisionNode":
                guard case .string(let subKey)? = c["key"], !subKey.isEmpty else {
                    throw info.error(feature: "decisionNode", "a decision node needs the key of its sub-decision")
                }
                let sub = try loadSubDecision(subKey, info)
                kind = .decision(sub, try DecisionTransform(c, node: info))
                if sub.usesNodes { program.usesNodes = true }
                if sub.usesDates { program.usesDates = true }
            case "functionNode":
                throw info.error(feature: "functionNode", "JavaScript function nodes are not supported")
            case "customNode":
                throw info.error(feature: "customNode", "custom nodes are not supported")
            default:
                throw info.error(feature: "node type", "node type `\(info.type)` is not supported")
            }
            program.nodes.append(
                DecisionGraphNode(info: info, kind: kind, incoming: incoming[i], outgoing: outgoing[i]))
            let text = ZenJSON.serialize(contentValue)
            if text.contains("$nodes") { program.usesNodes = true }
            if text.range(of: #"(^|[^A-Za-z0-9_$#.])d\s*\("#, options: .regularExpression) != nil {
                program.usesDates = true
            }
        }
        guard program.inputNodes.count == 1 else {
            throw DecisionLoadError(
                feature: "graph",
                message: "a decision graph needs exactly one input node (found \(program.inputNodes.count))")
        }
        if isCyclic(program) {
            throw DecisionLoadError(feature: "graph", message: "the decision graph has a cycle")
        }
        if !program.hasSwitch { DecisionGraphRunner.planStatic(program) }
        return program
    }

    func schema(_ c: ZenObject, _ info: DecisionNodeInfo) throws(DecisionLoadError) -> DecisionSchema? {
        let value: ZenValue
        switch c["schema"] {
        case nil, .null?: return nil
        case .string(let s)?:
            if s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
            // zen-engine ignores a schema text that is not JSON.
            guard let v = try? ZenJSON.parse(s) else { return nil }
            value = v
        case let other?: value = other
        }
        if case .object(let o) = value, o.isEmpty { return nil }
        do {
            return try DecisionSchema(value)
        } catch {
            throw info.error(feature: error.feature, error.message)
        }
    }

    mutating func loadSubDecision(_ key: String, _ info: DecisionNodeInfo) throws(DecisionLoadError)
        -> DecisionGraphProgram
    {
        if let p = cache[key] { return p }
        if loading.contains(key) {
            throw info.error(feature: "decisionNode", "sub-decision `\(key)` refers back to itself")
        }
        let data: Data
        do {
            data = try loader(key)
        } catch {
            throw info.error(feature: "decisionNode", "cannot load sub-decision `\(key)`: \(error)")
        }
        let json: ZenValue
        do { json = try ZenJSON.parse(data) } catch {
            throw info.error(feature: "decisionNode", "sub-decision `\(key)` is not valid JSON: \(error)")
        }
        loading.append(key)
        defer { loading.removeLast() }
        let program: DecisionGraphProgram
        do {
            program = try compile(json, key: key)
        } catch {
            let where_ = error.nodeName.map { " node '\($0)' (\(error.nodeType ?? "node"))" } ?? ""
            throw info.error(feature: error.feature, "in sub-decision `\(key)`\(where_): \(error.message)")
        }
        cache[key] = program
        return program
    }

    func isCyclic(_ p: DecisionGraphProgram) -> Bool {
        var state = Array(repeating: 0, count: p.nodes.count)
        func visit(_ n: Int) -> Bool {
            if state[n] == 1 { return true }
            if state[n] == 2 { return false }
            state[n] = 1
            for e in p.nodes[n].outgoing where visit(p.edges[e].target) { return true }
            state[n] = 2
            return false
        }
        for n in p.nodes.indices where visit(n) { return true }
        return false
    }
}

/// A JDM decision graph, compiled once; evaluating it does no parsing.
public struct DecisionGraph: Sendable {
    let program: DecisionGraphProgram

    /// What the loader tolerated as zen-engine does (for instance a table cell that does not parse,
    /// which never matches). Empty for a clean graph.
    public var warnings: [String] { program.warnings.messages }

    /// Compiles a graph. `loader` returns the JSON of a sub-decision by its key (e.g. "sub.json").
    public init(json: Data, loader: (String) throws -> Data) throws(DecisionLoadError) {
        let value: ZenValue
        do { value = try ZenJSON.parse(json) } catch {
            throw DecisionLoadError(feature: "json", message: "the graph is not valid JSON: \(error)")
        }
        try self.init(value: value, loader: loader)
    }

    /// Compiles a graph that has no sub-decisions (a decision node is then refused).
    public init(json: Data) throws(DecisionLoadError) {
        try self.init(json: json) { key in
            throw DecisionLoadError(feature: "decisionNode", message: "no loader for sub-decision `\(key)`")
        }
    }

    public init(value: ZenValue, loader: (String) throws -> Data) throws(DecisionLoadError) {
        program = try withoutActuallyEscaping(loader) { (escapable) throws(DecisionLoadError) in
            var l = DecisionGraphLoader(loader: escapable)
            return try l.compile(value, key: nil)
        }
    }

    /// Reads a graph file; sub-decision keys resolve against the file's folder, as zen-engine's
    /// filesystem loader does. This is the evaluator's only file access.
    public static func load(contentsOf url: URL) throws(DecisionLoadError) -> DecisionGraph {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DecisionLoadError(feature: "file", message: "cannot read \(url.path): \(error.localizedDescription)")
        }
        let folder = url.deletingLastPathComponent()
        return try DecisionGraph(json: data) { key in
            try Data(contentsOf: folder.appendingPathComponent(key))
        }
    }

    /// Evaluates the graph on `input`. `now` is the clock that `d()`, `date('now')`, `isToday()` read
    /// (LendingCore never reads the wall clock itself); without it those expressions fail.
    public func evaluate(_ input: ZenValue, trace: Bool = false, now: Date? = nil) throws(DecisionEvaluationError)
        -> DecisionResult
    {
        let clock = now.map(ZenClock.millis)
        if !trace, program.staticOrder != nil, !program.usesDates, !program.usesNodes {
            // The common case: a fixed walk, no trace.
            return DecisionResult(
                output: try DecisionGraphRunner.runStatic(program, input, depth: 0, now: clock), trace: nil)
        }
        let runner = DecisionGraphRunner(program: program, trace: trace, depth: 0, parentNodes: nil)
        runner.now = clock
        var output = try runner.run(input)
        if program.usesNodes { output = DecisionGraphRunner.clean(output) }
        if program.usesDates { output = ZenDate.externalize(output) }
        let entries = runner.traces.map { entry in
            DecisionTraceEntry(
                nodeId: entry.nodeId, nodeName: entry.nodeName, nodeType: entry.nodeType,
                input: ZenDate.externalize(DecisionGraphRunner.clean(entry.input)),
                output: ZenDate.externalize(DecisionGraphRunner.clean(entry.output)),
                matchedRules: entry.matchedRules, matchedRuleIds: entry.matchedRuleIds,
                traceData: ZenDate.externalize(entry.traceData), order: entry.order)
        }
        return DecisionResult(output: output, trace: trace ? entries : nil)
    }
}
