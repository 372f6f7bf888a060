import Foundation

/// A ZEN date (zen-engine 2.x `d()`), kept in UTC with millisecond precision.
/// Inside the evaluator it travels as a tagged object; results show it as an ISO string.
/// The clock is never read: forms that need "now" fail with a clear error.
package struct ZenDate: Comparable, Hashable {
    static let tag = "$zen.date"
    /// Milliseconds since 1970-01-01T00:00:00Z; nil for an invalid date.
    let millis: Int64?

    init(millis: Int64?) { self.millis = millis }

    init?(object: ZenObject) {
        guard object.count == 1, object.entries[0].key == ZenDate.tag else { return nil }
        switch object.entries[0].value {
        case .number(let n): millis = ZenNumber.exactInt(n)
        default: millis = nil
        }
    }

    @inline(__always)
    init?(value: ZenValue) {
        guard case .object(let o) = value else { return nil }
        self.init(object: o)
    }

    package static func isDateObject(_ o: ZenObject) -> Bool { o.count == 1 && o.entries[0].key == tag }

    var value: ZenValue {
        var o = ZenObject(minimumCapacity: 1)
        o[ZenDate.tag] = millis.map { .number(Decimal($0)) } ?? .null
        return .object(o)
    }

    package static func < (a: ZenDate, b: ZenDate) -> Bool {
        switch (a.millis, b.millis) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return x < y
        }
    }

    var isoString: String {
        guard let millis else { return "Invalid date" }
        let c = ZenCivil(millis: millis)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.minute, c.second)
    }

    /// Replaces dates inside a value by their ISO text (what zen-engine's JSON output shows).
    package static func externalize(_ v: ZenValue) -> ZenValue {
        switch v {
        case .object(let o):
            if let d = ZenDate(object: o) { return .string(d.isoString) }
            var changed = false
            var out = o
            for (i, entry) in o.entries.enumerated() {
                switch entry.value {
                case .object, .array:
                    let e = externalize(entry.value)
                    if e != entry.value {
                        out.put(i, e)
                        changed = true
                    }
                default: continue
                }
            }
            return changed ? .object(out) : v
        case .array(let a):
            guard
                a.contains(where: {
                    if case .object = $0 { return true }
                    if case .array = $0 { return true }
                    return false
                })
            else { return v }
            return .array(a.map(externalize))
        default: return v
        }
    }

    /// zen-engine's `d(value)` parsing in UTC.
    static func parse(_ v: ZenValue, now: Int64? = nil) throws(ZenEvaluationError) -> ZenDate {
        switch v {
        case .number(let n):
            guard let ms = ZenNumber.toInt(n), abs(ms) < 8_000_000_000_000_000 else { return ZenDate(millis: nil) }
            return ZenDate(millis: Int64(ms))
        case .string(let s):
            if let ms = parseText(s) { return ZenDate(millis: ms) }
            // zen-engine reads a time zone name as "now in that zone" (shown here in UTC).
            if s.contains("/") || s == "UTC" || s == "GMT" {
                guard let now else { throw ZenEvaluationError.noClock }
                return ZenDate(millis: now)
            }
            return ZenDate(millis: nil)
        case .object(let o):
            if let d = ZenDate(object: o) { return d }
            return ZenDate(millis: nil)
        default:
            return ZenDate(millis: nil)
        }
    }

    /// RFC 3339 (its local time, as zen-engine reads it), "Y-m-d H:M:S", "Y-m-d H:M", "Y-m-d".
    static func parseText(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            (1...12).contains(mo), d >= 1, d <= CivilDays.daysIn(month: mo, year: y)
        else { return nil }
        var h = 0
        var mi = 0
        var sec = 0
        var ms = 0
        var offsetMinutes = 0
        if b.count == 10 {
            // date only
        } else if b.count >= 16 && (b[10] == 32 || b[10] == 84 || b[10] == 116) {
            guard let hh = num(11, 2), b[13] == 58, let mm = num(14, 2), hh < 24, mm < 60 else { return nil }
            h = hh
            mi = mm
            var i = 16
            let isRFC = b[10] != 32
            if i < b.count && b[i] == 58 {
                guard let ss = num(17, 2), ss < 61 else { return nil }
                sec = min(ss, 59)
                i = 19
            } else if isRFC {
                return nil
            }
            if isRFC {
                if i < b.count && b[i] == 46 {
                    i += 1
                    var digits = 0
                    var frac = 0
                    while i < b.count && b[i] >= 48 && b[i] <= 57 {
                        if digits < 3 {
                            frac = frac * 10 + Int(b[i] - 48)
                            digits += 1
                        }
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                    while digits < 3 {
                        frac *= 10
                        digits += 1
                    }
                    ms = frac
                }
                // Offset: Z or ±HH:MM, applied (zen-engine 2.1.3 shows the instant in UTC).
                guard i < b.count else { return nil }
                if b[i] == 90 || b[i] == 122 {
                    i += 1
                } else if b[i] == 43 || b[i] == 45 {
                    guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) else {
                        return nil
                    }
                    offsetMinutes = (oh * 60 + om) * (b[i] == 43 ? 1 : -1)
                    i += 6
                } else {
                    return nil
                }
                guard i == b.count else { return nil }
            } else {
                guard i == b.count else { return nil }
            }
        } else {
            return nil
        }
        let days = CivilDays.days(year: y, month: mo, day: d)
        return (Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + sec) - Int64(offsetMinutes * 60)) * 1000 + Int64(ms)
    }
}

