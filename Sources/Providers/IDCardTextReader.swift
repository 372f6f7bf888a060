import CTesseract
import Foundation
import LendingCore

/// Finds the lines of a resident identity card from their ink (InkLines), tells each label from its value, and reads
/// each value as a single line, enlarged. What it cannot read, or reads but does not believe (an ID
/// number failing its check character or disagreeing with the printed birth date, a name that is not 2 to 15
/// Chinese characters, a validity that is not 5, 10 or 20 years or 长期), it leaves empty for the applicant to type.
///
/// The layout is that of GA 450-2013 cards: on the front 姓名, 性别/民族, 出生, 住址 (one to three lines) in a
/// column of labels and values with the portrait on the right and 公民身份号码 along the bottom; on the back
/// 签发机关 above 有效期限.
struct IDCardTextReader {
    let engine: TesseractEngine
    let deadline: Date
    /// After this much CPU time of the reading thread, a value is read once more at most (no votes, no further
    /// zooms), so that one card keeps to about its time budget (issue 14: 2 s on one core) when its print is hard to
    /// read. CPU time, not the wall clock: on a busy machine the reader waits for a core, and a waiting reader must
    /// not read worse than one that ran (the hard `deadline` is the wall clock's). A reader runs on one thread (the
    /// OCR queue's), from start to end.
    let hurryAfterCPU: TimeInterval

    init(engine: TesseractEngine, deadline: Date, budget: TimeInterval = 1.3) {
        self.engine = engine
        self.deadline = deadline
        self.hurryAfterCPU = Self.threadCPUTime() + budget
    }

    /// Whether the budget of CPU time is spent.
    var hurried: Bool { Self.threadCPUTime() >= hurryAfterCPU }

    /// The calling thread's CPU time in seconds.
    static func threadCPUTime() -> TimeInterval {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9
    }

    /// The printed fields of a front, or nil if no ID number and no birth line were found (not a front).
    struct Front: Equatable {
        var name = ""
        var idNumber = ""
        var address = ""
        var sex: Sex?
        var ethnicity: String?
        var birthDate: CivilDate?
        /// How sure the engine was of each field read (IDCardReading.confidence).
        var confidence: [String: Double] = [:]

        var isBlank: Bool { name.isEmpty && idNumber.isEmpty && address.isEmpty }
    }

    /// The printed fields of a back, or nil if no validity line was found (not a back).
    struct Back: Equatable {
        var issuingAuthority = ""
        var validFrom: CivilDate?
        var validUntil: IDCardValidUntil?
        var confidence: [String: Double] = [:]

        var isBlank: Bool { issuingAuthority.isEmpty && validUntil == nil }
    }

    /// Characters of a single-line read below this confidence (0 to 100) make the field unsure.
    static let minimumConfidence: Float = 40

    // MARK: - Lines

    /// The lines of print of a side (InkPage), where each one's value is (after its label), and what was read of them.
    final class Lines {
        let found: [InkLine]
        /// Each line's value: after its label, cut at the column where values start if the label ran into it.
        let values: [PixelRect?]
        /// Each line's pieces after its label (the ID number, whose longer label ends past the value column).
        let afterLabel: [PixelRect?]
        let labelColumn: Int?
        private var reads: [Int: OCRText] = [:]

        /// How much lighter (grey levels) a label's print is than a value's at least.
        static let labelContrast = 18

