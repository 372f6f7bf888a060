import Foundation
import LendingCore
import Testing
import ZenEngine

@Suite("JDM graphs: zen-engine's tolerance and the clock")
struct DecisionGraphToleranceTests {
    @Test("a table cell that does not parse never matches, as in zen-engine, and the graph says so")
    func malformedCellIsToleratedWithWarning() throws {
        let json = #"""
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "t", "type": "decisionTableNode", "name": "Sanctions", "content": {"hitPolicy": "first",
                "inputs": [{"id": "i", "name": "Input"}], "outputs": [{"id": "o", "field": "flag"}],
                "rules": [{"i": "\"RU\", \"NK\"", "o": "'red'"}, {"i": "", "o": "'green'"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "t"}, {"id": "2", "sourceId": "t", "targetId": "out"}]}
            """#
        let g = try DecisionGraph(json: Data(json.utf8))
        #expect(try g.evaluate(["country": "RU"]).output == ["flag": "green"])
        #expect(g.warnings.count == 1)
        #expect(g.warnings.first?.contains("Sanctions") == true)
    }

    @Test("expressions that read the current time use the clock the caller passes, and fail without one")
    func clockIsInjected() throws {
        let json = #"""
            {"nodes": [{"id": "in", "type": "inputNode", "name": "In"},
              {"id": "x", "type": "expressionNode", "name": "Age", "content": {"expressions": [
                {"id": "1", "key": "days", "value": "d().diff(d(opened), 'day')"},
                {"id": "2", "key": "seconds", "value": "date('now') - date(opened)"}]}},
              {"id": "out", "type": "outputNode", "name": "Out"}],
             "edges": [{"id": "1", "sourceId": "in", "targetId": "x"}, {"id": "2", "sourceId": "x", "targetId": "out"}]}
            """#
        let g = try DecisionGraph(json: Data(json.utf8))
        let now = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01T00:00:00Z
        let out = try g.evaluate(["opened": "2024-12-01"], now: now).output
        #expect(out == ["days": 31, "seconds": 2_678_400])
        #expect(throws: DecisionEvaluationError.self) { try g.evaluate(["opened": "2024-12-01"]) }
    }

    @Test("dates print as ISO text and compare as instants; an offset is applied")
    func dates() throws {
        #expect(try ZenExpression("d('2024-01-15T10:00:00+08:00')").evaluate([:]) == "2024-01-15T02:00:00Z")
        #expect(try ZenExpression("d('2024-01-31').add(1, 'M')").evaluate([:]) == "2024-02-29T00:00:00Z")
        #expect(try ZenExpression("d('2024-03-01') > d('2024-02-29')").evaluate([:]) == true)
        #expect(try ZenExpression("d(applied).year()").evaluate(["applied": "2023-07-01"]) == 2023)
    }

    @Test("division keeps zen-engine's precision: 28 decimal places, 96-bit mantissa")
    func divisionPrecision() throws {
        #expect(try ZenExpression("string(2 / 3)").evaluate([:]) == "0.6666666666666666666666666667")
        #expect(try ZenExpression("string(200000 / 3)").evaluate([:]) == "66666.666666666666666666666667")
        #expect(try ZenExpression("round(200000 / 3, 2)").evaluate([:]) == .decimal("66666.67")!)
        #expect(try ZenExpression("1 / 8").evaluate([:]) == .decimal("0.125")!)
    }
}
