import Foundation
import ZenEngine

/// One evaluation of a compiled graph. Walks the nodes the way zen-engine's graph walker
/// does (including switch-branch pruning), merges node outputs the way it does, and
/// records a trace when asked.
final class DecisionGraphRunner {
    let program: DecisionGraphProgram
    let trace: Bool
    let depth: Int
    let parentNodes: ZenValue?
    /// The evaluation's clock (ms since 1970, UTC), when the caller allows reading time.
    @exclusivity(unchecked) var now: Int64?

    // The walk's state; only allocated for graphs whose walk depends on data (switch nodes).
    @exclusivity(unchecked) var edgeAlive: [Bool] = []
    @exclusivity(unchecked) var nodeAlive: [Bool] = []
    @exclusivity(unchecked) var visited: [Bool] = []
    @exclusivity(unchecked) var visitedSwitch: [Bool] = []
    @exclusivity(unchecked) var toVisit: [Int] = []
    @exclusivity(unchecked) var data: [ZenValue?]
    @exclusivity(unchecked) var nodesView: [ZenValue?] = []
    @exclusivity(unchecked) var dataOrder: [Int] = []
    @exclusivity(unchecked) var iterations = 0
    @exclusivity(unchecked) var traces: [DecisionTraceEntry] = []
    /// The statements each switch chose, for the trace.
    var switchTrace: [Int: ZenValue] = [:]

    init(program: DecisionGraphProgram, trace: Bool, depth: Int, parentNodes: ZenValue?) {
        self.program = program
        self.trace = trace
        self.depth = depth
        self.parentNodes = parentNodes
        data = Array(repeating: nil, count: program.nodes.count)
    }

    func prepareWalk() {
        let n = program.nodes.count
        edgeAlive = Array(repeating: true, count: program.edges.count)
        nodeAlive = Array(repeating: true, count: n)
        visited = Array(repeating: false, count: n)
        visitedSwitch = Array(repeating: false, count: n)
    }

    func error(_ node: DecisionGraphNode, _ message: String) -> DecisionEvaluationError {
        DecisionEvaluationError(nodeId: node.info.id, nodeName: node.info.name, message: message)
    }

    // MARK: - graph structure (with pruned edges)

    @inline(__always)
    func incomingNodes(_ n: Int) -> [Int] {
        var out: [Int] = []
        for e in program.nodes[n].incoming where edgeAlive[e] { out.append(program.edges[e].source) }
        return out
    }

    @inline(__always)
    func outgoingEdges(_ n: Int) -> [Int] {
        program.nodes[n].outgoing.filter { edgeAlive[$0] }
    }

    func incomingEdges(_ n: Int) -> [Int] {
        program.nodes[n].incoming.filter { edgeAlive[$0] }
    }

    func removeEdgeRecursive(_ e: Int) {
        guard edgeAlive[e] else { return }
        let s = program.edges[e].source
        let t = program.edges[e].target
        edgeAlive[e] = false
        for (n, incomingSide) in [(t, true), (s, false)] {
            let remaining = incomingSide ? incomingEdges(n) : outgoingEdges(n)
            if remaining.isEmpty {
                let opposite = incomingSide ? outgoingEdges(n) : incomingEdges(n)
                for x in opposite { removeEdgeRecursive(x) }
                if outgoingEdges(n).isEmpty { nodeAlive[n] = false }
            }
        }
    }

    // MARK: - data flow

    /// zen-engine's merge of the parents' outputs: the first parent's object (or array) is the
    /// base, the others merge over it.
    func incomingData(_ n: Int) -> ZenValue {
        if program.staticOrder != nil { return merge(program.staticIncoming[n]) }
        // Same merge as `merge(incomingNodes(n))`, without building the list.
        var result: ZenValue?
        for e in program.nodes[n].incoming where edgeAlive[e] {
            guard let d = data[program.edges[e].source] else { continue }
            if let r = result {
                result = r.zenMerged(with: d)
            } else {
                switch d {
                case .object, .array: result = d
                default: result = .object(ZenObject())
                }
            }
        }
        return result ?? .object(ZenObject())
    }