        init(_ found: [InkLine], tolerance: Int, page: InkPage? = nil) {
            self.found = found
            // Labels faded below the ink threshold (a blurred photo, at least three lines with faint print before them
            // starting in one column): each line's value is what starts two line heights or more right of that column
            // (a label's darker part that did count as ink, 名 of a faint 姓名, is left out).
            let faintStarts = page.map { page in found.compactMap { page.faintPrint(leftOf: $0.box) } } ?? []
            if let column = InkLine.mode(faintStarts, tolerance: tolerance), faintStarts.filter({ abs($0 - column) <= tolerance }).count >= 3 {
                labelColumn = nil
                values = found.map { line in
                    let value = line.pieces.filter { $0.x >= column + 2 * line.box.height - tolerance / 2 }
                    return value.isEmpty ? nil : InkLine(pieces: value).box
                }
                afterLabel = values
                return
            }
            // Labels are printed lighter than values: a line's first piece clearly lighter than most lines' last
            // piece (a value) is its label. Without that contrast (nil), labels are told by where lines start.
            let valueCores = found.compactMap { $0.cores.last }.sorted()
            let labels: [Bool?] = found.map { line in
                guard valueCores.count >= 3, line.cores.count == line.pieces.count, let first = line.cores.first else { return nil }
                return first - valueCores[valueCores.count / 2] >= Self.labelContrast
            }
            let lightStarts = found.indices.filter { labels[$0] == true }.map { found[$0].pieces[0].x }
            let labelColumn = InkLine.mode(lightStarts, tolerance: tolerance) ?? InkLine.labelColumn(found, tolerance: tolerance)
            let valueColumn = InkLine.valueColumn(found, labelColumn: labelColumn, tolerance: tolerance)
            self.labelColumn = labelColumn
            values = found.indices.map {
                found[$0].value(labelColumn: labelColumn, valueColumn: valueColumn, label: labels[$0], tolerance: tolerance)
            }
            afterLabel = found.indices.map { found[$0].value(labelColumn: labelColumn, label: labels[$0], tolerance: tolerance) }
        }

        /// How many lines start in the label column.
        func labelled(tolerance: Int) -> Int {
            guard let labelColumn else { return 0 }
            return found.filter { abs($0.pieces[0].x - labelColumn) <= tolerance }.count
        }

        /// Line `i`'s value as `reader` reads it (once).
        func text(_ i: Int, _ reader: IDCardTextReader, _ image: LeptonicaImage) -> OCRText {
            if let known = reads[i] { return known }
            let read = values[i].map { reader.read($0, of: image) } ?? OCRText(text: "", minConfidence: 0)
            reads[i] = read
            return read
        }
    }

    // MARK: - Front

