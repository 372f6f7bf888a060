import Foundation
import ZenEngine

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
        /// The field does not parse: zen-engine fails every non-empty cell of the column.
        let broken: Bool
    }

    struct Output {
        let id: String
        let path: [String]
        let collect: Bool
        var hashes: [UInt32] { path.map(ZenObject.hash) }
    }

    final class Rule {
        init(
            index: Int, id: String, description: String?, cells: [ZenTableCell?], cellSources: [String?],
            outputs: [ZExpr?]
        ) {
            self.index = index
            self.id = id
            self.description = description
            self.cells = cells
            self.cellSources = cellSources
            self.outputs = outputs
            var numeric = ContiguousArray<ZenNumericCell>()
            var others: [(Int, ZenTableCell)] = []
            for (c, cell) in cells.enumerated() {
                guard let cell else { continue }
                if case .fast(let f) = cell, let n = ZenNumericCell(column: c, f) {
                    numeric.append(n)
                } else {
                    others.append((c, cell))
                }
            }
            self.numeric = numeric
            self.others = others
            self.lastReference = cells.indices.last { c in
                guard let cell = cells[c] else { return false }
                if case .standard = cell { return false }
                return true
            }
        }
        let index: Int
        let id: String
        let description: String?
        /// Per input column; nil means "any".
        let cells: [ZenTableCell?]
        /// The cells split for speed: plain numeric tests first, then the rest (cells have no side
        /// effects, so the order does not change which rules match).
        let numeric: ContiguousArray<ZenNumericCell>
        let others: [(Int, ZenTableCell)]
        /// zen-engine leaves `$` at the last column it tested; for a matching rule that is the last
        /// non-empty cell of a column with a field.
        let lastReference: Int?
        let cellSources: [String?]
        /// Per output column; nil means "no value written".
        let outputs: [ZExpr?]
    }

    let collectPolicy: Bool
    /// Whether an output expression can read `$` (then it must hold the last tested column value).
    let outputsReadDollar: Bool
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
            var field: ZExpr?
            if let f = fieldSource {
                field = try node.compileTolerant(f, unary: false, what: "input column '\(name)' field")
            }
            inputs.append(
                Input(
                    id: id, name: name, fieldSource: fieldSource, field: field,
                    broken: fieldSource != nil && field == nil))
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
            let path =
                field.isEmpty ? [] : field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            outputs.append(Output(id: id, path: path, collect: collect))
        }
        var rules: [Rule] = []
        var readsDollar = false
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
                        feature: "decisionTableNode",
                        "rule \(index + 1) cell \(id) is \(ZenJSON.serialize(other)), not text")
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
                let what = "rule \(index + 1), column '\(input.name)'"
                if input.broken {
                    cells.append(.standard(ZConst(.null)))
                } else if input.field == nil {
                    let compiled = try node.compileTolerant(text, unary: false, what: what)
                    cells.append(.standard(compiled ?? ZConst(.null)))
                } else if let compiled = try node.compileTolerant(text, unary: true, what: what) {
                    if let fast = ZenFastCell.from(unary: text) {
                        cells.append(.fast(fast))
                    } else {
                        cells.append(.unary(compiled))
                    }
                } else {
                    cells.append(.standard(ZConst(.null)))
                }
            }
            var outs: [ZExpr?] = []
            for output in outputs {
                guard let text = try cellText(output.id), !output.path.isEmpty else {
                    outs.append(nil)
                    continue
                }
                // zen-engine skips a row whose output does not parse.
                outs.append(
                    try node.compileTolerant(text, unary: false, what: "rule \(index + 1) output") ?? ZFail())
                if ZenCompiler.mayReadDollar(text) { readsDollar = true }
            }
            rules.append(
                Rule(
                    index: index, id: r["_id"]?.stringValue ?? "", description: r["_description"]?.stringValue,
                    cells: cells, cellSources: sources, outputs: outs))
        }
        self.inputs = inputs
        self.outputs = outputs
        self.rules = rules
        self.outputsReadDollar = readsDollar
        self.hasCollectColumns = outputs.contains { $0.collect && !$0.path.isEmpty }
    }

    /// The per-evaluation state of one table run.
    struct Column {
        var value: ZenValue = .null
        var parts: ZenDecimalParts?
        /// 0: not read yet, 1: read (value, maybe parts), 2: failed.
        var state: UInt8 = 0
    }

    struct Run {
        let env: ZenEnv
        var columns: [Column]
    }

    @inline(__always)
    func columnValue(_ run: inout Run, _ column: Int) -> ZenValue? {
        switch run.columns[column].state {
        case 1: return run.columns[column].value
        case 2: return nil
        default: break
        }
        guard let field = inputs[column].field else {
            run.columns[column].state = 2
            return nil
        }
        do {
            let v = try field.eval(run.env)
            run.columns[column].value = v
            if case .number(let n) = v { run.columns[column].parts = ZenNumber.parts(n) }
            run.columns[column].state = 1
            return v
        } catch {
            run.columns[column].state = 2
            return nil
        }
    }

    /// Whether every cell of `rule` accepts the input (zen-engine: an error means "no").
    func matches(_ rule: Rule, _ run: inout Run) -> Bool {
        for cell in rule.numeric {
            let c = cell.column
            if run.columns[c].state == 0 { _ = columnValue(&run, c) }
            if let p = run.columns[c].parts, let r = cell.test(p) {
                if !r { return false }
                continue
            }
            // Not a small number: the general rules (errors, strings, dates, big decimals).
            guard run.columns[c].state == 1, case .fast(let f)? = rule.cells[c], f.test(run.columns[c].value) == true
            else { return false }
        }
        for (column, cell) in rule.others {
            switch cell {
            case .standard(let expr):
                guard case .bool(true)? = try? expr.eval(run.env) else { return false }
            case .fast(let fast):
                guard let v = columnValue(&run, column) else { return false }
                if let p = run.columns[column].parts {
                    guard fast.testNumber(p, v) == true else { return false }
                } else {
                    guard fast.test(v) == true else { return false }
                }
            case .unary(let expr):
                guard let v = columnValue(&run, column) else { return false }
                run.env.setLocal("$", v)
                guard case .bool(true)? = try? expr.eval(run.env) else { return false }
            }
        }
        if outputsReadDollar, let c = rule.lastReference, run.columns[c].state == 1 {
            run.env.setLocal("$", run.columns[c].value)
        }
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
                ZenValue.dotInsert(&out, output.path, 0, v)
            }
        }
        return (collecting && !scalars ? nil : .object(out), collected)
    }

    struct Outcome {
        let output: ZenValue
        let matched: [Int]
        let traceData: ZenValue
    }

    func evaluate(_ input: ZenValue, nodes: ZenValue?, trace: Bool, now: Int64? = nil) -> Outcome {
        let env = ZenEnv(input, now: now)
        if let nodes { env.setLocal("$nodes", nodes) }
        var columns: [Column] = []
        columns.reserveCapacity(inputs.count)
        for _ in 0..<inputs.count { columns.append(Column()) }
        var run = Run(env: env, columns: columns)
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
            if !trace { return Outcome(output: o ?? .null, matched: [], traceData: .null) }
            return Outcome(output: o ?? .null, matched: [rule.index], traceData: rowTrace(rule, &run))
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