/// Calendar arithmetic on UTC milliseconds (proleptic Gregorian).
struct ZenCivil {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var millisecond: Int

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    init(millis: Int64) {
        let msPerDay: Int64 = 86_400_000
        var days = millis / msPerDay
        var rest = millis % msPerDay
        if rest < 0 {
            rest += msPerDay
            days -= 1
        }
        let (y, m, d) = CivilDays.civil(days: Int(days))
        year = y
        month = m
        day = d
        hour = Int(rest / 3_600_000)
        minute = Int(rest / 60_000 % 60)
        second = Int(rest / 1000 % 60)
        millisecond = Int(rest % 1000)
    }

    var millis: Int64 {
        let days = CivilDays.days(year: year, month: month, day: day)
        return Int64(days) * 86_400_000 + Int64(hour) * 3_600_000 + Int64(minute) * 60_000 + Int64(second) * 1000
            + Int64(millisecond)
    }

    var weekdayFromMonday: Int {
        let days = CivilDays.days(year: year, month: month, day: day)
        // 1970-01-01 was a Thursday (4).
        return ((days % 7) + 7 + 3) % 7 + 1
    }

    var ordinal: Int {
        CivilDays.days(year: year, month: month, day: day) - CivilDays.days(year: year, month: 1, day: 1) + 1
    }

    var isoWeek: Int {
        let wd = weekdayFromMonday
        let thursdayOrdinalDays = CivilDays.days(year: year, month: month, day: day) - wd + 4
        let (ty, _, _) = CivilDays.civil(days: thursdayOrdinalDays)
        return (thursdayOrdinalDays - CivilDays.days(year: ty, month: 1, day: 1)) / 7 + 1
    }

    /// chrono's `checked_add_months`: the day is clamped to the month's end.
    func addingMonths(_ n: Int) -> ZenCivil {
        var c = self
        (c.year, c.month, c.day) = CivilDays.adding(months: n, toYear: year, month: month, day: day)
        return c
    }
}

enum ZenDateUnit {
    case second, minute, hour, day, week, month, quarter, year

    init?(_ s: String) {
        switch s {
        case "seconds", "second", "secs", "sec", "s": self = .second
        case "minutes", "minute", "min", "mins", "m": self = .minute
        case "hours", "hour", "hr", "hrs", "h": self = .hour
        case "days", "day", "d": self = .day
        case "weeks", "week", "w": self = .week
        case "months", "month", "mo", "M": self = .month
        case "quarters", "quarter", "qtr", "q": self = .quarter
        case "years", "year", "y": self = .year
        default: return nil
        }
    }

    var seconds: Int64? {
        switch self {
        case .second: return 1
        case .minute: return 60
        case .hour: return 3600
        case .day: return 86_400
        case .week: return 604_800
        default: return nil
        }
    }
}

struct ZenDuration {
    var seconds: Int64 = 0
    var months = 0
    var years = 0