    func front(_ image: LeptonicaImage) -> Front? {
        // The portrait only gets in the way of finding the lines: whiten the right part above the ID number line.
        guard let masked = image.whitened(PixelRect(x: image.width * 64 / 100, y: 0, width: image.width, height: image.height * 74 / 100)),
            let page = InkPage(masked)
        else { return nil }
        let tolerance = max(6, image.width / 40)
        let lines = Lines(page.lines(in: PixelRect(x: 0, y: 0, width: image.width, height: image.height)), tolerance: tolerance, page: page)
        // The ID number is the last line but for specks and the border: a photo in which none of the last three lines
        // reads as a long run of digits (not a validity's dates) is no front, or not the right way up.
        var idLine: Int?
        var quickID = OCRText(text: "", minConfidence: 0)
        for i in lines.found.indices.reversed().prefix(3) where Date() < deadline {
            let value = lines.afterLabel[i] ?? lines.found[i].box
            let quick = engine.readLine(value.padded(6, 4, within: image.width, image.height), of: image, zoom: Self.zooms[0], deadline: deadline)
            if quick.text.filter(\.isNumber).count >= 12, !quick.text.contains(Self.dottedDate) {
                idLine = i
                quickID = quick
                break
            }
        }
        // A front whose ID number cannot be read at all is still a front if its labels stand in a column and a birth line
        // is among the first lines.
        let above = idLine ?? lines.found.count
        var birthLine: Int?
        if idLine != nil || lines.labelled(tolerance: tolerance) >= 3 {
            birthLine = (0..<above).prefix(6).first { lines.text($0, self, image).text.contains(Self.birthMarker) }
        }
        guard idLine != nil || birthLine != nil else { return nil }
        var front = Front()

        let printedBirth = birthLine.flatMap { Self.birthDate(lines.text($0, self, image).text) }
        if let idLine {
            // The probe's own reading first (it may hold the number whole even where the label ran into it), then
            // reads of the digits alone at each zoom, until one passes the check character and the printed birth date.
            let box = (lines.afterLabel[idLine] ?? lines.found[idLine].box).padded(8, 6, within: image.width, image.height)
            let reads = [{ quickID }] + Self.zooms.map { zoom in
                { engine.readLine(box, of: image, zoom: zoom, allowed: "0123456789X", deadline: deadline) }
            }
            // A valid number that the printed birth date contradicts is taken only when two reads agree on it (the
            // birth line, read as words, can be the one misread).
            var contradicted: [String: Int] = [:]
            for number in reads where Date() < deadline {
                let read = number()
                guard let id = Self.idNumber(read.text) else { continue }
                if printedBirth != nil, printedBirth != id.birthDate {
                    contradicted[id.value, default: 0] += 1
                    guard contradicted[id.value] == 2 else { continue }
                }
                front.idNumber = id.value
                front.confidence["idNumber"] = Double(read.minConfidence)
                front.sex = id.sex
                front.birthDate = id.birthDate
                break
            }
        }
        if front.birthDate == nil { front.birthDate = printedBirth }

        if let birthLine {
            let sexLine = (0..<birthLine).last {
                let text = lines.text($0, self, image).text
                return text.contains(where: { "男女".contains($0) }) || text.contains("民族")
            } ?? (birthLine >= 1 ? birthLine - 1 : nil)
            if let sexLine {
                let text = lines.text(sexLine, self, image).text
                if front.sex == nil {
                    let printed = text.filter { "男女".contains($0) }
                    front.sex = printed == "男" ? .male : printed == "女" ? .female : nil
                }
                front.ethnicity = Self.ethnicity(in: text)
                if sexLine >= 1 {
                    let read = lines.values[sexLine - 1].map { voted($0, of: image) }
                    front.name = read.map(Self.name) ?? ""
                    if !front.name.isEmpty, let read { front.confidence["name"] = Double(read.minConfidence) }
                    // Each glyph compared with the font's drawings of the likely characters of its place (GlyphMatcher).
                    // Where the drawings overrule the engine, the name is marked unsure (below IDCardReadingView's 85) for
                    // the applicant to confirm.
                    if let rect = lines.values[sexLine - 1], !front.name.contains("·"),
                        let fixed = GlyphMatcher.corrected(front.name, at: rect, of: image)
                    {
                        front.name = fixed.name
                        front.confidence["name"] = min(front.confidence["name"] ?? 100, Double(fixed.similarity * 100), 80)
                    }
                    // (Not for a name with the middle dot: 买买提·艾则孜 begins with a given name, not a surname.)
                    if let rect = lines.values[sexLine - 1], let first = front.name.first, !Self.surnames.contains(first),
                        !front.name.contains("·"), let surname = surname(at: rect, of: image)
                    {
                        front.name = surname.text + front.name.dropFirst()
                        front.confidence["name"] = min(front.confidence["name"] ?? 100, Double(surname.minConfidence))
                    }
                }
            }
            if birthLine + 1 < above {
                let parts = (birthLine + 1..<above).map { lines.text($0, self, image) }.filter { !$0.text.isEmpty }
                let read = OCRText(text: parts.map(\.text).joined(), minConfidence: parts.map(\.minConfidence).min() ?? 0)
                front.address = Self.address(read)
                if !front.address.isEmpty { front.confidence["address"] = Double(read.minConfidence) }
            }
        }
        // Digits read from a card upside down or sideways can look like an ID number line and give nothing.
        return front.isBlank ? nil : front
    }

    // MARK: - Back

    func back(_ image: LeptonicaImage) -> Back? {
        guard let page = InkPage(image) else { return nil }
        let found = page.lines(in: PixelRect(x: 0, y: 0, width: image.width, height: image.height))
        // 有效期限 is the last line but for specks and the border: looked for among the last four, bottom up.
        var validity: (index: Int, read: OCRText)?
        // (Read whole, then without its first piece: a faint label's remains can spoil the reading of the dates.)
        probing: for index in found.indices.reversed().prefix(4) {
            let line = found[index]
            let rest = line.pieces.count > 1 ? line.value(labelColumn: line.pieces[0].x, tolerance: 0) : nil
            for box in [line.box] + (rest.map { [$0] } ?? []) where Date() < deadline {
                let read = engine.readLine(box.padded(6, 4, within: image.width, image.height), of: image, zoom: Self.zooms[0], deadline: deadline)
                if read.text.contains(Self.dottedDate) {
                    validity = (index, read)
                    break probing
                }
            }
        }
        guard let validity else { return nil }
        var back = Back()
        let line = found[validity.index]
        // The label is the first piece when the line has more than one; the authority's label is in the same column.
        // (None when the label faded below the ink threshold: the line is the dates alone.)
        let labelX = line.pieces.count > 1 && page.faintPrint(leftOf: line.box) == nil ? line.pieces[0].x : nil
        let tolerance = max(6, image.width / 40)
        let dates = line.value(labelColumn: labelX, tolerance: tolerance) ?? line.box
        let box = dates.padded(6, 6, within: image.width, image.height)
        for zoom in Self.zooms {
            let period = engine.readLine(box, of: image, zoom: zoom, allowed: "0123456789.-长期", deadline: deadline)
            if let parsed = Self.validity(period.text) {
                back.validFrom = parsed.from
                back.validUntil = parsed.until
                back.confidence["validity"] = Double(period.minConfidence)
                break
            }
        }
        if validity.index >= 1, let value = found[validity.index - 1].value(labelColumn: labelX, tolerance: tolerance) {
            let read = read(value, of: image)
            back.issuingAuthority = Self.authority(read)
            if !back.issuingAuthority.isEmpty { back.confidence["issuingAuthority"] = Double(read.minConfidence) }
        }
        return back.isBlank ? nil : back
    }

