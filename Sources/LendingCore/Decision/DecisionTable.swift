import Foundation

/// A unary cell reduced to a direct test of the column value (no environment needed).
indirect enum ZenFastCell {
    case compare(ZBinaryKind, ZenValue)
    case inInterval(ZenInterval, negated: Bool)
    case inValues(ZenValue, negated: Bool)
    case and(ZenFastCell, ZenFastCell)
    case or(ZenFastCell, ZenFastCell)

    /// nil when zen-engine would raise an error (the cell then fails).
    @inline(__always)
    func test(_ v: ZenValue) -> Bool? {
        switch self {
        case .compare(let kind, let c):
            switch kind {
            case .equal: return ZOps.equal(v, c)
            case .notEqual: return !ZOps.equal(v, c)
            default: return try? ZOps.compare(kind, v, c)
            }
        case .inInterval(let i, let negated):
            guard let r = try? i.includes(v) else { return nil }
            return negated ? !r : r
        case .inValues(let container, let negated):
            guard let r = try? ZOps.contains(container, v) else { return nil }
            return negated ? !r : r
        case .and(let a, let b):
            guard let x = a.test(v) else { return nil }
            return x ? b.test(v) : false
        case .or(let a, let b):
            guard let x = a.test(v) else { return nil }
            return x ? true : b.test(v)
        }
    }

    static func from(_ node: ZenNode, source: String) -> ZenFastCell? {
        switch node {
        case .parenthesized(let n): return from(n, source: source)
        case .call("bool", let args) where args.count == 1:
            // bool() of a comparison is the comparison itself.
            if case .binary(_, let op, _) = args[0], op.isComparison { return from(args[0], source: source) }
            if case .binary(_, let op, _) = args[0], op == .and || op == .or { return from(args[0], source: source) }
            return nil
        case .binary(let l, let op, let r):
            if op == .and || op == .or {
                guard let a = from(l, source: source), let b = from(r, source: source) else { return nil }
                return op == .and ? .and(a, b) : .or(a, b)
            }
            guard op.isComparison, case .identifier("$") = l else { return nil }
            var compiler = ZenCompiler(source: source)
            if op == .in || op == .notIn {
                if case .interval(let a, let b, let lb, let rb) = r {
                    guard let ca = try? compiler.compile(a).constant, let cb = try? compiler.compile(b).constant,
                        case .number = ca, case .number = cb
                    else { return nil }
                    return .inInterval(ZenInterval(left: ca, right: cb, leftBracket: lb, rightBracket: rb), negated: op == .notIn)
                }
                guard let c = try? compiler.compile(r).constant else { return nil }
                switch c {
                case .array, .object: return .inValues(c, negated: op == .notIn)
                default: return nil
                }
            }
            guard let c = try? compiler.compile(r).constant else { return nil }
            if case .object = c { return nil }
            let kind: ZBinaryKind
            switch op {
            case .equal: kind = .equal
            case .notEqual: kind = .notEqual
            case .less: kind = .less
            case .greater: kind = .greater
            case .lessOrEqual: kind = .lessOrEqual
            default: kind = .greaterOrEqual
            }
            return .compare(kind, c)
        default:
            return nil
        }
    }
}

enum ZenTableCell {
    case fast(ZenFastCell)
    case unary(ZExpr)
    case standard(ZExpr)
}

final class DecisionTableProgram {
    struct Input {
        let id: String
        let name: String
        let fieldSource: String?
        let field: ZExpr?
    }

    struct Output {
        let id: String
        let path: [String]
        let collect: Bool
    }

    struct Rule {
        let index: Int
        let id: String
        let description: String?
        /// Per input column; nil means "any".
        let cells: [ZenTableCell?]
        let cellSources: [String?]
        /// Per output column; nil means "no value written".
        let outputs: [ZExpr?]
    }

    let collectPolicy: Bool
    let inputs: [Input]
    let outputs: [Output]
    let rules: [Rule]
    let hasCollectColumns: Bool

