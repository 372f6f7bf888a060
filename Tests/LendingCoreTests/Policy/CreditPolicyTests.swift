import Foundation
import LendingCore
import Testing
import ZenEngine

/// The shipped credit policy, read from the repository (Policies/credit exists in every clone).
enum ShippedCreditPolicy {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Policy
        .deletingLastPathComponent()  // LendingCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Policies/credit")

    static func caseFile() throws -> PolicyCaseFile {
        try PolicyCaseFile(
            json: Data(contentsOf: folder.appendingPathComponent(PolicyCaseFile.fileName)))
    }

    static func graph() throws -> DecisionGraph {
        let name = try caseFile().graph ?? "credit.json"
        return try DecisionGraph(json: Data(contentsOf: folder.appendingPathComponent(name))) { key in
            try Data(contentsOf: folder.appendingPathComponent(key))
        }
    }

    static func input(_ name: String) throws -> ZenValue {
        let file = try caseFile()
        return try #require(file.cases.first { $0.name.hasPrefix(name) }).input
    }
}

@Suite("The shipped credit policy")
struct CreditPolicyTests {
    @Test("every case of Policies/credit passes")
    func allCasesPass() throws {
        let file = try ShippedCreditPolicy.caseFile()
        let report = PolicyCaseRunner.run(file.cases, on: try ShippedCreditPolicy.graph())
        #expect(file.cases.count >= 30)
        #expect(report.allPassed, "\(report.render())")
        #expect(report.summary == "\(file.cases.count) passed, 0 failed")
    }

    @Test("P01 is approved for 150,000 at 6% with an APR of 6%")
    func p01() throws {
        let output = try ShippedCreditPolicy.graph().evaluate(ShippedCreditPolicy.input("P01")).output
        #expect(output["decision"] == "approved")
        #expect(output["creditLimit"] == 150000)
        #expect(output["annualRate"] == 6)
        #expect(output["apr"] == 6)
        #expect(output["reasons"] == [])
    }

    @Test("P08, aged 21, is declined with a plain Chinese reason")
    func p08() throws {
        let output = try ShippedCreditPolicy.graph().evaluate(ShippedCreditPolicy.input("P08")).output
        #expect(output["decision"] == "declined")
        #expect(output["creditLimit"] == 0)
        #expect(
            output["reasons"] == [["code": "AGE_BELOW_MINIMUM", "message": "申请人年龄未满22周岁，暂不符合申请条件"]])
    }

    @Test("a limit is never above the 200,000 automatic cap, whatever the income")
    func automaticCap() throws {
        let graph = try ShippedCreditPolicy.graph()
        guard case .object(var input) = try ShippedCreditPolicy.input("P01"),
            case .object(var applicant)? = input["applicant"]
        else {
            Issue.record("P01's input is not an object")
            return
        }
        for income in [30000, 40000, 100000, 9_999_999] {
            applicant["monthlyIncome"] = .number(Decimal(income))
            input["applicant"] = .object(applicant)
            let output = try graph.evaluate(.object(input)).output
            let limit = try #require(output["creditLimit"]?.numberValue)
            #expect(limit <= 200000)
            #expect(limit.isWholeThousands)
        }
    }

    @Test("an input missing a bureau field is refused by the input schema, not decided")
    func schemaRejectsMalformedInput() throws {
        guard case .object(var input) = try ShippedCreditPolicy.input("P01"),
            case .object(var bureau)? = input["bureau"]
        else {
            Issue.record("P01's input is not an object")
            return
        }
        bureau["thinFile"] = nil
        input["bureau"] = .object(bureau)
        let graph = try ShippedCreditPolicy.graph()
        #expect(throws: DecisionEvaluationError.self) { try graph.evaluate(.object(input)) }
    }

    @Test("a wrong expectation makes the run fail and the report names the case and the difference")
    func wrongExpectationFails() throws {
        let file = try ShippedCreditPolicy.caseFile()
        let p01 = try #require(file.cases.first { $0.name.hasPrefix("P01") })
        let wrong = PolicyCase(name: "P01 wrong", input: p01.input, expected: ["creditLimit": 151000])
        let report = PolicyCaseRunner.run([p01, wrong], on: try ShippedCreditPolicy.graph())
        #expect(report.summary == "1 passed, 1 failed")
        #expect(!report.allPassed)
        let lines = report.render().split(separator: "\n").map(String.init)
        #expect(lines.first == "FAIL P01 wrong")
        #expect(lines.contains("  creditLimit: expected 151000, got 150000"))
        #expect(lines.last == "1 passed, 1 failed")
    }

    @Test("an input the graph cannot evaluate is a failed case, not a crash")
    func evaluationErrorIsAFailure() throws {
        let broken = PolicyCase(
            name: "no applicant", input: ["bureau": [:]], expected: ["decision": "declined"])
        let report = PolicyCaseRunner.run([broken], on: try ShippedCreditPolicy.graph())
        #expect(report.summary == "0 passed, 1 failed")
        guard case .evaluationFailed = report.outcomes[0].status else {
            Issue.record("expected an evaluation failure, got \(report.outcomes[0].status)")
            return
        }
    }
}

extension Decimal {
    fileprivate var isWholeThousands: Bool {
        var quotient = self / 1000
        var whole = Decimal()
        NSDecimalRound(&whole, &quotient, 0, .down)
        return whole == quotient
    }
}