    // MARK: - Reading one value

    /// How much a line is enlarged for reading, in the order tried where a reading can be checked (an ID number, a
    /// validity): the print of a card that fills a 640-pixel photo is small for the model.
    /// (Measured on the generated set: 2, then 1.5, then 1 reads best; 1.5 first loses 1 to 2 points on every field.)
    static let zooms: [Float] = [2, 1.5, 1]

    /// A read at least this sure of each character is taken as it is; a less sure one is read again at the other
    /// zooms and the surest reading kept.
    static let sureConfidence: Float = 95

    /// Reads `rect` as one line at every zoom, both ways (Tesseract's own line search and the raw line): the text
    /// most of them agree on, with the least sure character's confidence among those; ties go to the surer reading.
    /// For a short value (a name), where one misread character is a wrong field.
    func voted(_ rect: PixelRect, of image: LeptonicaImage) -> OCRText {
        let box = Self.margined(rect, within: image)
        var votes: [String: (count: Int, confidence: Float)] = [:]
        for raw in [false, true] {
            for zoom in Self.zooms where Date() < deadline && (votes.isEmpty || !hurried) {
                let value = engine.readLine(box, of: image, zoom: zoom, raw: raw, deadline: deadline)
                let text = Self.trimmed(value.text)
                guard !text.isEmpty else { continue }
                let known = votes[text]
                votes[text] = ((known?.count ?? 0) + 1, max(known?.confidence ?? 0, value.minConfidence))
            }
        }
        guard let best = votes.max(by: { ($0.value.count, $0.value.confidence) < ($1.value.count, $1.value.confidence) }) else {
            return OCRText(text: "", minConfidence: 0)
        }
        return OCRText(text: best.key, minConfidence: best.value.confidence)
    }

    /// A value's rectangle with room around it (half a character across, a third down): Tesseract reads nothing from a
    /// line cut tight to its print.
    static func margined(_ rect: PixelRect, within image: LeptonicaImage) -> PixelRect {
        rect.padded(max(6, rect.height / 2), max(4, rect.height / 3), within: image.width, image.height)
    }

    /// A name's first character read as no surname at all (囊, 页, 雇 for 韦, 贾, 廖: chi_sim confuses them) is read
    /// again from the first glyph alone (a square as high as the line), three ways, allowing only surnames: the
    /// surname two of the reads agree on, or one read fairly sure of it. Allowed only surnames, the engine's confidence
    /// runs low (what it would have preferred is not allowed), so the name is then marked unsure for the applicant,
    /// who confirms or corrects the reading (and the registry check compares it).
    func surname(at rect: PixelRect, of image: LeptonicaImage) -> OCRText? {
        let glyph = PixelRect(x: rect.x, y: rect.y, width: min(rect.width, rect.height * 23 / 20), height: rect.height)
        let box = Self.margined(glyph, within: image)
        var votes: [Character: (count: Int, confidence: Float)] = [:]
        for (zoom, raw) in [(Float(2), true), (2, false), (1.5, true)] where Date() < deadline && (votes.isEmpty || !hurried) {
            let read = engine.readLine(box, of: image, zoom: zoom, allowed: Self.surnameCharacters, raw: raw, deadline: deadline)
            guard read.text.count == 1, let character = read.text.first, Self.surnames.contains(character) else { continue }
            let known = votes[character]
            votes[character] = ((known?.count ?? 0) + 1, max(known?.confidence ?? 0, read.minConfidence))
        }
        guard let best = votes.max(by: { ($0.value.count, $0.value.confidence) < ($1.value.count, $1.value.confidence) }),
            (best.value.count >= 2 && best.value.confidence >= 30) || best.value.confidence >= 50
        else { return nil }
        return OCRText(text: String(best.key), minConfidence: best.value.confidence)
    }