    static func parse(_ s: String) throws(ZenEvaluationError) -> ZenDuration {
        var d = ZenDuration()
        let chars = Array(s)
        var i = 0
        var sawAny = false
        while i < chars.count {
            while i < chars.count && chars[i].isWhitespace { i += 1 }
            if i >= chars.count { break }
            var n: Int64 = 0
            var digits = 0
            while i < chars.count, let v = chars[i].wholeNumberValue, chars[i].isASCII {
                guard n < 1_000_000_000_000 else { throw ZenEvaluationError("Number is too large") }
                n = n * 10 + Int64(v)
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw ZenEvaluationError("Expected number at \(i)") }
            while i < chars.count && chars[i].isWhitespace { i += 1 }
            var unitText = ""
            while i < chars.count && chars[i].isLetter {
                unitText.append(chars[i])
                i += 1
            }
            guard let unit = ZenDateUnit(unitText) else { throw ZenEvaluationError("Unknown time unit \(unitText)") }
            switch unit {
            case .quarter: d.months = Int(n) * 3
            case .month: d.months = Int(n)
            case .year: d.years = Int(n)
            default: d.seconds += unit.seconds! * n
            }
            sawAny = true
        }
        guard sawAny else { throw ZenEvaluationError("Value is empty") }
        return d
    }

    static func from(_ n: Decimal, _ unit: ZenDateUnit) -> ZenDuration? {
        var d = ZenDuration()
        if let s = unit.seconds {
            guard let v = ZenNumber.toInt(n * Decimal(s)) else { return nil }
            d.seconds = Int64(v)
            return d
        }
        guard let v = ZenNumber.toInt(n) else { return nil }
        switch unit {
        case .month: d.months = v
        case .quarter: d.months = v * 3
        default: d.years = v
        }
        return d
    }

    func negated() -> ZenDuration { ZenDuration(seconds: -seconds, months: -months, years: -years) }
}

enum ZenDateFunctions {
    static let methodArity: [String: (Int, Int)] = [
        "add": (1, 2), "sub": (1, 2), "set": (2, 2), "format": (0, 1), "startOf": (1, 1), "endOf": (1, 1),
        "diff": (1, 2), "tz": (1, 1), "isSame": (1, 2), "isBefore": (1, 2), "isAfter": (1, 2),
        "isSameOrBefore": (1, 2), "isSameOrAfter": (1, 2), "second": (0, 0), "minute": (0, 0), "hour": (0, 0),
        "day": (0, 0), "dayOfYear": (0, 0), "week": (0, 0), "weekday": (0, 0), "month": (0, 0), "quarter": (0, 0),
        "year": (0, 0), "timestamp": (0, 0), "offsetName": (0, 0), "isValid": (0, 0), "isYesterday": (0, 0),
        "isToday": (0, 0), "isTomorrow": (0, 0), "isLeapYear": (0, 0),
    ]

    static func d(_ args: [ZenValue], now: Int64?) throws(ZenEvaluationError) -> ZenValue {
        guard let first = args.first else {
            guard let now else { throw ZenEvaluationError.noClock }
            return ZenDate(millis: now).value
        }
        if args.count > 1 {
            guard case .string(let tz) = args[1] else { throw ZenEvaluationError("Argument on 1 is not a string") }
            guard tz == "UTC" || tz == "Etc/UTC" else {
                throw ZenEvaluationError("only the UTC time zone is supported")
            }
        }
        return try ZenDate.parse(first, now: now).value
    }

    static func unit(_ v: ZenValue) throws(ZenEvaluationError) -> ZenDateUnit {
        guard case .string(let s) = v, let u = ZenDateUnit(s) else { throw ZenEvaluationError("Invalid duration unit") }
        return u
    }

    static func duration(_ args: [ZenValue]) throws(ZenEvaluationError) -> ZenDuration {
        switch args.first {
        case .string(let s)?: return try ZenDuration.parse(s)
        case .number(let n)?:
            guard args.count > 1 else { throw ZenEvaluationError("Argument on 2 position out of bounds") }
            guard let d = ZenDuration.from(n, try unit(args[1])) else {
                throw ZenEvaluationError("Invalid duration unit")
            }
            return d
        default: throw ZenEvaluationError("Invalid duration arguments")
        }
    }

