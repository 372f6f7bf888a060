import Foundation
import ZenEngine

/// A calendar date without a time or time zone: a business date, a birth date, a due date.
/// Dates in lending are civil dates (the bank's calendar in China), so no `Date`/time-zone arithmetic is involved.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Returns nil unless year/month/day name a real Gregorian date (years 1...9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilDays.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(iso: String) {
        let bytes = Array(iso.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in bytes[range] {
                guard b >= 48, b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Parses the compact `YYYYMMDD` form used inside ID numbers.
    public init?(compact: String) {
        guard compact.utf8.count == 8, compact.allSatisfy(\.isASCII) else { return nil }
        let s = Array(compact)
        self.init(iso: String(s[0..<4]) + "-" + String(s[4..<6]) + "-" + String(s[6..<8]))
    }

    public var iso: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public var description: String { iso }

    public static func daysIn(month: Int, year: Int) -> Int { CivilDays.daysIn(month: month, year: year) }

    /// The same day `months` later (or earlier), clamped to the end of the target month
    /// (Jan 31 + 1 month = Feb 28 or 29).
    public func adding(months: Int) -> CivilDate {
        let (y, m, d) = CivilDays.adding(months: months, toYear: year, month: month, day: day)
        return CivilDate(year: y, month: m, day: d)!
    }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    /// Actual days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int { other.dayNumber - dayNumber }

    /// Whole years of age on `date` for a person born on `self`.
    public func age(on date: CivilDate) -> Int {
        var years = date.year - year
        if (date.month, date.day) < (month, day) { years -= 1 }
        return years
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Days since 1970-01-01 (`CivilDays`, the calendar arithmetic ZEN dates use too).
    var dayNumber: Int { CivilDays.days(year: year, month: month, day: day) }

    init(dayNumber: Int) {
        (year, month, day) = CivilDays.civil(days: dayNumber)
    }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(iso: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(raw)"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso)
    }
}