    @inline(__always)
    func hasOutgoing(_ n: Int) -> Bool {
        for e in program.nodes[n].outgoing where edgeAlive[e] { return true }
        return false
    }

    @inline(__always)
    func merge(_ parents: [Int]) -> ZenValue {
        var result: ZenValue?
        for p in parents {
            guard let d = data[p] else { continue }
            if let r = result {
                result = r.zenMerged(with: d)
            } else {
                switch d {
                case .object, .array: result = d
                default: result = .object(ZenObject())
                }
            }
        }
        return result ?? .object(ZenObject())
    }

    func nodesContext() -> ZenValue? {
        guard program.usesNodes else { return nil }
        var o = ZenObject(minimumCapacity: dataOrder.count)
        for n in dataOrder {
            guard let d = data[n] else { continue }
            o[program.nodes[n].info.name] = (nodesView.isEmpty ? nil : nodesView[n]) ?? d
        }
        return .object(o)
    }

    // MARK: - the walk

    func reset() {
        for i in visited.indices { visited[i] = false }
        toVisit = program.inputNodes.filter { nodeAlive[$0] }
        iterations += 1
    }

    func nextNode() throws(DecisionEvaluationError) -> Int? {
        if iterations >= 1000 { return nil }
        while let n = toVisit.popLast() {
            if visited[n] { continue }
            var resolved = true
            for e in program.nodes[n].incoming where edgeAlive[e] && !visited[program.edges[e].source] {
                if resolved {
                    toVisit.append(n)
                    resolved = false
                }
                toVisit.append(program.edges[e].source)
            }
            if !resolved { continue }
            visited[n] = true
            guard nodeAlive[n] else { return nil }
            let node = program.nodes[n]
            if case .switchNode(let sw) = node.kind, !visitedSwitch[n] {
                let input = incomingData(n)
                let env = ZenEnv(input, now: now)
                if let nodes = nodesContext() { env.setLocal("$nodes", nodes) }
                var valid: [String] = []
                for s in sw.statements {
                    let ok: Bool
                    if let c = s.condition {
                        if case .bool(true)? = try? c.eval(env) { ok = true } else { ok = false }
                    } else {
                        ok = true
                    }
                    if ok {
                        valid.append(s.id)
                        if !sw.collect { break }
                    }
                }
                if trace { switchTrace[n] = ["statements": .array(valid.map { ["id": .string($0)] })] }
                let remove = outgoingEdges(n).filter { e in
                    guard let h = program.edges[e].handle else { return true }
                    return !valid.contains(h)
                }
                for e in remove { removeEdgeRecursive(e) }
                visitedSwitch[n] = true
                if !remove.isEmpty {
                    reset()
                    continue
                }
            }
            for e in program.nodes[n].outgoing where edgeAlive[e] { toVisit.append(program.edges[e].target) }
            return n
        }
        return nil
    }

    static func planStatic(_ program: DecisionGraphProgram) {
        // Without switch nodes the walk does not depend on data: record it once.
        let runner = DecisionGraphRunner(program: program, trace: false, depth: 0, parentNodes: nil)
        runner.prepareWalk()
        runner.reset()
        runner.iterations = 0
        var order: [Int] = []
        while let n = try? runner.nextNode() {
            if order.contains(n) { continue }
            order.append(n)
            if program.nodes[n].isOutput { break }
        }
        program.staticIncoming = program.nodes.indices.map { runner.incomingNodes($0) }
        program.staticEnding = program.nodes.indices.filter { runner.visited[$0] && runner.outgoingEdges($0).isEmpty }
        program.staticOrder = order
    }

