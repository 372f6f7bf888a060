import Foundation
import ZenEngine

/// A graph (or a node in it) that the evaluator refuses to load: unsupported or malformed.
public struct DecisionLoadError: Error, CustomStringConvertible, Sendable {
    public let nodeName: String?
    public let nodeType: String?
    /// The refused feature, e.g. "functionNode", "expression", "schema keyword".
    public let feature: String
    public let message: String

    public init(nodeName: String? = nil, nodeType: String? = nil, feature: String, message: String) {
        self.nodeName = nodeName
        self.nodeType = nodeType
        self.feature = feature
        self.message = message
    }

    public var description: String {
        if let nodeName {
            return "node '\(nodeName)' (\(nodeType ?? "node")): \(message)"
        }
        return message
    }
}

/// An evaluation that failed (zen-engine would also fail): the node and the reason.
public struct DecisionEvaluationError: Error, CustomStringConvertible, Sendable {
    public let nodeId: String?
    public let nodeName: String?
    public let message: String

    public init(nodeId: String? = nil, nodeName: String?, message: String) {
        self.nodeId = nodeId
        self.nodeName = nodeName
        self.message = message
    }

    public var description: String {
        if let nodeName { return "node '\(nodeName)': \(message)" }
        return message
    }
}

/// What one node did during an evaluation.
public struct DecisionTraceEntry: Sendable, Hashable {
    public let nodeId: String
    public let nodeName: String
    public let nodeType: String
    public let input: ZenValue
    public let output: ZenValue
    /// For decision tables: the indices (0-based) of the rules that matched.
    public let matchedRules: [Int]?
    /// For decision tables: the `_id` of each matched rule (same order as `matchedRules`).
    public let matchedRuleIds: [String]?
    /// zen-engine's per-node trace data (table rows, expression results, switch statements).
    public let traceData: ZenValue
    /// Position in evaluation order.
    public let order: Int
}

/// The outcome of evaluating a decision graph.
public struct DecisionResult: Sendable {
    public let output: ZenValue
    public let trace: [DecisionTraceEntry]?

    /// The trace in zen-engine's shape: node id → { id, name, input, output, order, traceData }.
    public func traceJSON() -> ZenValue {
        guard let trace else { return .null }
        var o = ZenObject(minimumCapacity: trace.count)
        for entry in trace {
            var e = ZenObject(minimumCapacity: 7)
            e["id"] = .string(entry.nodeId)
            e["name"] = .string(entry.nodeName)
            e["type"] = .string(entry.nodeType)
            e["input"] = entry.input
            e["output"] = entry.output
            e["order"] = .number(Decimal(entry.order))
            e["traceData"] = entry.traceData
            if let rules = entry.matchedRules { e["matchedRules"] = .array(rules.map { .number(Decimal($0)) }) }
            o[entry.nodeId] = .object(e)
        }
        return .object(o)
    }
}
