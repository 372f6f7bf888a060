import Foundation
import LendingCore

// Times the loan engine in-process on the inputs peer.py uses, and prints one JSON object.
// Each figure: the best of 5 rounds of ≥ 0.3 s, as nanoseconds per operation.

struct Case {
    let name: String
    let terms: LoanTerms
}

let start = CivilDate(iso: "2026-01-15")!
let q12 = LoanTerms(
    principal: 100_000, annualRatePercent: 12, termMonths: 12, method: .equalInstallment, startDate: start,
    upfrontFee: 1_000)
let q360 = LoanTerms(
    principal: 1_000_000, annualRatePercent: Decimal(string: "4.9")!, termMonths: 360, method: .equalInstallment,
    startDate: start, upfrontFee: 10_000)

@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

func nanosecondsPerOperation(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<5 {
        var iterations = 0
        var batch = 1
        var elapsed = Duration.zero
        while elapsed < .milliseconds(300) {
            elapsed += clock.measure { for _ in 0..<batch { body() } }
            iterations += batch
            batch = min(batch * 2, 100_000)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds * 1e9 / Double(iterations))
    }
    return best
}

/// What the API route does with a schedule: every date and money value to a string, through the Decimal
/// accessors (`Money.string(row.principal)`, the obvious way) ...
func renderViaDecimal(_ s: RepaymentSchedule) -> Int {
    var length = 0
    for row in s.installments {
        length &+= row.dueDate.iso.utf8.count
        length &+= Money.string(row.principal).utf8.count &+ Money.string(row.interest).utf8.count
        length &+= Money.string(row.payment).utf8.count &+ Money.string(row.remainingPrincipal).utf8.count
    }
    return length &+ Money.string(s.totalInterest).utf8.count &+ Money.string(s.apr).utf8.count
}

// `LoanMathBench --repeat NAME COUNT` only repeats one operation (for instruction counts under callgrind).
let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--repeat", let count = Int(arguments[3]) {
    let terms = arguments[2].hasSuffix("360") ? q360 : q12
    let schedule = try! LoanCalculator.schedule(for: terms)
    let payments = schedule.installments.map(\.paymentFen)
    let net = Money.fen(exactly: terms.principal - terms.upfrontFee)!
    for _ in 0..<count {
        switch arguments[2] {
        case "schedule12", "schedule360": blackHole(try! LoanCalculator.schedule(for: terms))
        case "quote12", "quote360": blackHole(LoanQuoteDocument(try! LoanCalculator.schedule(for: terms)))
        default: blackHole(LoanCalculator.aprHundredthsOfPercent(netDisbursedFen: net, monthlyPaymentsFen: payments))
        }
    }
    exit(0)
}

var results: [String: Double] = [:]
var checks: [String: String] = [:]
for (label, terms) in [("12", q12), ("360", q360)] {
    let schedule = try! LoanCalculator.schedule(for: terms)
    checks["apr\(label)"] = Money.string(schedule.apr)
    checks["payment\(label)"] = Money.string(schedule.installments[0].payment)
    checks["totalInterest\(label)"] = Money.string(schedule.totalInterest)
    results["schedule\(label)"] = nanosecondsPerOperation { blackHole(try! LoanCalculator.schedule(for: terms)) }
    results["quote\(label)"] = nanosecondsPerOperation {
        blackHole(LoanQuoteDocument(try! LoanCalculator.schedule(for: terms)))
    }
    results["quoteDecimal\(label)"] = nanosecondsPerOperation {
        blackHole(renderViaDecimal(try! LoanCalculator.schedule(for: terms)))
    }
    let payments = schedule.installments.map(\.paymentFen)
    let net = Money.fen(exactly: terms.principal - terms.upfrontFee)!
    results["apr\(label)"] = nanosecondsPerOperation {
        blackHole(LoanCalculator.aprHundredthsOfPercent(netDisbursedFen: net, monthlyPaymentsFen: payments))
    }
}
let figures = results.keys.sorted().map { "\"\($0)_ns\": \(String(format: "%.1f", results[$0]!))" }
let values = checks.keys.sorted().map { "\"\($0)\": \"\(checks[$0]!)\"" }
print("{\(figures.joined(separator: ", ")), \(values.joined(separator: ", "))}")
