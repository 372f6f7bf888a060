import Foundation
import ZenEngine

/// What became of one case.
public struct PolicyCaseOutcome: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case passed
        case failed([PolicyMismatch])
        /// The graph could not evaluate the input (schema rejected it, an expression failed...).
        case evaluationFailed(String)
    }

    public let name: String
    public let status: Status
    /// The graph's output, when it produced one.
    public let actual: ZenValue?

    public var passed: Bool { status == .passed }
}

/// The result of running a case file: every outcome and the closing summary.
public struct PolicyTestReport: Sendable, Equatable {
    public let outcomes: [PolicyCaseOutcome]

    public init(outcomes: [PolicyCaseOutcome]) { self.outcomes = outcomes }

    public var passedCount: Int { outcomes.count { $0.passed } }
    public var failedCount: Int { outcomes.count - passedCount }
    public var failures: [PolicyCaseOutcome] { outcomes.filter { !$0.passed } }
    public var allPassed: Bool { failedCount == 0 }

    /// `N passed, N failed`: the line test runners and CI read.
    public var summary: String { "\(passedCount) passed, \(failedCount) failed" }

    /// Each failing case with what differed, then the summary line.
    public func render() -> String {
        var lines: [String] = []
        for outcome in failures {
            lines.append("FAIL \(outcome.name)")
            switch outcome.status {
            case .passed: break
            case .failed(let mismatches):
                for mismatch in mismatches { lines.append("  \(mismatch)") }
                if let actual = outcome.actual { lines.append("  output: \(ZenJSON.serialize(actual))") }
            case .evaluationFailed(let reason):
                lines.append("  evaluation failed: \(reason)")
            }
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}

/// Runs a policy's cases against its compiled graph. Pure: the caller reads the files and the clock.
public enum PolicyCaseRunner {
    /// `now` is what `d()` and `date('now')` read in the graph; without it such expressions fail.
    public static func run(_ cases: [PolicyCase], on graph: DecisionGraph, now: Date? = nil) -> PolicyTestReport {
        let outcomes = cases.map { testCase -> PolicyCaseOutcome in
            let output: ZenValue
            do {
                output = try graph.evaluate(testCase.input, now: now).output
            } catch {
                return PolicyCaseOutcome(
                    name: testCase.name, status: .evaluationFailed(String(describing: error)), actual: nil)
            }
            let mismatches = PolicyExpectation.mismatches(expected: testCase.expected, actual: output)
            return PolicyCaseOutcome(
                name: testCase.name, status: mismatches.isEmpty ? .passed : .failed(mismatches),
                actual: output)
        }
        return PolicyTestReport(outcomes: outcomes)
    }
}
