import Foundation
import LendingCore
import ZenEngine

/// Reads the graphs recorded from zen-engine 2.1.3 (see Fixtures/decision/README.md; the expressions are
/// ZenEngineTests').
enum ZenOracleFixtures {
    static func load(_ name: String) throws -> ZenValue {
        guard let base = Bundle.module.resourceURL else { throw CocoaError(.fileNoSuchFile) }
        let url = base.appendingPathComponent("Fixtures/decision/\(name).json")
        return try ZenJSON.parse(Data(contentsOf: url))
    }

    /// zen-engine hands numbers to Python as floats; compare numbers to 1e-9 relative.
    static func close(_ a: ZenValue, _ b: ZenValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x == y { return true }
            let diff = abs(x - y)
            return diff <= Decimal(string: "0.000000001")! * max(abs(x), abs(y))
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { close($0, $1) }
        case (.object(let x), .object(let y)):
            guard Set(x.keys) == Set(y.keys) else { return false }
            return x.keys.allSatisfy { close(x[$0]!, y[$0]!) }
        default:
            return a == b
        }
    }
}
