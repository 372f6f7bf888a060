import Foundation
import ZenEngine
import Testing

@Suite("ZEN expressions")
struct ZenExpressionTests {
    @Test("every recorded expression gives zen-engine's answer, or fails where zen-engine fails")
    func recordedExpressionsMatchZenEngine() throws {
        // setup
        let fixture = try ZenOracleFixtures.load("expressions")
        let contexts = fixture["contexts"]!
        guard case .array(let cases) = fixture["cases"]! else {
            Issue.record("no cases")
            return
        }
        #expect(cases.count > 300)
        var failures: [String] = []
        for c in cases {
            let source = c["expression"]!.stringValue!
            var context = c["context"]!
            if case .string(let name) = context { context = contexts[name]! }
            let expectsError = c["error"] == .bool(true)
            // MUT
            let result: Result<ZenValue, Error>
            if c["kind"]!.stringValue == "unary" {
                result = Result {
                    .bool(try ZenUnaryExpression(source).test(context["$"] ?? .null, context: context))
                }
            } else {
                result = Result { try ZenExpression(source).evaluate(context) }
            }
            // validation
            switch (result, expectsError) {
            case (.success(let v), false):
                if !ZenOracleFixtures.close(v, c["expected"]!) {
                    failures.append("\(source): got \(v), zen-engine \(c["expected"]!)")
                }
            case (.failure, true): break
            case (.success(let v), true): failures.append("\(source): got \(v), zen-engine fails")
            case (.failure(let e), false): failures.append("\(source): failed (\(e)), zen-engine \(c["expected"]!)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("decimal arithmetic is exact: 0.1 + 0.2 is 0.3")
    func decimalsAreExact() throws {
        #expect(try ZenExpression("0.1 + 0.2").evaluate([:]) == .number(Decimal(string: "0.3")!))
        #expect(try ZenExpression("0.1 + 0.2 == 0.3").evaluate([:]) == .bool(true))
        #expect(try ZenExpression("19.99 * 3").evaluate([:]) == .number(Decimal(string: "59.97")!))
        #expect(try ZenExpression("1 - 0.9").evaluate([:]) == .number(Decimal(string: "0.1")!))
    }

    @Test("numbers keep their written scale when turned into text, as zen-engine shows them")
    func numbersKeepScale() throws {
        #expect(try ZenExpression("string(1.50)").evaluate([:]) == .string("1.50"))
        #expect(try ZenExpression("string(1.5 + 1.25)").evaluate([:]) == .string("2.75"))
        #expect(try ZenExpression("string(100 * 1.1)").evaluate([:]) == .string("110.0"))
        #expect(try ZenExpression("string(1e3)").evaluate([:]) == .string("1000"))
    }

    @Test("member access reads nested input and missing members are null")
    func memberAccess() throws {
        let context: ZenValue = ["applicant": ["income": ["monthly": 12000]], "list": [1, 2, 3]]
        #expect(try ZenExpression("applicant.income.monthly * 12").evaluate(context) == 144000)
        #expect(try ZenExpression("applicant.missing.deeper").evaluate(context) == .null)
        #expect(try ZenExpression("list[1] + list[2]").evaluate(context) == 5)
    }

    @Test("closures map, filter and count with #")
    func closures() throws {
        let context: ZenValue = ["loans": [["amount": 1000], ["amount": 5000], ["amount": 200]]]
        #expect(try ZenExpression("sum(map(loans, #.amount))").evaluate(context) == 6200)
        #expect(try ZenExpression("count(loans, #.amount > 500)").evaluate(context) == 2)
        #expect(try ZenExpression("map(filter(loans, #.amount < 2000), #.amount)").evaluate(context) == [1000, 200])
    }

    @Test("unary cells test the column value")
    func unaryCells() throws {
        #expect(try ZenUnaryExpression("[22..55]").test(22))
        #expect(try ZenUnaryExpression("[22..55]").test(56) == false)
        #expect(try ZenUnaryExpression("(22..55)").test(22) == false)
        #expect(try ZenUnaryExpression("\"employed\", \"self\"").test("self"))
        #expect(try ZenUnaryExpression("> 5 and < 10").test(7))
        #expect(try ZenUnaryExpression("$ > limit").test(7, context: ["limit": 5]))
    }

    @Test("malformed expressions and unknown functions are refused when compiled")
    func refusals() {
        #expect(throws: ZenSyntaxError.self) { try ZenExpression("1 +") }
        #expect(throws: ZenSyntaxError.self) { try ZenExpression("unknownFunction(1)") }
        #expect(throws: ZenSyntaxError.self) { try ZenExpression("round(1, 2, 3)") }
        #expect(throws: ZenSyntaxError.self) { try ZenUnaryExpression("> ") }
    }

    @Test("type errors at run time are errors, as in zen-engine")
    func runtimeErrors() throws {
        #expect(throws: ZenEvaluationError.self) { try ZenExpression("'a' + 1").evaluate([:]) }
        #expect(throws: ZenEvaluationError.self) { try ZenExpression("x > 5").evaluate([:]) }
        #expect(try ZenExpression("10 / 0").evaluate([:]) == .null)
    }
}
