import Foundation

/// A schedule as the quote API and `yidai quote --json` answer it: every money value a string with exactly two
/// decimals, dates as YYYY-MM-DD. Encodes to
/// `{"installments":[{"number","dueDate","principal","interest","payment","remainingPrincipal"}…],
///   "totalInterest","totalPayment","apr"}`.
public struct LoanQuoteDocument: Codable, Sendable, Equatable {
    public struct Installment: Codable, Sendable, Equatable {
        public var number: Int
        public var dueDate: String
        public var principal: String
        public var interest: String
        public var payment: String
        public var remainingPrincipal: String
    }

    public var installments: [Installment]
    public var totalInterest: String
    public var totalPayment: String
    public var apr: String

    public init(_ schedule: RepaymentSchedule) {
        installments = schedule.installments.map {
            Installment(
                number: $0.number, dueDate: $0.dueDate.iso, principal: Money.string(fen: $0.principalFen),
                interest: Money.string(fen: $0.interestFen), payment: Money.string(fen: $0.paymentFen),
                remainingPrincipal: Money.string(fen: $0.remainingPrincipalFen))
        }
        totalInterest = Money.string(fen: schedule.totalInterestFen)
        totalPayment = Money.string(fen: schedule.totalPaymentFen)
        apr = Money.string(fen: schedule.aprHundredthsOfPercent)
    }

    /// An aligned plain-text table with totals and the APR, for the CLI.
    public var table: String {
        let header = ["#", "due date", "principal", "interest", "payment", "remaining"]
        let rows = installments.map {
            [String($0.number), $0.dueDate, $0.principal, $0.interest, $0.payment, $0.remainingPrincipal]
        }
        let totals = ["", "total", "", totalInterest, totalPayment, ""]
        let all = [header] + rows + [totals]
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? cell + pad : pad + cell  // dates left, numbers right
            }.joined(separator: "  ").replacing(/\s+$/, with: "")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line) + [rule, line(totals), "APR (年化利率, IRR): \(apr)%"])
            .joined(separator: "\n")
    }
}
