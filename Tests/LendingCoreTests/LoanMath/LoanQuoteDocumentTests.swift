import Foundation
import Testing

@testable import LendingCore

@Suite("A quote as the API and the CLI show it")
struct LoanQuoteDocumentTests {
    @Test("the JSON has every money value as a two-decimal string and the API's keys")
    func json() throws {
        let schedule = try LoanFixture.schedule("100.00", rate: "12", months: 6, .equalInstallment)
        let document = LoanQuoteDocument(schedule)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(document), as: UTF8.self)
        #expect(text.hasPrefix(#"{"apr":"12.00","installments":[{"dueDate":"2026-02-15","interest":"1.00","#))
        #expect(text.contains(#""number":6,"payment":"17.28","principal":"17.11","remainingPrincipal":"0.00"}"#))
        #expect(text.hasSuffix(#""totalInterest":"3.53","totalPayment":"103.53"}"#))
        #expect(try JSONDecoder().decode(LoanQuoteDocument.self, from: Data(text.utf8)) == document)
    }

    @Test("the table aligns its columns and ends with the totals and the APR")
    func table() throws {
        let schedule = try LoanFixture.schedule("100.00", rate: "12", months: 6, .equalInstallment)
        let lines = LoanQuoteDocument(schedule).table.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 + 6 + 2 + 1)
        #expect(lines[0] == "#  due date    principal  interest  payment  remaining")
        #expect(lines[2] == "1  2026-02-15      16.25      1.00    17.25      83.75")
        #expect(lines[9] == "   total                      3.53   103.53")
        #expect(lines[10] == "APR (年化利率, IRR): 12.00%")
    }
}
