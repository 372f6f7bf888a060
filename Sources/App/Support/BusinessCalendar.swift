import Foundation
import LendingCore

/// The bank's calendar: civil dates in China Standard Time.
enum BusinessCalendar {
    static let timeZone = TimeZone(identifier: "Asia/Shanghai")!

    static func civilDate(_ date: Date) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return CivilDate(year: c.year!, month: c.month!, day: c.day!)!
    }
}