    static func add(_ ms: Int64, _ d: ZenDuration) -> Int64 {
        // Out-of-range results are invalid dates (Int64.min), never an arithmetic trap.
        guard abs(d.months) < 1_200_000, abs(d.years) < 100_000, abs(d.seconds) < 3_000_000_000_000,
            abs(ms) < 200_000_000_000_000_000
        else { return Int64.min }
        let shifted = ms + d.seconds * 1000
        var c = ZenCivil(millis: shifted).addingMonths(d.months)
        if d.years != 0 {
            let y = c.year + d.years
            // chrono's with_year fails on Feb 29 of a non-leap year.
            if c.month == 2 && c.day == 29 && !CivilDays.isLeap(y) { return Int64.min }
            c.year = y
        }
        return c.millis
    }

    static func startOf(_ ms: Int64, _ unit: ZenDateUnit) -> Int64 {
        var c = ZenCivil(millis: ms)
        c.millisecond = 0
        switch unit {
        case .second: break
        case .minute: c.second = 0
        case .hour: (c.minute, c.second) = (0, 0)
        case .day: (c.hour, c.minute, c.second) = (0, 0, 0)
        case .week:
            (c.hour, c.minute, c.second) = (0, 0, 0)
            return c.millis - Int64(c.weekdayFromMonday - 1) * 86_400_000
        case .month: (c.day, c.hour, c.minute, c.second) = (1, 0, 0, 0)
        case .quarter:
            c.month = (c.month - 1) / 3 * 3 + 1
            (c.day, c.hour, c.minute, c.second) = (1, 0, 0, 0)
        case .year: (c.month, c.day, c.hour, c.minute, c.second) = (1, 1, 0, 0, 0)
        }
        return c.millis
    }

    static func endOf(_ ms: Int64, _ unit: ZenDateUnit) -> Int64 {
        var c = ZenCivil(millis: ms)
        c.millisecond = 999
        switch unit {
        case .second: break
        case .minute: c.second = 59
        case .hour: (c.minute, c.second) = (59, 59)
        case .day: (c.hour, c.minute, c.second) = (23, 59, 59)
        case .week:
            (c.hour, c.minute, c.second) = (23, 59, 59)
            return c.millis + Int64(7 - c.weekdayFromMonday) * 86_400_000
        case .month:
            c.day = CivilDays.daysIn(month: c.month, year: c.year)
            (c.hour, c.minute, c.second) = (23, 59, 59)
        case .quarter:
            c.month = ((c.month - 1) / 3 + 1) * 3
            c.day = CivilDays.daysIn(month: c.month, year: c.year)
            (c.hour, c.minute, c.second) = (23, 59, 59)
        case .year:
            (c.month, c.day, c.hour, c.minute, c.second) = (12, 31, 23, 59, 59)
        }
        return c.millis
    }

    static func monthDiff(_ a: Int64, _ b: Int64) -> Double {
        let ca = ZenCivil(millis: a)
        let cb = ZenCivil(millis: b)
        if ca.day < cb.day { return -monthDiff(b, a) }
        let whole = (cb.year - ca.year) * 12 + (cb.month - ca.month)
        let anchor = ca.addingMonths(whole).millis
        let c = b - anchor < 0
        let anchor2 = ca.addingMonths(whole + (c ? -1 : 1)).millis
        let numerator = Double(b - anchor)
        let denominator = Double(c ? anchor - anchor2 : anchor2 - anchor)
        let fractional = denominator != 0 ? numerator / denominator : 0
        return -(Double(whole) + fractional)
    }

