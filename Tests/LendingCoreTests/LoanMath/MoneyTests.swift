import Foundation
import Testing

@testable import LendingCore

@Suite("Money rounding, formatting and parsing")
struct MoneyTests {
    @Test("exact ties round to the even fen and everything else to the nearest")
    func halfEvenTies() {
        let cases: [(String, String)] = [
            ("2.675", "2.68"), ("0.125", "0.12"), ("0.135", "0.14"), ("-0.125", "-0.12"), ("-0.135", "-0.14"),
            ("0.005", "0.00"), ("0.015", "0.02"), ("0.0050000000000001", "0.01"), ("0.0049999999999", "0.00"),
            ("1234567.8949", "1234567.89"), ("99999999.995", "100000000.00"),
        ]
        for (input, expected) in cases {
            #expect(Money.string(Money.roundHalfEven(LoanFixture.d(input))) == expected, "\(input)")
        }
        #expect(Money.roundHalfEven(LoanFixture.d("2.5"), scale: 0) == 2)
        #expect(Money.roundHalfEven(LoanFixture.d("3.5"), scale: 0) == 4)
    }

    @Test("amounts print with exactly two decimals and no negative zero")
    func twoDecimals() {
        #expect(Money.string(LoanFixture.d("1234.5")) == "1234.50")
        #expect(Money.string(LoanFixture.d("-3")) == "-3.00")
        #expect(Money.string(0) == "0.00")
        #expect(Money.string(LoanFixture.d("-0.001")) == "0.00")
        #expect(Money.string(LoanFixture.d("100000000")) == "100000000.00")
        #expect(Money.string(fen: 5) == "0.05")
        #expect(Money.string(fen: -120) == "-1.20")
    }

    @Test("only plain decimal numbers are accepted as money")
    func strictParsing() {
        #expect(Money.parse("1234.50") == LoanFixture.d("1234.5"))
        #expect(Money.parse("-12.3") == Decimal(string: "-12.3"))
        #expect(Money.parse("0") == 0)
        #expect(Money.parse("007") == 7)
        #expect(Money.parse("12345678901234567890.123") == Decimal(string: "12345678901234567890.123"))
        for bad in ["1e5", " 12", "12 ", "12.", ".5", "+1", "abc", "", "-", "1.2.3", "1,000", "--1", "1-", "１２"] {
            #expect(Money.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("whole fen are read exactly from decimals and refused when a fraction of a fen remains")
    func exactFen() {
        #expect(Money.fen(exactly: LoanFixture.d("1234.5")) == 123_450)
        #expect(Money.fen(exactly: LoanFixture.d("100000000.00")) == 10_000_000_000)
        #expect(Money.fen(exactly: LoanFixture.d("-0.07")) == -7)
        #expect(Money.fen(exactly: LoanFixture.d("0.001")) == nil)
        #expect(Money.fen(exactly: LoanFixture.d("99999999999999999999")) == nil)
        #expect(Money.decimal(fen: 123_450) == LoanFixture.d("1234.5"))
    }
}
