import Foundation
import LendingCore
import Testing
import ZenEngine

@Suite("Comparing a case's expected output")
struct PolicyExpectationTests {
    let output: ZenValue = [
        "decision": "approved", "creditLimit": 150000, "annualRate": .number(Decimal(string: "8.4")!),
        "reasons": [["code": "THIN_FILE", "message": "征信记录较少"]],
    ]

    @Test("only the keys the case lists are compared")
    func partialObject() {
        #expect(
            PolicyExpectation.mismatches(expected: ["decision": "approved"], actual: output).isEmpty)
    }

    @Test("numbers are compared as decimals, so 8.40 equals 8.4 and 150000.0 equals 150000")
    func decimalNumbers() throws {
        let expected = try ZenJSON.parse(#"{"annualRate": 8.40, "creditLimit": 150000.0}"#)
        #expect(PolicyExpectation.mismatches(expected: expected, actual: output).isEmpty)
    }

    @Test("a different number is reported with its path, the expected and the actual value")
    func numberMismatch() {
        let mismatches = PolicyExpectation.mismatches(expected: ["creditLimit": 151000], actual: output)
        #expect(mismatches == [PolicyMismatch(path: "creditLimit", expected: 151000, actual: 150000)])
        #expect(mismatches.first?.description == "creditLimit: expected 151000, got 150000")
    }

    @Test("objects inside arrays are compared by their listed keys")
    func objectsInArrays() {
        #expect(
            PolicyExpectation.mismatches(expected: ["reasons": [["code": "THIN_FILE"]]], actual: output)
                .isEmpty)
        let wrong = PolicyExpectation.mismatches(
            expected: ["reasons": [["code": "AGE"]]], actual: output)
        #expect(wrong.map(\.path) == ["reasons[0].code"])
    }

    @Test("an array of another length does not match, so an empty reasons list means no reasons")
    func arrayLength() {
        let mismatches = PolicyExpectation.mismatches(expected: ["reasons": []], actual: output)
        #expect(mismatches.map(\.path) == ["reasons"])
    }

    @Test("a key missing from the output is reported as missing")
    func missingKey() {
        let mismatches = PolicyExpectation.mismatches(expected: ["riskGrade": "A"], actual: output)
        #expect(mismatches == [PolicyMismatch(path: "riskGrade", expected: "A", actual: nil)])
        #expect(mismatches.first?.description == #"riskGrade: expected "A", missing"#)
    }

    @Test(
        "a value of another type never matches: the string \"0\" is not the number 0, null is not false"
    )
    func types() {
        #expect(!PolicyExpectation.mismatches(expected: "0", actual: 0).isEmpty)
        #expect(!PolicyExpectation.mismatches(expected: nil, actual: false).isEmpty)
        #expect(PolicyExpectation.mismatches(expected: nil, actual: nil).isEmpty)
    }
}
