import Foundation
import ZenEngine

/// One case of a policy's case file: an input and the outputs it must produce.
public struct PolicyCase: Sendable, Equatable {
    public let name: String
    public let input: ZenValue
    /// Partial: only the keys listed are compared (see `PolicyExpectation`).
    public let expected: ZenValue

    public init(name: String, input: ZenValue, expected: ZenValue) {
        self.name = name
        self.input = input
        self.expected = expected
    }
}

public struct PolicyCaseFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A policy folder's case file, `cases.json`:
/// `{"graph": "credit.json", "cases": [{"name", "input", "expected"}]}`, or just the array of cases
/// (then the folder's graph is found by `PolicyCaseFile.entryGraphName(in:folderName:)`).
public struct PolicyCaseFile: Sendable, Equatable {
    public static let fileName = "cases.json"

    /// File name of the graph the cases run against, relative to the policy folder; nil when the file doesn't say.
    public let graph: String?
    public let cases: [PolicyCase]

    public init(graph: String?, cases: [PolicyCase]) {
        self.graph = graph
        self.cases = cases
    }

    public init(json: Data) throws(PolicyCaseFileError) {
        let document: ZenValue
        do {
            document = try ZenJSON.parse(json)
        } catch {
            throw PolicyCaseFileError("the case file is not valid JSON: \(error)")
        }
        let list: [ZenValue]
        switch document {
        case .array(let items):
            graph = nil
            list = items
        case .object(let object):
            switch object["graph"] {
            case nil, .null?: graph = nil
            case .string(let name)?: graph = name
            default: throw PolicyCaseFileError("\"graph\" must be a file name")
            }
            guard case .array(let items)? = object["cases"] else {
                throw PolicyCaseFileError("the case file has no \"cases\" array")
            }
            list = items
        default:
            throw PolicyCaseFileError(
                "the case file must be an array of cases or an object with \"cases\"")
        }
        var cases: [PolicyCase] = []
        cases.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            guard case .object(let fields) = item else {
                throw PolicyCaseFileError("case \(index + 1) is not an object")
            }
            let name: String
            if case .string(let given)? = fields["name"] {
                name = given
            } else {
                name = "case \(index + 1)"
            }
            guard let input = fields["input"] else {
                throw PolicyCaseFileError("case \(index + 1) (\(name)) has no \"input\"")
            }
            guard let expected = fields["expected"] else {
                throw PolicyCaseFileError("case \(index + 1) (\(name)) has no \"expected\"")
            }
            cases.append(PolicyCase(name: name, input: input, expected: expected))
        }
        self.cases = cases
    }

    /// The graph a folder's cases run against: the one the case file names, else `<folder name>.json`,
    /// else the only `.json` file other than the case file. Nil when that is ambiguous.
    public static func entryGraphName(
        caseFile: PolicyCaseFile, fileNames: [String], folderName: String
    ) -> String? {
        if let named = caseFile.graph { return named }
        let graphs = fileNames.filter { $0.hasSuffix(".json") && $0 != fileName }
        if graphs.contains("\(folderName).json") { return "\(folderName).json" }
        return graphs.count == 1 ? graphs[0] : nil
    }
}
