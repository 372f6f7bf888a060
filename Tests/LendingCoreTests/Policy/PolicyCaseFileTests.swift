import Foundation
import LendingCore
import Testing

@Suite("Reading a policy's case file")
struct PolicyCaseFileTests {
    @Test("the object form names its graph and lists its cases")
    func objectForm() throws {
        let json =
            #"{"graph": "credit.json", "cases": [{"name": "P01", "input": {"a": 1}, "expected": {"b": 2.50}}]}"#
        let file = try PolicyCaseFile(json: Data(json.utf8))
        #expect(file.graph == "credit.json")
        #expect(
            file.cases == [
                PolicyCase(name: "P01", input: ["a": 1], expected: ["b": .number(Decimal(string: "2.5")!)])
            ])
    }

    @Test("a bare array of cases is accepted and unnamed cases get a number")
    func arrayForm() throws {
        let file = try PolicyCaseFile(json: Data(#"[{"input": {}, "expected": {}}]"#.utf8))
        #expect(file.graph == nil)
        #expect(file.cases.map(\.name) == ["case 1"])
    }

    @Test("a case without an input is refused, naming the case")
    func missingInput() {
        #expect(throws: PolicyCaseFileError("case 2 (second) has no \"input\"")) {
            try PolicyCaseFile(
                json: Data(
                    #"[{"name": "first", "input": {}, "expected": {}}, {"name": "second", "expected": {}}]"#
                        .utf8))
        }
    }

    @Test("a file that is not JSON is refused")
    func notJSON() {
        #expect(throws: PolicyCaseFileError.self) { try PolicyCaseFile(json: Data("cases: 1".utf8)) }
    }

    @Test("without a named graph, the folder's graph is <folder>.json or the only other JSON file")
    func entryGraph() {
        let unnamed = PolicyCaseFile(graph: nil, cases: [])
        #expect(
            PolicyCaseFile.entryGraphName(
                caseFile: unnamed, fileNames: ["cases.json", "credit.json", "sub.json"],
                folderName: "credit") == "credit.json")
        #expect(
            PolicyCaseFile.entryGraphName(
                caseFile: unnamed, fileNames: ["cases.json", "main.json"], folderName: "v3")
                == "main.json")
        #expect(
            PolicyCaseFile.entryGraphName(
                caseFile: unnamed, fileNames: ["cases.json", "a.json", "b.json"], folderName: "v3")
                == nil)
        #expect(
            PolicyCaseFile.entryGraphName(
                caseFile: PolicyCaseFile(graph: "b.json", cases: []), fileNames: ["a.json", "b.json"],
                folderName: "v3")
                == "b.json")
    }
}