    static func method(_ name: String, _ this: ZenValue, _ args: [ZenValue], now: Int64? = nil)
        throws(ZenEvaluationError)
        -> ZenValue
    {
        guard let date = ZenDate(value: this) else {
            throw ZenEvaluationError("Argument on 0 position is not a valid dynamic")
        }
        switch name {
        case "isValid": return .bool(date.millis != nil)
        case "isToday", "isYesterday", "isTomorrow":
            guard let now else { throw ZenEvaluationError.noClock }
            guard let ms = date.millis else { return .null }
            let shift: Int64 = name == "isToday" ? 0 : (name == "isYesterday" ? -86_400_000 : 86_400_000)
            let day = now + shift
            return .bool(startOf(day, .day) <= ms && ms <= endOf(day, .day))
        case "tz":
            guard case .string(let tz)? = args.first else { throw ZenEvaluationError("Argument on 1 is not a string") }
            guard tz == "UTC" || tz == "Etc/UTC" else {
                throw ZenEvaluationError("only the UTC time zone is supported")
            }
            return this
        case "format":
            guard let ms = date.millis else { return .string("Invalid date") }
            if case .string(let f)? = args.first { return .string(format(ms, f)) }
            if let first = args.first, !first.isNull { throw ZenEvaluationError("Argument on 1 is not a string") }
            return .string(format(ms, "%Y-%m-%d %H:%M:%S UTC"))
        default: break
        }
        let compareNames: Set<String> = ["isSame", "isBefore", "isAfter", "isSameOrBefore", "isSameOrAfter"]
        if compareNames.contains(name) {
            let other = try ZenDate.parse(args[0], now: now)
            let u: ZenDateUnit? = args.count > 1 ? try unit(args[1]) : nil
            guard let a = date.millis, let b = other.millis else { return .bool(false) }
            func same() -> Bool {
                guard let u else { return a == b }
                return startOf(a, u) <= b && b <= endOf(a, u)
            }
            func before() -> Bool {
                guard let u else { return a < b }
                return endOf(a, u) < b
            }
            func after() -> Bool {
                guard let u else { return a > b }
                return b < startOf(a, u)
            }
            switch name {
            case "isSame": return .bool(same())
            case "isBefore": return .bool(before())
            case "isAfter": return .bool(after())
            case "isSameOrBefore": return .bool(before() || same())
            default: return .bool(after() || same())
            }
        }
        switch name {
        case "add", "sub":
            guard let ms = date.millis else { return ZenDate(millis: nil).value }
            var d = try duration(args)
            if name == "sub" { d = d.negated() }
            let r = add(ms, d)
            return ZenDate(millis: r == Int64.min ? nil : r).value
        case "set":
            guard let ms = date.millis else { return ZenDate(millis: nil).value }
            let u = try unit(args[0])
            guard case .number(let n) = args[1], n >= 0, let v = ZenNumber.toInt(n) else {
                throw ZenEvaluationError("Invalid duration value")
            }
            var c = ZenCivil(millis: ms)
            switch u {
            case .second:
                guard v < 60 else { return ZenDate(millis: nil).value }
                c.second = v
            case .minute:
                guard v < 60 else { return ZenDate(millis: nil).value }
                c.minute = v
            case .hour:
                guard v < 24 else { return ZenDate(millis: nil).value }
                c.hour = v
            case .day:
                guard v >= 1 && v <= CivilDays.daysIn(month: c.month, year: c.year) else {
                    return ZenDate(millis: nil).value
                }
                c.day = v
            case .month:
                guard v >= 1 && v <= 12 && c.day <= CivilDays.daysIn(month: v, year: c.year) else {
                    return ZenDate(millis: nil).value
                }
                c.month = v
            case .year:
                guard v <= 262_143, c.day <= CivilDays.daysIn(month: c.month, year: v) else {
                    return ZenDate(millis: nil).value
                }
                c.year = v
            case .week, .quarter: break
            }
            return ZenDate(millis: c.millis).value
        case "startOf", "endOf":
            guard let ms = date.millis else { return ZenDate(millis: nil).value }
            let u = try unit(args[0])
            return ZenDate(millis: name == "startOf" ? startOf(ms, u) : endOf(ms, u)).value
        case "diff":
            let other = try ZenDate.parse(args[0], now: now)
            guard let a = date.millis, let b = other.millis else { return .null }
            let diffMs = a - b
            guard args.count > 1 else { return .number(Decimal(diffMs)) }
            let r: Double
            switch try unit(args[1]) {
            case .year: r = monthDiff(a, b) / 12
            case .month: r = monthDiff(a, b)
            case .quarter: r = monthDiff(a, b) / 3
            case .week: r = Double(diffMs) / 604_800_000
            case .day: r = Double(diffMs) / 86_400_000
            case .hour: r = Double(diffMs) / 3_600_000
            case .minute: r = Double(diffMs) / 60_000
            case .second: r = Double(diffMs) / 1000
            }
            return .number(Decimal(Int64(r < 0 ? r.rounded(.up) : r.rounded(.down))))
        default: break
        }
        guard let ms = date.millis else { return .null }
        let c = ZenCivil(millis: ms)
        switch name {
        case "second": return .number(Decimal(c.second))
        case "minute": return .number(Decimal(c.minute))
        case "hour": return .number(Decimal(c.hour))
        case "day": return .number(Decimal(c.day))
        case "weekday": return .number(Decimal(c.weekdayFromMonday))
        case "dayOfYear": return .number(Decimal(c.ordinal))
        case "week": return .number(Decimal(c.isoWeek))
        case "month": return .number(Decimal(c.month))
        case "quarter": return .number(Decimal((c.month - 1) / 3 + 1))
        case "year": return .number(Decimal(c.year))
        case "timestamp": return .number(Decimal(ms))
        case "offsetName": return .string("UTC")
        case "isLeapYear": return .bool(CivilDays.isLeap(c.year))
        default: throw ZenEvaluationError("Method `\(name)` not found")
        }
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ]
    static let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// A strftime subset (chrono's common specifiers).
    static func format(_ ms: Int64, _ f: String) -> String {
        let c = ZenCivil(millis: ms)
        var out = ""
        var it = f.makeIterator()
        while let ch = it.next() {
            guard ch == "%" else {
                out.append(ch)
                continue
            }
            guard let spec = it.next() else { break }
            switch spec {
            case "Y": out += String(format: "%04d", c.year)
            case "y": out += String(format: "%02d", c.year % 100)
            case "m": out += String(format: "%02d", c.month)
            case "d": out += String(format: "%02d", c.day)
            case "e": out += String(format: "%2d", c.day)
            case "H": out += String(format: "%02d", c.hour)
            case "I": out += String(format: "%02d", (c.hour + 11) % 12 + 1)
            case "M": out += String(format: "%02d", c.minute)
            case "S": out += String(format: "%02d", c.second)
            case "p": out += c.hour < 12 ? "AM" : "PM"
            case "j": out += String(format: "%03d", c.ordinal)
            case "B": out += monthNames[c.month - 1]
            case "b", "h": out += String(monthNames[c.month - 1].prefix(3))
            case "A": out += dayNames[c.weekdayFromMonday - 1]
            case "a": out += String(dayNames[c.weekdayFromMonday - 1].prefix(3))
            case "u": out += String(c.weekdayFromMonday)
            case "w": out += String(c.weekdayFromMonday % 7)
            case "V": out += String(format: "%02d", c.isoWeek)
            case "F": out += String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
            case "T": out += String(format: "%02d:%02d:%02d", c.hour, c.minute, c.second)
            case "D": out += String(format: "%02d/%02d/%02d", c.month, c.day, c.year % 100)
            case "R": out += String(format: "%02d:%02d", c.hour, c.minute)
            case "s": out += String(ms / 1000)
            case "z": out += "+0000"
            case "Z": out += "UTC"
            case "%": out += "%"
            default:
                out.append("%")
                out.append(spec)
            }
        }
        return out
    }