    init(content: ZenValue, node: DecisionNodeInfo) throws(DecisionLoadError) {
        guard case .object(let c) = content else {
            throw node.error(feature: "decisionTableNode", "missing table content")
        }
        switch c["hitPolicy"] {
        case .string("first")?, nil: collectPolicy = false
        case .string("collect")?: collectPolicy = true
        case let other?:
            throw node.error(feature: "hitPolicy", "hit policy \(ZenJSON.serialize(other)) is not supported")
        }
        guard case .array(let inputList)? = c["inputs"], case .array(let outputList)? = c["outputs"],
            case .array(let ruleList)? = c["rules"]
        else {
            throw node.error(feature: "decisionTableNode", "a decision table needs inputs, outputs and rules")
        }
        var inputs: [Input] = []
        for item in inputList {
            guard case .object(let o) = item, case .string(let id)? = o["id"] else {
                throw node.error(feature: "decisionTableNode", "an input column has no id")
            }
            let name = o["name"]?.stringValue ?? ""
            var fieldSource: String?
            if case .string(let f)? = o["field"], !f.trimmingCharacters(in: .whitespaces).isEmpty { fieldSource = f }
            let field = try fieldSource.map { (f) throws(DecisionLoadError) in
                try node.compileStandard(f, what: "input column '\(name)' field")
            }
            inputs.append(Input(id: id, name: name, fieldSource: fieldSource, field: field))
        }
        var outputs: [Output] = []
        for item in outputList {
            guard case .object(let o) = item, case .string(let id)? = o["id"] else {
                throw node.error(feature: "decisionTableNode", "an output column has no id")
            }
            guard case .string(var field)? = o["field"] else {
                throw node.error(feature: "decisionTableNode", "output column \(id) has no field")
            }
            field = field.trimmingCharacters(in: .whitespaces)
            var collect = false
            if field.hasSuffix("[]") {
                collect = true
                field = String(field.dropLast(2)).trimmingCharacters(in: .whitespaces)
            }
            let path = field.isEmpty ? [] : field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            outputs.append(Output(id: id, path: path, collect: collect))
        }
        var rules: [Rule] = []
        for (index, item) in ruleList.enumerated() {
            guard case .object(let r) = item else {
                throw node.error(feature: "decisionTableNode", "rule \(index + 1) is not an object")
            }
            func cellText(_ id: String) throws(DecisionLoadError) -> String? {
                switch r[id] {
                case nil, .null?: return nil
                case .string(let s)?:
                    let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
                    return t.isEmpty ? nil : t
                case let other?:
                    throw node.error(
                        feature: "decisionTableNode", "rule \(index + 1) cell \(id) is \(ZenJSON.serialize(other)), not text")
                }
            }
            var cells: [ZenTableCell?] = []
            var sources: [String?] = []
            for input in inputs {
                guard let text = try cellText(input.id) else {
                    cells.append(nil)
                    sources.append(nil)
                    continue
                }
                sources.append(text)
                if input.field == nil {
                    cells.append(.standard(try node.compileStandard(text, what: "rule \(index + 1) condition")))
                } else {
                    let parsed: ZenNode
                    do { parsed = try ZenParser.parse(text, mode: .unary) } catch {
                        throw node.error(
                            feature: "expression",
                            "rule \(index + 1), column '\(input.name)': cannot read `\(text)`: \(error.message)")
                    }
                    if let fast = ZenFastCell.from(parsed, source: text) {
                        cells.append(.fast(fast))
                    } else {
                        cells.append(.unary(try node.compileUnary(text, what: "rule \(index + 1), column '\(input.name)'")))
                    }
                }
            }
            var outs: [ZExpr?] = []
            for output in outputs {
                guard let text = try cellText(output.id), !output.path.isEmpty else {
                    outs.append(nil)
                    continue
                }
                outs.append(try node.compileStandard(text, what: "rule \(index + 1) output"))
            }
            rules.append(
                Rule(
                    index: index, id: r["_id"]?.stringValue ?? "", description: r["_description"]?.stringValue,
                    cells: cells, cellSources: sources, outputs: outs))
        }
        self.inputs = inputs
        self.outputs = outputs
        self.rules = rules
        self.hasCollectColumns = outputs.contains { $0.collect && !$0.path.isEmpty }
    }

    /// The per-evaluation state of one table run.
    struct Run {
        let env: ZenEnv
        var columnValues: [ZenValue?]
        var columnFailed: [Bool]
    }

    @inline(__always)
    func columnValue(_ run: inout Run, _ column: Int) -> ZenValue? {
        if let v = run.columnValues[column] { return v }
        if run.columnFailed[column] { return nil }
        guard let field = inputs[column].field else { return nil }
        let saved = run.env.locals
        do {
            let v = try field.eval(run.env)
            run.env.locals = saved
            run.columnValues[column] = v
            return v
        } catch {
            run.env.locals = saved
            run.columnFailed[column] = true
            return nil
        }
    }

