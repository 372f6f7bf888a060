import CTesseract
import Foundation
import LendingCore

/// Finds the fields of a resident identity card in a Tesseract layout pass and reads each again as a single line,
/// which the engine reads better than a whole page. What it cannot read, or reads but does not believe (an ID
/// number failing its check character or disagreeing with the printed birth date, a name that is not 2 to 15
/// Chinese characters, a validity that is not 5, 10 or 20 years or 长期), it leaves empty for the applicant to type.
///
/// The layout is that of GA 450-2013 cards: on the front 姓名, 性别/民族, 出生, 住址 (one to three lines) in a
/// column of labels and values with the portrait on the right and 公民身份号码 along the bottom; on the back
/// 签发机关 above 有效期限.
struct IDCardTextReader {
    let engine: TesseractEngine
    let deadline: Date

    /// The printed fields of a front, or nil if no ID number and no birth line were found (not a front).
    struct Front: Equatable {
        var name = ""
        var idNumber = ""
        var address = ""
        var sex: Sex?
        var ethnicity: String?
        var birthDate: CivilDate?

        var isBlank: Bool { name.isEmpty && idNumber.isEmpty && address.isEmpty }
    }

    /// The printed fields of a back, or nil if no validity line was found (not a back).
    struct Back: Equatable {
        var issuingAuthority = ""
        var validFrom: CivilDate?
        var validUntil: IDCardValidUntil?

        var isBlank: Bool { issuingAuthority.isEmpty && validUntil == nil }
    }

    /// Characters of a single-line read below this confidence (0 to 100) make the field unsure.
    static let minimumConfidence: Float = 40

    // MARK: - Front

    func front(_ image: LeptonicaImage) -> Front? {
        // The portrait only confuses the layout: whiten the right part above the ID number line.
        guard let masked = image.whitened(PixelRect(x: image.width * 64 / 100, y: 0, width: image.width, height: image.height * 74 / 100))
        else { return nil }
        engine.setImage(masked)
        let lines = engine.lines(mode: PSM_SINGLE_COLUMN, deadline: deadline).sorted { $0.box.midY < $1.box.midY }
        let idLine = lines.lastIndex { $0.text.contains(Self.longDigitRun) }
        let birthLine = lines.firstIndex { $0.text.contains(Self.birthMarker) }
        guard idLine != nil || birthLine != nil else { return nil }
        engine.setImage(image)
        let valueX = birthLine.flatMap { lines[$0].words.first { $0.text.contains(where: \.isNumber) }?.box.x } ?? image.width * 15 / 100
        var front = Front()

        var printedBirth: CivilDate?
        if let birthLine {
            printedBirth = Self.birthDate(read(lines[birthLine], valueX: valueX, size: image).text)
        }
        if let idLine {
            let digits = lines[idLine].words.filter { $0.text.contains(where: \.isNumber) }
            if let first = digits.first {
                let box = digits.dropFirst().reduce(first.box) { $0.union($1.box) }
                let number = engine.readLine(box.padded(8, 6, within: image.width, image.height), allowed: "0123456789X", deadline: deadline)
                if let id = Self.idNumber(number.text), printedBirth == nil || printedBirth == id.birthDate {
                    front.idNumber = id.value
                    front.sex = id.sex
                    front.birthDate = id.birthDate
                }
            }
        }
        if front.birthDate == nil { front.birthDate = printedBirth }

        if let birthLine {
            let sexLine = lines[..<birthLine].lastIndex { $0.text.contains(where: { "男女".contains($0) }) || $0.text.contains("民族") }
                ?? (birthLine >= 1 ? birthLine - 1 : nil)
            if let sexLine {
                let text = lines[sexLine].text
                if front.sex == nil {
                    let printed = text.filter { "男女".contains($0) }
                    front.sex = printed == "男" ? .male : printed == "女" ? .female : nil
                }
                front.ethnicity = Self.ethnicity(in: lines[sexLine])
                if sexLine >= 1 {
                    let name = read(lines[sexLine - 1], valueX: valueX, size: image)
                    front.name = Self.name(name)
                }
            }
            let end = idLine ?? lines.count
            if birthLine + 1 < end {
                var address = ""
                var least: Float = 100
                for line in lines[(birthLine + 1)..<end] {
                    let part = read(line, valueX: valueX, size: image)
                    guard !part.text.isEmpty else { continue }
                    address += part.text
                    least = min(least, part.minConfidence)
                }
                front.address = Self.address(OCRText(text: address, minConfidence: least))
            }
        }
        return front
    }

    // MARK: - Back

    func back(_ image: LeptonicaImage) -> Back? {
        engine.setImage(image)
        let lines = engine.lines(mode: PSM_SINGLE_COLUMN, deadline: deadline).sorted { $0.box.midY < $1.box.midY }
        guard let validityLine = lines.firstIndex(where: { $0.text.contains(Self.dottedDate) }),
            let firstDate = lines[validityLine].words.first(where: { $0.text.contains(where: \.isNumber) })
        else { return nil }
        let valueX = firstDate.box.x
        var back = Back()
        let dates = lines[validityLine].words.filter { $0.box.x >= valueX - 2 }
        let box = dates.dropFirst().reduce(dates[0].box) { $0.union($1.box) }
        let period = engine.readLine(box.padded(6, 6, within: image.width, image.height), allowed: "0123456789.-长期", deadline: deadline)
        if let validity = Self.validity(period.text) {
            back.validFrom = validity.from
            back.validUntil = validity.until
        }
        if validityLine >= 1 {
            back.issuingAuthority = Self.authority(read(lines[validityLine - 1], valueX: valueX, size: image))
        }
        return back
    }