    /// Chinese surnames (single characters, and the first of the common compound ones), about 470 of them: those of
    /// nearly everyone (the usual published rankings of Chinese surnames by population), so that a rare surname read
    /// right is left alone and only a character that is no surname is read again.
    static let surnameCharacters = """
        王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆\
        汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易\
        乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴\
        蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦卢麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬\
        边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺\
        楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄\
        邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智\
        幸奉植衡富尧闭由上端东西夏侯皇尉迟长孙慕容令狐宇文钟离司马诸葛欧阳轩辕百里第五拓跋纳兰爱新觉罗
        """
    static let surnames = Set(surnameCharacters)

    /// Reads `rect` (a line's value) of `image` as one line.
    func read(_ rect: PixelRect, of image: LeptonicaImage) -> OCRText {
        let box = Self.margined(rect, within: image)
        var best: OCRText?
        for (zoom, raw) in Self.zooms.map({ ($0, false) }) + Self.zooms.prefix(2).map({ ($0, true) })
        where Date() < deadline && (best == nil || !hurried) {
            let value = engine.readLine(box, of: image, zoom: zoom, raw: raw, deadline: deadline)
            if value.minConfidence > best?.minConfidence ?? -1 { best = value }
            if value.minConfidence >= Self.sureConfidence { break }
        }
        guard let best else { return OCRText(text: "", minConfidence: 0) }
        return OCRText(text: Self.trimmed(best.text), minConfidence: best.minConfidence)
    }

    // MARK: - What counts as a field (pure, tested on their own)

    static var birthMarker: Regex<Substring> { /[0-9]{4}年|年.*月/ }
    /// The start of a validity, "2018.03.20-…" (the dots may be lost in the layout pass), or 长期.
    /// (The dash of a blurred photo is sometimes read as a dot: a second date after it counts too.)
    static var dottedDate: Regex<Substring> { /[0-9]{4}\.?[0-9]{2}\.?[0-9]{2}(?:[-—~至]|\.[0-9]{4})|长期/ }

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
        // (The dash read as a dot is taken before a second date.)
        guard let m = text.firstMatch(of: /([0-9]{4})\.?([0-9]{2})\.?([0-9]{2})(?:-+|\.(?=[0-9]{4}))(长期|([0-9]{4})\.?([0-9]{2})\.?([0-9]{2}))/),
            let from = CivilDate(year: Int(m.output.1)!, month: Int(m.output.2)!, day: Int(m.output.3)!)
        else { return nil }
        if m.output.4 == "长期" { return (from, .longTerm) }
        guard let y = m.output.5.flatMap({ Int($0) }), let mo = m.output.6.flatMap({ Int($0) }), let d = m.output.7.flatMap({ Int($0) }),
            let until = CivilDate(year: y, month: mo, day: d),
            [5, 10, 20].contains(until.year - from.year), until.month == from.month, abs(until.day - from.day) <= 1
        else { return nil }
        return (from, .date(until))
    }

    /// The value after 民族 (or the group the line ends with), if it is one of the 56 recognized ethnic groups.
    static func ethnicity(in line: String) -> String? {
        let text = line.filter(isChinese)
        if let range = text.range(of: "民族") {
            let after = String(text[range.upperBound...])
            if let group = ethnicGroups.first(where: { after == $0 }) { return group }
        }
        return ethnicGroups.filter { text.hasSuffix($0) }.max { $0.count < $1.count }
    }

    /// The 56 ethnic groups as a card prints them (民族 without 族).
    static let ethnicGroups: [String] = [
        "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克",
        "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌",
        "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
        "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
    ]
}