    /// Whether every cell of `rule` accepts the input (zen-engine: an error means "no").
    func matches(_ rule: Rule, _ run: inout Run) -> Bool {
        var lastReference: Int?
        for column in 0..<rule.cells.count {
            guard let cell = rule.cells[column] else { continue }
            switch cell {
            case .standard(let expr):
                guard case .bool(true)? = try? expr.eval(run.env) else { return false }
            case .fast(let fast):
                guard let v = columnValue(&run, column) else { return false }
                lastReference = column
                guard fast.test(v) == true else { return false }
            case .unary(let expr):
                guard let v = columnValue(&run, column) else { return false }
                lastReference = column
                run.env.setLocal("$", v)
                guard case .bool(true)? = try? expr.eval(run.env) else { return false }
            }
        }
        // zen-engine leaves `$` set to the last column it tested; outputs can see it.
        if let c = lastReference, let v = run.columnValues[c] { run.env.setLocal("$", v) }
        return true
    }

    /// The row's output object, or nil when an output expression fails (zen-engine then skips the row).
    /// In first-hit-collect mode (`collecting`), columns ending in `[]` are returned separately and
    /// the other columns are only evaluated when `scalars` is true.
    func rowOutput(_ rule: Rule, _ run: inout Run, collecting: Bool = false, scalars: Bool = true)
        -> (ZenValue?, [(Int, ZenValue)])?
    {
        var out = ZenObject()
        var collected: [(Int, ZenValue)] = []
        for (i, output) in outputs.enumerated() {
            guard let expr = rule.outputs[i] else { continue }
            if collecting && !output.collect && !scalars { continue }
            guard let v = try? expr.eval(run.env) else { return nil }
            if collecting && output.collect {
                collected.append((i, v))
            } else {
                ZenValue.dotInsert(&out, output.path[...], v)
            }
        }
        return (collecting && !scalars ? nil : .object(out), collected)
    }

    struct Outcome {
        let output: ZenValue
        let matched: [Int]
        let traceData: ZenValue
    }

    func evaluate(_ input: ZenValue, nodes: ZenValue?, trace: Bool) -> Outcome {
        let env = ZenEnv(input)
        if let nodes { env.setLocal("$nodes", nodes) }
        var run = Run(
            env: env, columnValues: Array(repeating: nil, count: inputs.count),
            columnFailed: Array(repeating: false, count: inputs.count))
        if collectPolicy {
            var outputs: [ZenValue] = []
            var matched: [Int] = []
            for rule in rules where matches(rule, &run) {
                guard let (o, _) = rowOutput(rule, &run) else { continue }
                outputs.append(o ?? .null)
                matched.append(rule.index)
            }
            return Outcome(
                output: .array(outputs), matched: matched,
                traceData: trace ? .array(matched.map { rowTrace(rules[$0], &run) }) : .null)
        }
        if hasCollectColumns {
            var scalars: ZenValue?
            var collected: [[ZenValue]] = Array(repeating: [], count: outputs.count)
            var matched: [Int] = []
            for rule in rules where matches(rule, &run) {
                guard let (o, c) = rowOutput(rule, &run, collecting: true, scalars: scalars == nil) else { continue }
                matched.append(rule.index)
                if let o { scalars = o }
                for (i, v) in c { collected[i].append(v) }
            }
            guard !matched.isEmpty else { return Outcome(output: .null, matched: [], traceData: .null) }
            var out = scalars ?? .object(ZenObject())
            for (i, output) in outputs.enumerated() where output.collect && !output.path.isEmpty {
                out.dotInsert(output.path, .array(collected[i]))
            }
            return Outcome(
                output: out, matched: matched,
                traceData: trace ? .array(matched.map { rowTrace(rules[$0], &run) }) : .null)
        }
        for rule in rules where matches(rule, &run) {
            guard let (o, _) = rowOutput(rule, &run) else { continue }
            return Outcome(output: o ?? .null, matched: [rule.index], traceData: trace ? rowTrace(rule, &run) : .null)
        }
        return Outcome(output: .null, matched: [], traceData: .null)
    }

    /// zen-engine's row trace: { index, rule: { _id, "field[col]": cell }, reference_map: { field: value } }.
    func rowTrace(_ rule: Rule, _ run: inout Run) -> ZenValue {
        var ruleObject = ZenObject()
        ruleObject["_id"] = .string(rule.id)
        if let d = rule.description { ruleObject["_description"] = .string(d) }
        var references = ZenObject()
        for (column, input) in inputs.enumerated() {
            guard let source = rule.cellSources[column], let field = input.fieldSource else { continue }
            if let v = columnValue(&run, column) { references[field] = v }
            ruleObject["\(field)[\(input.id)]"] = .string(source)
        }
        return [
            "index": .number(Decimal(rule.index)), "rule": .object(ruleObject), "reference_map": .object(references),
        ]
    }
}
