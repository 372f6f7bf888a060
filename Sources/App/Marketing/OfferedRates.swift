import Foundation
import LendingCore

/// The annual rates (and so the APRs) the active credit policy can give, read from the policy itself: every rate of
/// its risk-grade table (the decision table whose output field is `gradeRate`). The offer node must set
/// `annualRate` from `gradeRate` and `apr` from `annualRate` (the product has no fees, Policies/credit/README.md), or
/// the range is refused: a poster never states a rate or an APR the policy cannot give.
struct OfferedRates: Sendable, Equatable {
    let minimumPercent: Decimal
    let maximumPercent: Decimal
    /// `credit@v3`.
    let policy: String

    /// "6.00%–14.40%" (one rate: "8.40%").
    var rangeText: String {
        minimumPercent == maximumPercent
            ? "\(Money.string(minimumPercent))%" : "\(Money.string(minimumPercent))%–\(Money.string(maximumPercent))%"
    }

    struct Unreadable: Error, CustomStringConvertible {
        let why: String
        var description: String { "the active credit policy's rates cannot be read for an advert: \(why)" }
    }

    static let rateField = "gradeRate"

    static func read(from version: PolicyVersion) throws -> OfferedRates {
        guard let files = try? JSONDecoder().decode([String: String].self, from: Data(version.filesJSON.utf8)),
            let entry = files[version.entryFile],
            let graph = try? JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any],
            let nodes = graph["nodes"] as? [[String: Any]]
        else { throw Unreadable(why: "the graph \(version.entryFile) is not readable JSON") }
        var rates: [Decimal] = []
        for node in nodes where node["type"] as? String == "decisionTableNode" {
            guard let content = node["content"] as? [String: Any], let outputs = content["outputs"] as? [[String: Any]],
                let output = outputs.first(where: { $0["field"] as? String == rateField }), let id = output["id"] as? String
            else { continue }
            for rule in content["rules"] as? [[String: Any]] ?? [] {
                let raw = (rule[id] as? String ?? "").trimmingCharacters(in: .whitespaces)
                guard let rate = Decimal(string: raw, locale: Locale(identifier: "en_US_POSIX")), raw.allSatisfy({ $0.isNumber || $0 == "." }),
                    rate > 0, rate <= LoanTerms.maximumAnnualRatePercent
                else { throw Unreadable(why: "the rule \(rule["_id"] as? String ?? "?") gives \(rateField) \"\(raw)\", not a rate in percent") }
                rates.append(rate)
            }
        }
        guard let low = rates.min(), let high = rates.max() else { throw Unreadable(why: "no decision table outputs \(rateField)") }
        // The offer must pass the grade's rate on as the annual rate, and the APR must be that rate.
        let expressions = nodes.filter { $0["type"] as? String == "expressionNode" }
            .flatMap { (($0["content"] as? [String: Any])?["expressions"] as? [[String: Any]]) ?? [] }
            .reduce(into: [String: [String]]()) { map, e in
                if let key = e["key"] as? String, let value = e["value"] as? String { map[key, default: []].append(value.replacingOccurrences(of: " ", with: "")) }
            }
        let annualFromGrade = (expressions["annualRate"] ?? []).contains { $0.contains(rateField) }
        let aprIsRate = (expressions["apr"] ?? []).contains { $0 == "$.annualRate" }
        guard annualFromGrade, aprIsRate else {
            throw Unreadable(why: "the offer does not set annualRate from \(rateField) and apr from annualRate, so the APR range is unknown")
        }
        return OfferedRates(minimumPercent: low, maximumPercent: high, policy: PolicyStore.label(version))
    }
}
