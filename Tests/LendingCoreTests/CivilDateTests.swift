import Testing
@testable import LendingCore

@Suite("Civil dates")
struct CivilDateTests {
    @Test("a month after January 31 is the last day of February, in leap and common years")
    func monthEndClamping() {
        #expect(CivilDate(iso: "2024-01-31")!.adding(months: 1).iso == "2024-02-29")
        #expect(CivilDate(iso: "2023-01-31")!.adding(months: 1).iso == "2023-02-28")
        #expect(CivilDate(iso: "2023-01-31")!.adding(months: 3).iso == "2023-04-30")
        #expect(CivilDate(iso: "2023-11-15")!.adding(months: 2).iso == "2024-01-15")
    }

    @Test("impossible or malformed dates are refused")
    func invalidDates() {
        #expect(CivilDate(iso: "2023-02-29") == nil)
        #expect(CivilDate(iso: "2023-13-01") == nil)
        #expect(CivilDate(iso: "2023-1-01") == nil)
        #expect(CivilDate(iso: "abcd-ef-gh") == nil)
        #expect(CivilDate(compact: "19880315")?.iso == "1988-03-15")
    }

    @Test("actual days between dates count leap days")
    func actualDays() {
        #expect(CivilDate(iso: "2024-02-01")!.days(until: CivilDate(iso: "2024-03-01")!) == 29)
        #expect(CivilDate(iso: "2023-12-31")!.adding(days: 1).iso == "2024-01-01")
    }

    @Test("age counts whole years, turning over on the birthday")
    func ageOnBirthday() {
        let born = CivilDate(iso: "1988-03-15")!
        #expect(born.age(on: CivilDate(iso: "2026-03-14")!) == 37)
        #expect(born.age(on: CivilDate(iso: "2026-03-15")!) == 38)
    }
}
