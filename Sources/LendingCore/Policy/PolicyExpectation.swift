import Foundation
import ZenEngine

/// One difference between a case's expected and actual output.
public struct PolicyMismatch: Sendable, Equatable, CustomStringConvertible {
    /// Where, e.g. `creditLimit` or `reasons[0].code`; empty for the whole output.
    public let path: String
    public let expected: ZenValue
    /// Nil when the key is missing from the output.
    public let actual: ZenValue?

    public init(path: String, expected: ZenValue, actual: ZenValue?) {
        self.path = path
        self.expected = expected
        self.actual = actual
    }

    public var description: String {
        let place = path.isEmpty ? "output" : path
        let expectedText = ZenJSON.serialize(expected)
        guard let actual else { return "\(place): expected \(expectedText), missing" }
        return "\(place): expected \(expectedText), got \(ZenJSON.serialize(actual))"
    }
}

/// How a case's `expected` is compared with an output.
/// - Objects are partial: only the keys `expected` lists are compared, recursively (also inside arrays).
/// - Arrays must have the same length and match element by element.
/// - Numbers are compared as decimals (6 equals 6.0); other values must be equal and of the same type.
public enum PolicyExpectation {
    public static func mismatches(expected: ZenValue, actual: ZenValue) -> [PolicyMismatch] {
        var found: [PolicyMismatch] = []
        compare(expected, actual, path: "", into: &found)
        return found
    }

    private static func compare(
        _ expected: ZenValue, _ actual: ZenValue, path: String, into found: inout [PolicyMismatch]
    ) {
        switch (expected, actual) {
        case (.object(let want), .object(let have)):
            for (key, value) in want {
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                guard let present = have[key] else {
                    found.append(PolicyMismatch(path: keyPath, expected: value, actual: nil))
                    continue
                }
                compare(value, present, path: keyPath, into: &found)
            }
        case (.array(let want), .array(let have)) where want.count == have.count:
            for index in want.indices {
                compare(want[index], have[index], path: "\(path)[\(index)]", into: &found)
            }
        case (.number(let want), .number(let have)):
            if want != have {
                found.append(PolicyMismatch(path: path, expected: expected, actual: actual))
            }
        case (.string(let want), .string(let have)) where want == have: break
        case (.bool(let want), .bool(let have)) where want == have: break
        case (.null, .null): break
        default:
            found.append(PolicyMismatch(path: path, expected: expected, actual: actual))
        }
    }
}
