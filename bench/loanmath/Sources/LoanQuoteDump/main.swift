import Foundation
import LendingCore

// For crosscheck.py: reads "principal rate n method rounding fee startDate" lines, prints one JSON object per line (or an error).
while let line = readLine() {
    let f = line.split(separator: " ").map(String.init)
    let terms = LoanTerms(
        principal: Money.parse(f[0])!, annualRatePercent: Money.parse(f[1])!, termMonths: Int(f[2])!,
        method: RepaymentMethod(rawValue: f[3])!, startDate: CivilDate(iso: f[6])!,
        installmentRounding: Money.parse(f[4])!, upfrontFee: Money.parse(f[5])!)
    do {
        let s = try LoanCalculator.schedule(for: terms)
        let rows = s.installments.map {
            "[\"\($0.dueDate.iso)\",\"\(Money.string($0.principal))\",\"\(Money.string($0.interest))\",\"\(Money.string($0.payment))\",\"\(Money.string($0.remainingPrincipal))\"]"
        }
        print(
            "{\"rows\":[\(rows.joined(separator: ","))],\"totalInterest\":\"\(Money.string(s.totalInterest))\",\"totalPayment\":\"\(Money.string(s.totalPayment))\",\"apr\":\"\(Money.string(s.apr))\"}"
        )
    } catch {
        print("{\"error\":\"\(error.field)/\(error.code)\"}")
    }
}
