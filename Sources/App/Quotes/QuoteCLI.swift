import Foundation
import LendingCore

/// `yidai quote --principal 100000 --rate 12 --term 12 --method equal-installment [--start-date …] [--fee …] [--rounding …] [--json]`
public enum QuoteCLI {
    static let usage = """
    usage: yidai quote --principal AMOUNT --rate PERCENT --term MONTHS --method equal-installment|equal-principal|interest-first
                       [--start-date YYYY-MM-DD] [--fee AMOUNT] [--rounding STEP] [--json]
    """

    public static func run(_ arguments: [String]) -> Int32 {
        var options: [String: String] = [:]
        var json = false
        var index = 0
        while index < arguments.count {
            let arg = arguments[index]
            if arg == "--json" { json = true; index += 1; continue }
            if arg == "--help" || arg == "-h" { print(usage); return 0 }
            guard arg.hasPrefix("--"), index + 1 < arguments.count else {
                FileHandle.standardError.write(Data("quote: unexpected argument \(arg)\n\(usage)\n".utf8))
                return 2
            }
            options[String(arg.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        let known: Set = ["principal", "rate", "term", "method", "start-date", "fee", "rounding"]
        if let unknown = options.keys.first(where: { !known.contains($0) }) {
            FileHandle.standardError.write(Data("quote: unknown option --\(unknown)\n\(usage)\n".utf8))
            return 2
        }
        var body: [String: Any] = [:]
        body["principal"] = options["principal"]
        body["annualRate"] = options["rate"]
        body["termMonths"] = options["term"].map { Int($0) ?? -1 }
        body["method"] = options["method"]
        body["startDate"] = options["start-date"]
        body["upfrontFee"] = options["fee"]
        body["installmentRounding"] = options["rounding"]
        do {
            let data = try JSONSerialization.data(withJSONObject: body)
            let request = try JSONDecoder().decode(QuoteRequest.self, from: data)
            let terms = try request.terms(today: BusinessCalendar.civilDate(Date()))
            let schedule = try LoanCalculator.schedule(for: terms)
            let response = QuoteResponse(schedule)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(response), as: UTF8.self))
            } else {
                print(table(response, schedule: schedule))
            }
            return 0
        } catch let error as APIError {
            FileHandle.standardError.write(Data("quote: \(error.field.map { "--\(cliName($0)): " } ?? "")\(error.message)\n".utf8))
            return 1
        } catch let error as FieldError {
            FileHandle.standardError.write(Data("quote: --\(cliName(error.field)): \(error.message)\n".utf8))
            return 1
        } catch {
            FileHandle.standardError.write(Data("quote: \(error)\n".utf8))
            return 1
        }
    }

    static func cliName(_ field: String) -> String {
        ["annualRate": "rate", "termMonths": "term", "startDate": "start-date", "upfrontFee": "fee", "installmentRounding": "rounding"][field] ?? field
    }

    static func table(_ q: QuoteResponse, schedule: RepaymentSchedule) -> String {
        let fee = q.upfrontFee != "0.00" ? ", fee \(q.upfrontFee)" : ""
        return "\(q.method) \(q.principal) at \(q.annualRate)% for \(q.termMonths) months from \(q.startDate)\(fee)\n"
            + LoanQuoteDocument(schedule).table
    }
}
