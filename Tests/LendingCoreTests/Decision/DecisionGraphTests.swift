import Foundation
import LendingCore
import Testing
import ZenEngine

@Suite("JDM decision graphs")
struct DecisionGraphTests {
    static func graph(_ json: String, subDecisions: [String: String] = [:]) throws(DecisionLoadError) -> DecisionGraph {
        try DecisionGraph(json: Data(json.utf8)) { key in
            guard let sub = subDecisions[key] else { throw DecisionLoadError(feature: "test", message: "no \(key)") }
            return Data(sub.utf8)
        }
    }

    @Test("every recorded graph gives zen-engine's output, or fails where zen-engine fails")
    func recordedGraphsMatchZenEngine() throws {
        // setup
        let fixture = try ZenOracleFixtures.load("graphs")
        guard case .array(let cases) = fixture["cases"]! else {
            Issue.record("no cases")
            return
        }
        #expect(cases.count > 50)
        var failures: [String] = []
        for c in cases {
            let name = c["name"]!.stringValue!
            let subs = c["subDecisions"]?.objectValue ?? ZenObject()
            // MUT
            let result: Result<ZenValue, Error> = Result {
                let g = try DecisionGraph(json: Data(ZenJSON.serialize(c["graph"]!).utf8)) { key in
                    Data(ZenJSON.serialize(subs[key]!).utf8)
                }
                return try g.evaluate(c["input"]!).output
            }
            // validation
            switch (result, c["expected"]) {
            case (.success(let v), let expected?):
                if !ZenOracleFixtures.close(v, expected) {
                    failures.append("\(name): got \(v), zen-engine \(expected)")
                }
            case (.failure, nil): break
            case (.success(let v), nil): failures.append("\(name): got \(v), zen-engine fails: \(c["error"]!)")
            case (.failure(let e), let expected?): failures.append("\(name): failed (\(e)), zen-engine \(expected)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    static let creditTable = """
        {"nodes": [
          {"id": "in", "type": "inputNode", "name": "Request"},
          {"id": "t", "type": "decisionTableNode", "name": "Credit", "content": {
            "hitPolicy": "first",
            "inputs": [{"id": "age", "name": "Age", "field": "applicant.age"},
                       {"id": "inc", "name": "Income", "field": "applicant.income"}],
            "outputs": [{"id": "d", "name": "Decision", "field": "decision"},
                        {"id": "l", "name": "Limit", "field": "limit.amount"}],
            "rules": [
              {"_id": "young", "age": "< 22", "inc": "", "d": "\\"declined\\"", "l": "0"},
              {"_id": "good", "age": "[22..55]", "inc": ">= 10000", "d": "\\"approved\\"", "l": "min([applicant.income * 10, 200000])"},
              {"_id": "rest", "age": "", "inc": "", "d": "\\"referred\\"", "l": "0"}
            ]}},
          {"id": "out", "type": "outputNode", "name": "Response"}],
         "edges": [{"id": "e1", "sourceId": "in", "targetId": "t"}, {"id": "e2", "sourceId": "t", "targetId": "out"}]}
        """

    @Test("a first-hit table returns the first matching rule's outputs as nested objects")
    func firstHitTable() throws {
        let g = try Self.graph(Self.creditTable)
        let approved = try g.evaluate(["applicant": ["age": 30, "income": 12000]])
        #expect(approved.output == ["decision": "approved", "limit": ["amount": 120000]])
        let capped = try g.evaluate(["applicant": ["age": 30, "income": 50000]])
        #expect(capped.output["limit"]?["amount"] == 200000)
        #expect(try g.evaluate(["applicant": ["age": 19, "income": 50000]]).output["decision"] == "declined")
        #expect(try g.evaluate(["applicant": ["age": 60]]).output["decision"] == "referred")
    }

    @Test("the trace names each node with its input and output and the table's matched rule")
    func traceContent() throws {
        let g = try Self.graph(Self.creditTable)
        let result = try g.evaluate(["applicant": ["age": 30, "income": 12000]], trace: true)
        let trace = try #require(result.trace)
        #expect(trace.map(\.nodeName) == ["Request", "Credit", "Response"])
        let table = try #require(trace.first { $0.nodeType == "decisionTableNode" })
        #expect(table.matchedRules == [1])
        #expect(table.matchedRuleIds == ["good"])
        #expect(table.input == ["applicant": ["age": 30, "income": 12000]])
        #expect(table.output == result.output)
        #expect(table.traceData["rule"]?["_id"] == "good")
        #expect(result.traceJSON()["t"]?["name"] == "Credit")
        #expect(try g.evaluate(["applicant": ["age": 30]]).trace == nil)
    }

    @Test("a collect table returns every matching rule in order")
    func collectTable() throws {
        let g = try Self.graph(
            """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "t", "type": "decisionTableNode", "name": "Reasons", "content": {"hitPolicy": "collect",
                "inputs": [{"id": "a", "field": "dti"}], "outputs": [{"id": "c", "field": "code"}],
                "rules": [{"a": "> 0.4", "c": "'DTI_HIGH'"}, {"a": "> 0.6", "c": "'DTI_VERY_HIGH'"}, {"a": "< 0", "c": "'BAD'"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "t"}, {"id": "2", "sourceId": "t", "targetId": "out"}]}
            """)
        #expect(try g.evaluate(["dti": .decimal("0.7")!]).output == [["code": "DTI_HIGH"], ["code": "DTI_VERY_HIGH"]])
        #expect(try g.evaluate(["dti": .decimal("0.1")!]).output == [])
    }

    @Test("a switch sends the input down the first true branch, or every true branch with collect")
    func switchNode() throws {
        func json(_ policy: String) -> String {
            """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "s", "type": "switchNode", "name": "Route", "content": {"hitPolicy": "\(policy)", "statements": [
                {"id": "big", "condition": "amount > 1000"}, {"id": "any", "condition": "amount > 0"}, {"id": "else", "condition": ""}]}},
              {"id": "a", "type": "expressionNode", "name": "Big", "content": {"expressions": [{"id": "1", "key": "big", "value": "true"}]}},
              {"id": "b", "type": "expressionNode", "name": "Any", "content": {"expressions": [{"id": "1", "key": "any", "value": "true"}]}},
              {"id": "c", "type": "expressionNode", "name": "Else", "content": {"expressions": [{"id": "1", "key": "other", "value": "true"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "s"},
               {"id": "2", "sourceId": "s", "targetId": "a", "sourceHandle": "big"},
               {"id": "3", "sourceId": "s", "targetId": "b", "sourceHandle": "any"},
               {"id": "4", "sourceId": "s", "targetId": "c", "sourceHandle": "else"},
               {"id": "5", "sourceId": "a", "targetId": "out"}, {"id": "6", "sourceId": "b", "targetId": "out"},
               {"id": "7", "sourceId": "c", "targetId": "out"}]}
            """
        }
        let first = try Self.graph(json("first"))
        #expect(try first.evaluate(["amount": 5000]).output == ["big": true])
        #expect(try first.evaluate(["amount": 5]).output == ["any": true])
        #expect(try first.evaluate(["amount": -5]).output == ["other": true])
        let collect = try Self.graph(json("collect"))
        #expect(try collect.evaluate(["amount": 5000]).output == ["big": true, "any": true, "other": true])
    }

    @Test("expressions see earlier results through $ and dotted keys build objects")
    func expressionNode() throws {
        let g = try Self.graph(
            """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "x", "type": "expressionNode", "name": "Calc", "content": {"expressions": [
                {"id": "1", "key": "payment.monthly", "value": "round(principal * rate / 12, 2)"},
                {"id": "2", "key": "payment.yearly", "value": "$.payment.monthly * 12"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "x"}, {"id": "2", "sourceId": "x", "targetId": "out"}]}
            """)
        let out = try g.evaluate(["principal": 100000, "rate": .decimal("0.06")!]).output
        #expect(out == ["payment": ["monthly": 500, "yearly": 6000]])
    }

    @Test("a decision node runs its sub-decision, once per element in loop mode")
    func decisionNode() throws {
        let sub = """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "x", "type": "expressionNode", "name": "Double", "content": {"expressions": [{"id": "1", "key": "twice", "value": "n * 2"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "x"}, {"id": "2", "sourceId": "x", "targetId": "out"}]}
            """
        let main = """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "d", "type": "decisionNode", "name": "Each", "content": {"key": "folder/sub.json", "inputField": "items",
               "executionMode": "loop", "outputPath": "results"}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "d"}, {"id": "2", "sourceId": "d", "targetId": "out"}]}
            """
        let g = try Self.graph(main, subDecisions: ["folder/sub.json": sub])
        #expect(try g.evaluate(["items": [["n": 1], ["n": 2]]]).output == ["results": [["twice": 2], ["twice": 4]]])
        #expect(throws: DecisionEvaluationError.self) { try g.evaluate(["items": 3]) }
    }

    @Test("a node reads an earlier node's output through $nodes")
    func nodesAccess() throws {
        let g = try Self.graph(
            """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "Request"},
              {"id": "a", "type": "expressionNode", "name": "Score", "content": {"expressions": [{"id": "1", "key": "score", "value": "base + 10"}]}},
              {"id": "b", "type": "expressionNode", "name": "Final", "content": {"expressions": [{"id": "1", "key": "total", "value": "$nodes.Score.score + $nodes.Request.base"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "a"}, {"id": "2", "sourceId": "a", "targetId": "b"}, {"id": "3", "sourceId": "b", "targetId": "out"}]}
            """)
        #expect(try g.evaluate(["base": 5]).output == ["total": 20])
    }

    @Test("an input schema rejects a non-conforming input with a clear error")
    func inputSchema() throws {
        let schema =
            #"{\"type\":\"object\",\"required\":[\"age\"],\"properties\":{\"age\":{\"type\":\"integer\",\"minimum\":18}}}"#
        let g = try Self.graph(
            """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "Request", "content": {"schema": "\(schema)"}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "out"}]}
            """)
        #expect(try g.evaluate(["age": 30]).output == ["age": 30])
        do {
            _ = try g.evaluate(["age": 12])
            Issue.record("a 12-year-old passed the schema")
        } catch {
            #expect(error.nodeName == "Request")
            #expect(error.message.contains("minimum"))
        }
        #expect(throws: DecisionEvaluationError.self) { try g.evaluate(["name": "x"]) }
    }

    @Test("unsupported nodes, functions and malformed expressions are refused at load, naming the node")
    func loadRefusals() throws {
        func refusal(_ node: String) -> DecisionLoadError? {
            let json = """
                {"nodes": [{"id": "in", "type": "inputNode", "name": "In"}, \(node), {"id": "out", "type": "outputNode", "name": "Out"}],
                 "edges": [{"id": "1", "sourceId": "in", "targetId": "n"}, {"id": "2", "sourceId": "n", "targetId": "out"}]}
                """
            do {
                _ = try Self.graph(json)
                return nil
            } catch { return error }
        }
        let function = refusal(
            #"{"id": "n", "type": "functionNode", "name": "Score", "content": {"source": "export const handler = () => 1"}}"#
        )
        #expect(function?.nodeName == "Score")
        #expect(function?.feature == "functionNode")
        #expect(function?.description.contains("node 'Score' (functionNode)") == true)
        let custom = refusal(#"{"id": "n", "type": "customNode", "name": "C", "content": {"kind": "x", "config": {}}}"#)
        #expect(custom?.feature == "customNode")
        let unknownType = refusal(#"{"id": "n", "type": "mysteryNode", "name": "M"}"#)
        #expect(unknownType?.nodeName == "M")
        let unknownFunction = refusal(
            #"{"id": "n", "type": "expressionNode", "name": "E", "content": {"expressions": [{"id": "1", "key": "a", "value": "frobnicate(1)"}]}}"#
        )
        #expect(unknownFunction?.feature == "expression")
        #expect(unknownFunction?.message.contains("frobnicate") == true)
        let unknownInCell = refusal(
            #"{"id": "n", "type": "decisionTableNode", "name": "T", "content": {"hitPolicy": "first", "inputs": [{"id": "i", "field": "a"}], "outputs": [{"id": "o", "field": "b"}], "rules": [{"i": "> nosuch(5)", "o": "1"}]}}"#
        )
        #expect(unknownInCell?.nodeName == "T")
        #expect(unknownInCell?.feature == "function nosuch")
        let badExpression = refusal(
            #"{"id": "n", "type": "expressionNode", "name": "E2", "content": {"expressions": [{"id": "1", "key": "a", "value": "1 +"}]}}"#
        )
        #expect(badExpression?.nodeName == "E2")
        let badPolicy = refusal(
            #"{"id": "n", "type": "decisionTableNode", "name": "T", "content": {"hitPolicy": "unique", "inputs": [], "outputs": [], "rules": []}}"#
        )
        #expect(badPolicy?.feature == "hitPolicy")
        let badSchema = refusal(
            #"{"id": "n", "type": "outputNode", "name": "O2", "content": {"schema": {"type": "object", "if": {}}}}"#)
        #expect(badSchema?.nodeName == "O2")
    }

    @Test("a sub-decision that refers back to itself is refused")
    func recursiveSubDecision() {
        let loop = """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"}, {"id": "d", "type": "decisionNode", "name": "Again", "content": {"key": "self.json"}}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "d"}]}
            """
        #expect(throws: DecisionLoadError.self) { try Self.graph(loop, subDecisions: ["self.json": loop]) }
    }

    @Test("JSON numbers are read as exact decimals and written back unchanged")
    func jsonRoundTrip() throws {
        let v = try ZenJSON.parse(#"{"b": 0.1, "a": [1, 2.50, -3e2, "x\n\u00e9"], "c": null, "d": true}"#)
        #expect(v["b"] == .number(Decimal(string: "0.1")!))
        #expect(
            ZenJSON.serialize(v)
                == #"{"a":[1,2.50,-300,"x\néé"],"b":0.1,"c":null,"d":true}"#.replacingOccurrences(of: "éé", with: "é"))
        #expect(throws: ZenJSONError.self) { try ZenJSON.parse("{\"a\": }") }
    }
}