    /// A graph whose walk is fixed (no switch), evaluated without a runner object.
    static func runStatic(_ program: DecisionGraphProgram, _ input: ZenValue, depth: Int, now: Int64?)
        throws(DecisionEvaluationError) -> ZenValue
    {
        let runner = DecisionGraphRunner(program: program, trace: false, depth: depth, parentNodes: nil)
        runner.now = now
        return try runner.run(input)
    }

    func run(_ input: ZenValue) throws(DecisionEvaluationError) -> ZenValue {
        guard depth < DecisionGraphProgram.maxDepth else {
            throw DecisionEvaluationError(nodeName: nil, message: "Depth limit exceeded")
        }
        if let order = program.staticOrder, let ending = program.staticEnding {
            for n in order {
                try execute(n, context: input)
            }
            var result: ZenValue = .object(ZenObject())
            for n in ending {
                if let d = data[n] { result = result.zenMerged(with: d) }
            }
            return result
        }
        prepareWalk()
        reset()
        iterations = 0
        while let n = try nextNode() {
            if data[n] != nil { continue }
            try execute(n, context: input)
            if program.nodes[n].isOutput { break }
        }
        var result: ZenValue = .object(ZenObject())
        for n in program.nodes.indices where nodeAlive[n] && visited[n] && !hasOutgoing(n) {
            if let d = data[n] { result = result.zenMerged(with: d) }
        }
        return result
    }

    func execute(_ n: Int, context: ZenValue) throws(DecisionEvaluationError) {
        let node = program.nodes[n]
        var input = incomingData(n)
        var output: ZenValue
        var matched: [Int]?
        var ids: [String]?
        var traceData: ZenValue = .null
        switch node.kind {
        case .input(let schema):
            input = context
            if let schema, !schema.conforms(context), let v = schema.violation(context) {
                throw error(node, "input does not match the schema: \(v)")
            }
            output = context
        case .output(let schema):
            if let schema, !schema.conforms(input), let v = schema.violation(input) {
                throw error(node, "output does not match the schema: \(v)")
            }
            output = input
        case .switchNode:
            output = input
            traceData = switchTrace[n] ?? .null
        case .table(let table, let transform):
            let nodes = nodesContext()
            var allMatched: [Int] = []
            var traces: [ZenValue] = []
            output = try transformed(node, transform, input, nodes) { (value) throws(DecisionEvaluationError) in
                let outcome = table.evaluate(value, nodes: nodes, trace: trace, now: now)
                if trace {
                    allMatched.append(contentsOf: outcome.matched)
                    traces.append(outcome.traceData)
                }
                return outcome.output
            }
            if trace {
                matched = allMatched
                ids = allMatched.map { table.rules[$0].id }
                traceData = transform.loop ? .array(traces) : (traces.first ?? .null)
            }
        case .expression(let program, let transform):
            let nodes = nodesContext()
            var traces: [ZenValue] = []
            output = try transformed(node, transform, input, nodes) { (value) throws(DecisionEvaluationError) in
                let env = ZenEnv(value, now: now)
                if let nodes { env.setLocal("$nodes", nodes) }
                var result = ZenObject(minimumCapacity: program.items.count)
                var itemTrace = ZenObject()
                var hasDollar = false
                for item in program.items {
                    let v: ZenValue
                    do throws(ZenEvaluationError) {
                        v = try item.expr.eval(env)
                    } catch {
                        throw self.error(node, "Failed to evaluate expression: \"\(item.source)\": \(error.message)")
                    }
                    if program.usesDollar && !hasDollar {
                        // `$` exists from the first result on (before, `$` reads the input's "$").
                        var d = ZenObject()
                        ZenValue.dotInsert(&d, item.path, item.hashes, 0, v)
                        env.setLocal("$", .object(d))
                        hasDollar = true
                    } else if program.usesDollar {
                        // Update `$` in place (taking it out first so the object is not copied).
                        env.updateLocal("$") { dollar in
                            guard case .object(var d) = dollar else { return }
                            dollar = .null
                            ZenValue.dotInsert(&d, item.path, item.hashes, 0, v)
                            dollar = .object(d)
                        }
                    }
                    if self.trace { itemTrace[item.key] = ["result": v] }
                    ZenValue.dotInsert(&result, item.path, item.hashes, 0, v)
                }
                if self.trace { traces.append(.object(itemTrace)) }
                return .object(result)
            }
            if trace { traceData = transform.loop ? .array(traces) : (traces.first ?? .null) }
        case .decision(let sub, let transform):
            let nodes = nodesContext()
            var subTraces: [ZenValue] = []
            output = try transformed(node, transform, input, nodes) { (value) throws(DecisionEvaluationError) in
                let runner = DecisionGraphRunner(program: sub, trace: trace, depth: depth + 1, parentNodes: nodes)
                runner.now = now
                do throws(DecisionEvaluationError) {
                    let r = try runner.run(value)
                    if trace { subTraces.append(DecisionResult(output: r, trace: runner.traces).traceJSON()) }
                    return r
                } catch {
                    throw self.error(node, error.description)
                }
            }
            if trace { traceData = transform.loop ? .array(subTraces) : (subTraces.first ?? .null) }
        }
        data[n] = output
        if program.usesNodes { dataOrder.append(n) }
        if node.isInput, let parentNodes, case .object = output {
            var view = output
            view.dotInsert(["$nodes"], parentNodes)
            if nodesView.isEmpty { nodesView = Array(repeating: nil, count: program.nodes.count) }
            nodesView[n] = view
        }
        if trace {
            record(node, input: input, output: output, matched: matched, ids: ids, traceData: traceData)
        }
    }

