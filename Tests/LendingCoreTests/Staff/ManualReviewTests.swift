import Foundation
import LendingCore
import Testing

@Suite("Manual review rules")
struct ManualReviewTests {
    @Test("an approval within the cap and the rate bounds is accepted as fen and percent")
    func validApproval() throws {
        let approval = try ManualReview.approval(creditLimit: "30000.00", annualRate: "12.00")
        #expect(approval.limitFen == 3_000_000)
        #expect(approval.annualRatePercent == 12)
        #expect(try ManualReview.approval(creditLimit: "200000", annualRate: "14.40").limitFen == 20_000_000)
        #expect(try ManualReview.approval(creditLimit: "100", annualRate: "6").limitFen == 10_000)
    }

    @Test("an approval above 200,000 yuan is refused, naming the CBIRC cap", arguments: ["200000.01", "200100", "1000000"])
    func aboveCap(limit: String) {
        #expect(throws: FieldError.self) { try ManualReview.approval(creditLimit: limit, annualRate: "12") }
        do { _ = try ManualReview.approval(creditLimit: limit, annualRate: "12") } catch {
            #expect(error.field == "creditLimit")
            #expect(["credit_limit_above_cap", "credit_limit_not_hundreds"].contains(error.code))
        }
    }

    @Test("a limit that is missing, not an amount, zero, negative or not whole hundreds is refused and named",
          arguments: [nil, "", "abc", "0", "-100", "30050", "30000.5"] as [String?])
    func badLimit(limit: String?) {
        do {
            _ = try ManualReview.approval(creditLimit: limit, annualRate: "12")
            Issue.record("accepted \(String(describing: limit))")
        } catch { #expect(error.field == "creditLimit") }
    }

    @Test("a rate outside the product's bounds or with more than two decimals is refused and named",
          arguments: [nil, "", "5.99", "14.41", "24", "12.345", "x"] as [String?])
    func badRate(rate: String?) {
        do {
            _ = try ManualReview.approval(creditLimit: "30000", annualRate: rate)
            Issue.record("accepted \(String(describing: rate))")
        } catch { #expect(error.field == "annualRate") }
    }

    @Test("an approval above 50,000 yuan or above the policy's suggestion needs a second reviewer")
    func makerChecker() {
        #expect(!ManualReview.needsSecondReview(limitFen: 5_000_000, suggestedLimitFen: nil))
        #expect(ManualReview.needsSecondReview(limitFen: 5_000_100, suggestedLimitFen: nil))
        #expect(ManualReview.needsSecondReview(limitFen: 3_000_000, suggestedLimitFen: 2_000_000))
        #expect(!ManualReview.needsSecondReview(limitFen: 2_000_000, suggestedLimitFen: 2_000_000))
        let strict = ManualReview.Policy(maximumLimitFen: 20_000_000, minimumRatePercent: 6, maximumRatePercent: 14, secondReviewAboveFen: 1_000_000)
        #expect(ManualReview.needsSecondReview(limitFen: 2_000_000, suggestedLimitFen: nil, policy: strict))
    }

    @Test("nobody confirms their own decision")
    func notOwn() {
        #expect(!ManualReview.mayConfirm(maker: "risk1", confirmer: "risk1"))
        #expect(ManualReview.mayConfirm(maker: "risk1", confirmer: "risk2"))
    }

    @Test("a decline needs a reason from the list")
    func declineReasons() throws {
        #expect(try ManualReview.declineReason("high_debt").titleZh == "现有负债过高")
        #expect(throws: FieldError.self) { try ManualReview.declineReason("because") }
        #expect(throws: FieldError.self) { try ManualReview.declineReason(nil) }
    }
}