    // MARK: - Reading one value

    /// Reads the value part of `line` (the words right of the label column) again as one line.
    private func read(_ line: OCRLine, valueX: Int, size image: LeptonicaImage) -> OCRText {
        let words = line.words.filter { $0.box.right > valueX + 4 }
        guard let first = words.first else { return OCRText(text: "", minConfidence: 0) }
        var box = words.dropFirst().reduce(first.box) { $0.union($1.box) }
        let left = max(valueX - 6, box.x - 6)
        box = PixelRect(x: left, y: box.y, width: box.right - left, height: box.height)
        let value = engine.readLine(box.padded(6, 6, within: image.width, image.height), deadline: deadline)
        return OCRText(text: Self.trimmed(value.text), minConfidence: value.minConfidence)
    }

    // MARK: - What counts as a field (pure, tested on their own)

    static var longDigitRun: Regex<Substring> { /[0-9]{14,}/ }
    static var birthMarker: Regex<Substring> { /[0-9]{4}年|年.*月/ }
    /// The start of a validity, "2018.03.20-…" (the dots may be lost in the layout pass), or 长期.
    static var dottedDate: Regex<Substring> { /[0-9]{4}\.?[0-9]{2}\.?[0-9]{2}[-—~至]|长期/ }

    /// Punctuation the engine reads from the gap between a label and its value, or from specks at a line's end.
    static func trimmed(_ s: String) -> String {
        let junk: Set<Character> = ["\"", "'", "“", "”", "‘", "’", "|", ":", "：", ";", "；", ",", "，", ".", "。", "、", "_", "-", "—", "~"]
        var chars = Substring(s)
        while let c = chars.first, junk.contains(c) { chars = chars.dropFirst() }
        while let c = chars.last, junk.contains(c) { chars = chars.dropLast() }
        return String(chars)
    }

    static func isChinese(_ c: Character) -> Bool {
        c.unicodeScalars.allSatisfy { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) }
    }

    /// A valid ID number (check character, region, birth date) somewhere in the text, else nil.
    static func idNumber(_ text: String) -> ChineseIDNumber? {
        guard let match = text.firstMatch(of: /[0-9]{17}[0-9X]/) else { return nil }
        return try? ChineseIDNumber(String(match.output))
    }

    /// "1988年3月15日" → 1988-03-15.
    static func birthDate(_ text: String) -> CivilDate? {
        guard let m = text.firstMatch(of: /([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日/),
            let y = Int(m.output.1), let mo = Int(m.output.2), let d = Int(m.output.3)
        else { return nil }
        return CivilDate(year: y, month: mo, day: d)
    }

    /// Chinese characters (and the middle dot of minority names) only; 2 to 15 of them, read with some confidence.
    static func name(_ read: OCRText) -> String {
        let name = read.text.filter { isChinese($0) || $0 == "·" }
        guard (2...15).contains(name.count), name.first != "·", name.last != "·", read.minConfidence >= minimumConfidence else { return "" }
        return name
    }

    /// At least 5 characters, read with some confidence; what a card prints (Chinese, digits, Latin letters, a few signs).
    static func address(_ read: OCRText) -> String {
        let allowed: Set<Character> = ["-", "(", ")", "（", "）", "#", "·"]
        let address = String(read.text.filter { isChinese($0) || ($0.isASCII && ($0.isLetter || $0.isNumber)) || allowed.contains($0) })
        guard address.count >= 5, address.first.map(isChinese) == true, read.minConfidence >= minimumConfidence else { return "" }
        return address
    }

    /// An authority is a public security bureau or its branch: 深圳市公安局南山分局.
    static func authority(_ read: OCRText) -> String {
        let authority = read.text.filter(isChinese)
        guard authority.count >= 4, authority.contains("公安") || authority.hasSuffix("局"), read.minConfidence >= minimumConfidence
        else { return "" }
        return authority
    }

    /// "2018.03.20-2038.03.20" or "2017.03.10-长期". A card is valid 5, 10 or 20 years from its issue, or long-term;
    /// anything else was misread.
    static func validity(_ text: String) -> (from: CivilDate, until: IDCardValidUntil)? {
        guard let m = text.firstMatch(of: /([0-9]{4})\.?([0-9]{2})\.?([0-9]{2})-+(长期|([0-9]{4})\.?([0-9]{2})\.?([0-9]{2}))/),
            let from = CivilDate(year: Int(m.output.1)!, month: Int(m.output.2)!, day: Int(m.output.3)!)
        else { return nil }
        if m.output.4 == "长期" { return (from, .longTerm) }
        guard let y = m.output.5.flatMap({ Int($0) }), let mo = m.output.6.flatMap({ Int($0) }), let d = m.output.7.flatMap({ Int($0) }),
            let until = CivilDate(year: y, month: mo, day: d),
            [5, 10, 20].contains(until.year - from.year), until.month == from.month, abs(until.day - from.day) <= 1
        else { return nil }
        return (from, .date(until))
    }

    /// The value after 民族 (or the line's last word), if it is one of the 56 recognized ethnic groups.
    static func ethnicity(in line: OCRLine) -> String? {
        let text = line.text.filter(isChinese)
        if let range = text.range(of: "民族") {
            let after = String(text[range.upperBound...])
            if let group = ethnicGroups.first(where: { after == $0 }) { return group }
        }
        if let last = line.words.last.map({ $0.text.filter(isChinese) }), ethnicGroups.contains(last) { return last }
        return nil
    }

    /// The 56 ethnic groups as a card prints them (民族 without 族).
    static let ethnicGroups: [String] = [
        "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克",
        "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌",
        "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
        "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
    ]
}
