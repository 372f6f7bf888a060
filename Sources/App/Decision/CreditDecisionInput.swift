import Foundation
import LendingCore
import ZenEngine

/// The input the credit policy sees (the shape Policies/credit/README.md documents). It holds no name,
/// ID number, phone or card: only age, declared facts and bureau figures.
struct CreditDecisionInput: Sendable {
    let value: ZenValue

    init(age: Int, facts: AboutYouFacts, report: CreditReport) {
        let built: ZenValue = .object([
            "applicant": .object([
                "age": .number(Decimal(age)),
                "monthlyIncome": .number(facts.monthlyIncome),
                "employmentType": .string(facts.employmentType),
                "housing": .string(facts.housing),
                "maritalStatus": .string(facts.maritalStatus),
                "education": .string(facts.education),
                "loanPurpose": .string(facts.loanPurpose),
            ]),
            "bureau": .object([
                "thinFile": .bool(report.thinFile),
                "accounts": .number(Decimal(report.accounts)),
                "currentOverdueAmount": .number(report.currentOverdueAmount),
                "overdueMonthsLast24": .number(Decimal(report.overdueMonthsLast24)),
                "inquiriesLast3Months": .number(Decimal(report.inquiriesLast3Months)),
                "cardUtilization": .number(report.cardUtilization),
                "monthlyRepayments": .number(report.monthlyRepayments),
            ]),
            "product": .object([
                "maxAutomaticLimit": .number(200_000),
                "minLimit": .number(1000),
            ]),
        ])
        // Decide on exactly what is stored: the engine keeps a number's written scale (0.6 vs 0.60), so the
        // live decision and a later replay must both read the input from its JSON text.
        value = (try? ZenJSON.parse(ZenJSON.serialize(built))) ?? built
    }

    init(value: ZenValue) { self.value = value }

    /// Stored with the decision record; nothing in it identifies the person.
    var maskedJSON: String { ZenJSON.serialize(value) }
}

struct PolicyReason: Codable, Sendable, Equatable {
    let code: String
    let message: String
}

/// What the active policy decided, with everything the auditor needs to explain it.
struct PolicyOutcome: Sendable {
    let decision: String
    let creditLimit: Decimal
    let annualRate: Decimal
    let apr: Decimal
    let reasons: [PolicyReason]
    let policyVersion: String
    let policySHA256: String
    let outputJSON: String
    let traceJSON: String

    init(output: ZenValue, trace: ZenValue, version: String, sha256: String) throws {
        guard case .object(let object) = output else { throw PolicyOutputError("the policy output is not an object") }
        guard case .string(let decision)? = object["decision"], ["approved", "referred", "declined"].contains(decision) else {
            throw PolicyOutputError("the policy output has no decision of approved, referred or declined")
        }
        func number(_ key: String) -> Decimal {
            if case .number(let n)? = object[key] { return n }
            return 0
        }
        var reasons: [PolicyReason] = []
        if case .array(let items)? = object["reasons"] {
            for item in items {
                guard case .object(let reason) = item, case .string(let code)? = reason["code"], case .string(let message)? = reason["message"] else {
                    throw PolicyOutputError("every reason needs a code and a message")
                }
                reasons.append(PolicyReason(code: code, message: message))
            }
        }
        if decision == "declined" && reasons.isEmpty {
            throw PolicyOutputError("a decline must give at least one plain reason")
        }
        self.decision = decision
        self.creditLimit = number("creditLimit")
        self.annualRate = number("annualRate")
        self.apr = number("apr")
        self.reasons = reasons
        self.policyVersion = version
        self.policySHA256 = sha256
        self.outputJSON = ZenJSON.serialize(output)
        self.traceJSON = ZenJSON.serialize(trace)
    }
}

struct PolicyOutputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