    /// Applies inputField, loop execution, outputPath and passThrough around a node's handler.
    @inline(__always)
    func transformed(
        _ node: DecisionGraphNode, _ t: DecisionTransform, _ input: ZenValue, _ nodes: ZenValue?,
        _ handle: (ZenValue) throws(DecisionEvaluationError) -> ZenValue
    ) throws(DecisionEvaluationError) -> ZenValue {
        if t.isIdentity { return try handle(input) }
        var value = input
        if let field = t.inputField {
            let env = ZenEnv(input, now: now)
            if let nodes { env.setLocal("$nodes", nodes) }
            do { value = try field.eval(env) } catch {
                throw self.error(node, "Failed to evaluate expression: \(error.message)")
            }
        }
        var output: ZenValue
        if t.loop {
            guard case .array(let items) = value else { throw self.error(node, "Expected an array") }
            var results: [ZenValue] = []
            results.reserveCapacity(items.count)
            for item in items {
                var r = try handle(item)
                if t.passThrough { r = item.zenMerged(with: r) }
                results.append(r)
            }
            output = .array(results)
        } else {
            output = try handle(value)
        }
        if let path = t.outputPath {
            var wrapped: ZenValue = .object(ZenObject())
            wrapped.dotInsert(path, output)
            output = wrapped
        }
        if t.passThrough { output = input.zenMerged(with: output) }
        return output
    }

    func record(
        _ node: DecisionGraphNode, input: ZenValue, output: ZenValue, matched: [Int]?, ids: [String]?,
        traceData: ZenValue
    ) {
        traces.removeAll { $0.nodeId == node.info.id }
        traces.append(
            DecisionTraceEntry(
                nodeId: node.info.id, nodeName: node.info.name, nodeType: node.info.type, input: input,
                output: output, matchedRules: matched, matchedRuleIds: ids, traceData: traceData,
                order: traces.count))
    }

    /// Removes zen-engine's reserved `$nodes` keys from a result, as its cleaner does.
    static func clean(_ v: ZenValue) -> ZenValue {
        switch v {
        case .object(var o):
            o["$nodes"] = nil
            for k in o.keys {
                switch o[k] {
                case .object?, .array?: o[k] = clean(o[k]!)
                default: continue
                }
            }
            return .object(o)
        case .array(let a):
            return .array(a.map(clean))
        default: return v
        }
    }
}