    // MARK: zen-engine 1.x helpers (unix seconds)

    static func legacySeconds(_ v: ZenValue, now: Int64?) throws(ZenEvaluationError) -> Int64 {
        switch v {
        case .string(let s):
            if s == "now" {
                guard let now else { throw ZenEvaluationError.noClock }
                return now >= 0 ? now / 1000 : (now - 999) / 1000
            }
            if let ms = legacyParse(s) { return ms / 1000 }
            throw ZenEvaluationError("Failed to parse date time: \(s)")
        case .number(let n):
            guard let i = ZenNumber.toInt(n), abs(i) < 8_000_000_000_000_000 / 1000 else {
                throw ZenEvaluationError("Number overflow")
            }
            return Int64(i)
        default: throw ZenEvaluationError("Unsupported type for date function")
        }
    }

    /// "Y-m-d H:M:S", "Y-m-d", or RFC 3339 converted to UTC.
    static func legacyParse(_ s: String) -> Int64? { ZenDate.parseText(s) }

    static func legacyDate(_ v: ZenValue, now: Int64?) throws(ZenEvaluationError) -> ZenValue {
        .number(Decimal(try legacySeconds(v, now: now)))
    }

    static func legacyTime(_ v: ZenValue, now: Int64?) throws(ZenEvaluationError) -> ZenValue {
        switch v {
        case .number(let n):
            guard n >= 0, let i = ZenNumber.toInt(n) else { throw ZenEvaluationError("Number overflow") }
            return .number(Decimal(i))
        case .string(let s):
            if s == "now" {
                guard let now else { throw ZenEvaluationError.noClock }
                return .number(Decimal(Int(((now / 1000) % 86_400 + 86_400) % 86_400)))
            }
            let parts = s.split(separator: ":").map { Int($0) }
            if (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil }) {
                let p = parts.map { $0! }
                let secs = p[0] * 3600 + (p.count > 1 ? p[1] * 60 : 0) + (p.count > 2 ? p[2] : 0)
                return .number(Decimal(secs))
            }
            if let ms = legacyParse(s) { return .number(Decimal(Int((ms / 1000) % 86_400))) }
            throw ZenEvaluationError("Failed to parse time: \(s)")
        default: throw ZenEvaluationError("Unsupported type for time function")
        }
    }

    static func legacyDuration(_ v: ZenValue) throws(ZenEvaluationError) -> ZenValue {
        switch v {
        case .number(let n):
            guard n >= 0, let i = ZenNumber.toInt(n) else { throw ZenEvaluationError("Number overflow") }
            return .number(Decimal(i))
        case .string(let s):
            // humantime: "1h 30m", "2days", "45s" ...
            var total: Int64 = 0
            let chars = Array(s)
            var i = 0
            var any = false
            while i < chars.count {
                while i < chars.count && chars[i] == " " { i += 1 }
                if i >= chars.count { break }
                var n: Int64 = 0
                var digits = 0
                while i < chars.count, chars[i].isASCII, let d = chars[i].wholeNumberValue {
                    guard n < 1_000_000_000_000 else { throw ZenEvaluationError("Number is too large") }
                    n = n * 10 + Int64(d)
                    digits += 1
                    i += 1
                }
                var unit = ""
                while i < chars.count && chars[i].isLetter {
                    unit.append(chars[i])
                    i += 1
                }
                guard digits > 0 else { throw ZenEvaluationError("invalid duration \(s)") }
                let factor: Int64
                switch unit {
                case "nanos", "nsec", "ns", "usec", "us", "micros", "msec", "ms", "millis": factor = 0
                case "seconds", "second", "sec", "s", "secs": factor = 1
                case "minutes", "minute", "min", "m", "mins": factor = 60
                case "hours", "hour", "hr", "h", "hrs": factor = 3600
                case "days", "day", "d": factor = 86_400
                case "weeks", "week", "w": factor = 604_800
                case "months", "month", "M": factor = 2_630_016
                case "years", "year", "y": factor = 31_557_600
                default: throw ZenEvaluationError("unknown time unit \(unit)")
                }
                total += n * factor
                any = true
            }
            guard any else { throw ZenEvaluationError("empty duration") }
            return .number(Decimal(total))
        default: throw ZenEvaluationError("Unsupported type for duration function")
        }
    }

    static func legacyPart(_ name: String, _ v: ZenValue, now: Int64?) throws(ZenEvaluationError) -> ZenValue {
        let seconds: Int64
        switch v {
        case .string, .number: seconds = try legacySeconds(v, now: now)
        default: throw ZenEvaluationError("Failed to convert value to date time")
        }
        let ms = seconds * 1000
        let c = ZenCivil(millis: ms)
        switch name {
        case "year": return .number(Decimal(c.year))
        case "dayOfWeek": return .number(Decimal(c.weekdayFromMonday))
        case "dayOfMonth": return .number(Decimal(c.day))
        case "dayOfYear": return .number(Decimal(c.ordinal))
        case "weekOfYear": return .number(Decimal(c.isoWeek))
        case "monthOfYear": return .number(Decimal(c.month))
        case "monthString": return .string(String(monthNames[c.month - 1].prefix(3)))
        case "weekdayString": return .string(String(dayNames[c.weekdayFromMonday - 1].prefix(3)))
        default: return .string(format(ms, "%Y-%m-%d %H:%M:%S"))
        }
    }

    static func legacyStartEnd(_ v: ZenValue, _ unitName: String, end: Bool, now: Int64?) throws(ZenEvaluationError)
        -> ZenValue
    {
        let seconds = try legacySeconds(v, now: now)
        let unit: ZenDateUnit
        switch unitName {
        case "s", "second", "seconds": unit = .second
        case "m", "minute", "minutes": unit = .minute
        case "h", "hour", "hours": unit = .hour
        case "d", "day", "days": unit = .day
        case "w", "week", "weeks": unit = .week
        case "M", "month", "months": unit = .month
        case "y", "year", "years": unit = .year
        default: throw ZenEvaluationError("Invalid date unit")
        }
        let ms = seconds * 1000
        let r = end ? endOf(ms, unit) : startOf(ms, unit)
        return .number(Decimal(r / 1000))
    }
}
