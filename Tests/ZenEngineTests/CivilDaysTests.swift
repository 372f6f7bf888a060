import Testing
import ZenEngine

@Suite("Civil day arithmetic")
struct CivilDaysTests {
    @Test("1970-01-01 is day 0, and every day from 1600 to 2400 goes to its number and back")
    func roundTrip() {
        #expect(CivilDays.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDays.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(CivilDays.days(year: 1969, month: 12, day: 31) == -1)
        var expected = CivilDays.days(year: 1600, month: 1, day: 1)
        var wrong: [String] = []
        for year in 1600...2400 {
            for month in 1...12 {
                for day in 1...CivilDays.daysIn(month: month, year: year) {
                    let number = CivilDays.days(year: year, month: month, day: day)
                    if number != expected || CivilDays.civil(days: number) != (year, month, day) {
                        wrong.append("\(year)-\(month)-\(day)")
                    }
                    expected += 1
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test("leap years are every fourth year except centuries not divisible by 400")
    func leapYears() {
        #expect(CivilDays.isLeap(2024) && CivilDays.isLeap(2000) && CivilDays.isLeap(1600))
        #expect(!CivilDays.isLeap(2023) && !CivilDays.isLeap(1900) && !CivilDays.isLeap(2100))
        #expect(CivilDays.daysIn(month: 2, year: 2024) == 29)
        #expect(CivilDays.daysIn(month: 2, year: 2100) == 28)
        #expect((1...12).map { CivilDays.daysIn(month: $0, year: 2025) }.reduce(0, +) == 365)
    }

    @Test("adding months keeps the day, clamped to the end of a shorter month, forwards and backwards")
    func addingMonths() {
        #expect(CivilDays.adding(months: 1, toYear: 2024, month: 1, day: 31) == (2024, 2, 29))
        #expect(CivilDays.adding(months: 13, toYear: 2023, month: 1, day: 31) == (2024, 2, 29))
        #expect(CivilDays.adding(months: -1, toYear: 2024, month: 3, day: 31) == (2024, 2, 29))
        #expect(CivilDays.adding(months: -12, toYear: 2024, month: 1, day: 15) == (2023, 1, 15))
        #expect(CivilDays.adding(months: -1, toYear: 0, month: 1, day: 31) == (-1, 12, 31))
    }
}
