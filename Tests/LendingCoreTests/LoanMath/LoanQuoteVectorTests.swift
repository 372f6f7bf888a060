import Foundation
import Testing

@testable import LendingCore

/// The published schedules in Fixtures/loan-quotes.json (copied from shared/vectors/loan-quotes.json) run through the
/// engine; every asserted value must match to the fen.
@Suite("Published loan-quote vectors")
struct LoanQuoteVectorTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        struct Request: Decodable, Sendable {
            var principal: String
            var annualRate: String
            var termMonths: Int
            var method: String
            var startDate: String?
            var installmentRounding: String?
            var upfrontFee: String?
        }
        var name: String
        var source: String
        var request: Request
        var expect: [String: JSONValue]
        var testDescription: String { name }
    }

    /// Just enough JSON to read the `expect` object, whose keys vary per vector.
    enum JSONValue: Decodable, Sendable {
        case string(String)
        case number(Double)
        case array([JSONValue])
        case object([String: JSONValue])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .string(s)
            } else if let n = try? c.decode(Double.self) {
                self = .number(n)
            } else if let a = try? c.decode([JSONValue].self) {
                self = .array(a)
            } else {
                self = .object(try c.decode([String: JSONValue].self))
            }
        }
    }

    static let vectors: [Vector] = {
        let url = Bundle.module.url(forResource: "loan-quotes", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
    }()

    @Test("the fixture holds the published vectors")
    func fixtureIsLoaded() {
        #expect(Self.vectors.count >= 3)
    }

    @Test("every published schedule is reproduced to the fen", arguments: vectors)
    func vectorMatches(_ vector: Vector) throws {
        let r = vector.request
        let terms = LoanTerms(
            principal: try #require(Money.parse(r.principal)),
            annualRatePercent: try #require(Money.parse(r.annualRate)),
            termMonths: r.termMonths,
            method: try #require(RepaymentMethod(rawValue: r.method)),
            startDate: r.startDate.flatMap(CivilDate.init(iso:)) ?? CivilDate(iso: "2026-01-15")!,
            installmentRounding: try r.installmentRounding.map { try #require(Money.parse($0)) } ?? Decimal(
                string: "0.01")!,
            upfrontFee: try r.upfrontFee.map { try #require(Money.parse($0)) } ?? 0
        )

        let schedule = try LoanCalculator.schedule(for: terms)

        #expect(schedule.installments.count == r.termMonths)
        for (key, value) in vector.expect {
            switch (key, value) {
            case ("installments", .array(let rows)):
                for case .object(let row) in rows {
                    guard case .number(let n)? = row["number"] else {
                        Issue.record("row without number")
                        continue
                    }
                    let installment = try #require(schedule.installments.first { $0.number == Int(n) })
                    for (field, expected) in row where field != "number" {
                        guard case .string(let expectedText) = expected else { continue }
                        let actual: String
                        switch field {
                        case "principal": actual = Money.string(installment.principal)
                        case "interest": actual = Money.string(installment.interest)
                        case "payment": actual = Money.string(installment.payment)
                        case "remainingPrincipal": actual = Money.string(installment.remainingPrincipal)
                        case "dueDate": actual = installment.dueDate.iso
                        default:
                            Issue.record("unknown installment field \(field)")
                            continue
                        }
                        #expect(actual == expectedText, "installment \(Int(n)) \(field)")
                    }
                }
            case ("totalInterest", .string(let s)): #expect(Money.string(schedule.totalInterest) == s)
            case ("totalPayment", .string(let s)): #expect(Money.string(schedule.totalPayment) == s)
            case ("apr", .string(let s)): #expect(Money.string(schedule.apr) == s)
            default: Issue.record("unknown expectation \(key)")
            }
        }
    }
}
