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
                print(table(response))
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

    static func table(_ q: QuoteResponse) -> String {
        let header = ["#", "due date", "payment", "principal", "interest", "remaining"]
        var rows = q.installments.map { [String($0.number), $0.dueDate, $0.payment, $0.principal, $0.interest, $0.remainingPrincipal] }
        rows.append(["total", "", q.totalPayment, q.principal, q.totalInterest, ""])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i <= 1 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        var out = ["\(q.method) \(q.principal) at \(q.annualRate)% for \(q.termMonths) months from \(q.startDate)" + (q.upfrontFee != "0.00" ? ", fee \(q.upfrontFee)" : "")]
        out.append(line(header))
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out += rows.dropLast().map(line)
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out.append(line(rows.last!))
        out.append("APR (年化利率, IRR): \(q.apr)%")
        return out.joined(separator: "\n")
    }
}
