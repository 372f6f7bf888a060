import Foundation

/// Masking of personal data for display and logs, wherever the full value is not needed
/// (JR/T 0171-2020: C2 data masked in display).
public enum PersonalDataMask {
    /// 张伟 → 张*, 周建国 → 周*国, 欧阳娜娜 → 欧**娜; a single character becomes *.
    public static func name(_ s: String) -> String {
        let chars = Array(s.trimmingCharacters(in: .whitespacesAndNewlines))
        switch chars.count {
        case 0: return ""
        case 1: return "*"
        case 2: return String(chars[0]) + "*"
        default: return String(chars[0]) + String(repeating: "*", count: chars.count - 2) + String(chars[chars.count - 1])
        }
    }

    /// Keeps the province and city (and the district of a municipality) and hides the rest behind a fixed `****`,
    /// so the length of the street address is not revealed either:
    /// 广东省深圳市南山区科技园科苑路15号 → 广东省深圳市****; 上海市浦东新区世纪大道100号 → 上海市浦东新区****.
    public static func address(_ s: String) -> String {
        let chars = Array(s.trimmingCharacters(in: .whitespacesAndNewlines))
        guard !chars.isEmpty else { return "" }
        let kept = addressPrefixLength(chars)
        return String(chars[0..<kept]) + "****"
    }

    /// Masks a raw ID number string: through `ChineseIDNumber` when valid, otherwise keeping at most 4 + 4 characters.
    public static func idNumber(_ raw: String) -> String {
        if let id = try? ChineseIDNumber(raw) { return id.masked }
        return keepEnds(compact(raw), head: 4, tail: 4)
    }

    /// Masks a raw phone string: `138****0001`.
    public static func phone(_ raw: String) -> String {
        if let phone = try? MobileNumber(raw) { return phone.masked }
        return keepEnds(compact(raw), head: 3, tail: 4)
    }

    /// Masks a raw card number string: `6222 **** **** 0102`.
    public static func card(_ raw: String) -> String {
        if let card = try? BankCardNumber(raw) { return card.masked }
        let s = compact(raw)
        guard s.count >= 12 else { return String(repeating: "*", count: s.count) }
        return String(s.prefix(4)) + " **** **** " + String(s.suffix(4))
    }

    private static func compact(_ raw: String) -> String {
        String(raw.filter { !$0.isWhitespace && $0 != "-" })
    }

    /// Keeps `head` and `tail` characters only when at least 3 are left to hide; otherwise hides all.
    private static func keepEnds(_ s: String, head: Int, tail: Int) -> String {
        let chars = Array(s)
        guard chars.count >= head + tail + 3 else { return String(repeating: "*", count: chars.count) }
        return String(chars.prefix(head)) + String(repeating: "*", count: chars.count - head - tail)
            + String(chars.suffix(tail))
    }

    private static let municipalities = ["北京市", "上海市", "天津市", "重庆市"]

    private static func addressPrefixLength(_ chars: [Character]) -> Int {
        let s = String(chars)
        func end(after start: Int, markers: [String]) -> Int? {
            let rest = String(chars[start...])
            var best: Int?
            for marker in markers {
                if let r = rest.range(of: marker) {
                    let e = start + rest.distance(from: rest.startIndex, to: r.upperBound)
                    if best == nil || e < best! { best = e }
                }
            }
            return best
        }
        if let municipality = municipalities.first(where: { s.hasPrefix($0) }) {
            let afterCity = municipality.count
            // the district is the "city" level of a municipality
            if let district = end(after: afterCity, markers: ["区", "县"]), district - afterCity <= 6 {
                return district
            }
            return afterCity
        }
        var cursor = 0
        if let province = end(after: 0, markers: ["省", "自治区", "特别行政区"]), province <= 8 {
            cursor = province
        }
        if cursor < chars.count, let city = end(after: cursor, markers: ["市", "自治州", "地区", "盟"]),
            city - cursor <= 8
        {
            return city
        }
        if cursor > 0 { return cursor }
        // Nothing recognisable: keep a short head only.
        return min(3, chars.count / 3)
    }
}
