import Foundation
import LendingCore
import Testing
import ZenEngine

@Suite("JDM graphs: trace of every node type, and input schemas")
struct DecisionTraceAndSchemaTests {
    static let routed = #"""
        {"nodes": [{"id": "in", "type": "inputNode", "name": "Request"},
          {"id": "x", "type": "expressionNode", "name": "Derive", "content": {"expressions": [
            {"id": "1", "key": "dti", "value": "round(repayments / income, 2)"}], "passThrough": true}},
          {"id": "s", "type": "switchNode", "name": "Route", "content": {"hitPolicy": "first", "statements": [
            {"id": "high", "condition": "dti > 0.5"}, {"id": "ok", "condition": ""}]}},
          {"id": "t", "type": "decisionTableNode", "name": "Reasons", "content": {"hitPolicy": "collect",
            "inputs": [{"id": "a", "field": "dti"}, {"id": "b", "field": "inquiries"}],
            "outputs": [{"id": "c", "field": "code"}],
            "rules": [{"_id": "dti", "a": "> 0.5", "b": "", "c": "'DTI'"}, {"_id": "inq", "a": "", "b": ">= 6", "c": "'INQ'"},
                      {"_id": "none", "a": "<= 0.5", "b": "< 6", "c": "'OK'"}], "outputPath": "reasons"}},
          {"id": "o", "type": "expressionNode", "name": "Offer", "content": {"expressions": [{"id": "1", "key": "offer", "value": "true"}]}},
          {"id": "out", "type": "outputNode", "name": "Response"}],
         "edges": [{"id": "1", "sourceId": "in", "targetId": "x"}, {"id": "2", "sourceId": "x", "targetId": "s"},
           {"id": "3", "sourceId": "s", "targetId": "t", "sourceHandle": "high"}, {"id": "4", "sourceId": "s", "targetId": "o", "sourceHandle": "ok"},
           {"id": "5", "sourceId": "t", "targetId": "out"}, {"id": "6", "sourceId": "o", "targetId": "out"}]}
        """#

    @Test("the trace follows the branch taken and records each node's input, output and matched rules")
    func traceOfEveryNodeType() throws {
        // setup
        let g = try DecisionGraph(json: Data(Self.routed.utf8))
        // MUT
        let result = try g.evaluate(["income": 10000, "repayments": 6000, "inquiries": 7], trace: true)
        // validation
        #expect(result.output == ["reasons": [["code": "DTI"], ["code": "INQ"]]])
        let trace = try #require(result.trace)
        #expect(trace.map(\.nodeType).contains("switchNode"))
        #expect(!trace.map(\.nodeName).contains("Offer"), "the other branch does not run")
        let derive = try #require(trace.first { $0.nodeName == "Derive" })
        #expect(derive.output["dti"] == .decimal("0.60")!)
        #expect(derive.traceData["dti"]?["result"] == .decimal("0.60")!)
        let route = try #require(trace.first { $0.nodeName == "Route" })
        #expect(route.traceData == ["statements": [["id": "high"]]])
        let table = try #require(trace.first { $0.nodeName == "Reasons" })
        #expect(table.matchedRules == [0, 1])
        #expect(table.matchedRuleIds == ["dti", "inq"])
        #expect(table.traceData.arrayValue?.count == 2)
        let json = result.traceJSON()
        #expect(json["t"]?["name"] == "Reasons")
        #expect(json["t"]?["matchedRules"] == [0, 1])
    }

    @Test("the other branch runs when the switch's first condition is false")
    func switchDefaultBranch() throws {
        let g = try DecisionGraph(json: Data(Self.routed.utf8))
        let result = try g.evaluate(["income": 10000, "repayments": 1000, "inquiries": 7], trace: true)
        #expect(result.output == ["offer": true])
        #expect(result.trace?.contains { $0.nodeName == "Reasons" } == false)
    }

    @Test("an input schema checks types, required members, enums, ranges, lengths and patterns")
    func schemaKeywords() throws {
        // setup
        let schema = #"""
            {"type": "object", "required": ["age", "employment"], "properties": {
              "age": {"type": "integer", "minimum": 18, "maximum": 70},
              "employment": {"enum": ["salaried", "self_employed"]},
              "phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
              "name": {"type": "string", "minLength": 1, "maxLength": 20},
              "loans": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}}}}
            """#
        let escaped = schema.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: " ")
        let json = """
            {"nodes": [{"id": "in", "type": "inputNode", "name": "Applicant", "content": {"schema": "\(escaped)"}},
              {"id": "out", "type": "outputNode", "name": "Out"}], "edges": [{"id": "1", "sourceId": "in", "targetId": "out"}]}
            """
        let g = try DecisionGraph(json: Data(json.utf8))
        let good: ZenValue = [
            "age": 30, "employment": "salaried", "phone": "13800138000", "name": "张三", "loans": [1000],
        ]
        // MUT + validation
        #expect(try g.evaluate(good).output == good)
        let bad: [(ZenValue, String)] = [
            (["age": 17, "employment": "salaried"], "minimum"),
            (["age": .decimal("30.5")!, "employment": "salaried"], "integer"),
            (["age": 30], "required"),
            (["age": 30, "employment": "retired"], "one of"),
            (["age": 30, "employment": "salaried", "phone": "12345"], "match"),
            (["age": 30, "employment": "salaried", "name": ""], "shorter"),
            (["age": 30, "employment": "salaried", "loans": [0]], "minimum"),
        ]
        for (input, word) in bad {
            do {
                _ = try g.evaluate(input)
                Issue.record("accepted \(input)")
            } catch {
                #expect(error.message.contains(word), "\(error.message) should mention \(word)")
                #expect(error.nodeName == "Applicant")
            }
        }
        // an optional member may be null, as zen-engine allows
        #expect(throws: Never.self) { try g.evaluate(["age": 30, "employment": "salaried", "name": nil]) }
    }

    @Test("a compiled graph can be evaluated from several threads at once")
    func concurrentEvaluation() async throws {
        let g = try DecisionGraph(json: Data(Self.routed.utf8))
        let outputs = await withTaskGroup(of: ZenValue?.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try? g.evaluate(["income": 10000, "repayments": i % 2 == 0 ? 6000 : 1000, "inquiries": 1]).output
                }
            }
            var all: [ZenValue?] = []
            for await o in group { all.append(o) }
            return all
        }
        #expect(outputs.filter { $0 == ["offer": true] }.count == 8)
        #expect(outputs.filter { $0 == ["reasons": [["code": "DTI"]]] }.count == 8)
    }
}
