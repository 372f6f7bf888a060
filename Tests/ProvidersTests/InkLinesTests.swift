import Testing

@testable import Providers

/// Finding a card's lines from its ink (InkPage, InkLine), on drawn pages: no engine, no photo.
@Suite("Lines of print found from the ink")
struct InkLinesTests {
    /// A 640 x 400 page of white (level 200) with dark blocks (level 40, or `label`'s lighter 120) standing in for print.
    struct Page {
        var levels = [UInt8](repeating: 200, count: 640 * 400)

        mutating func fill(_ r: PixelRect, level: UInt8 = 40) {
            for y in r.y..<r.bottom { for x in r.x..<r.right { levels[y * 640 + x] = level } }
        }

        /// Characters `size` pixels square, 3 pixels apart, from x for `count` characters.
        mutating func text(x: Int, y: Int, count: Int, size: Int = 20, level: UInt8 = 40) {
            for i in 0..<count { fill(PixelRect(x: x + i * (size + 3), y: y, width: size, height: size), level: level) }
        }

        var ink: InkPage {
            let flags = InkPage.withoutSurroundings(levels.map { $0 < 150 }, 640, 400)
            return InkPage(width: 640, height: 400, ink: flags, levels: levels)
        }
    }

    @Test("a label faded below the ink threshold is found as faint print two to six line heights before its value; the card's edge and dark print are not")
    func faintLabels() {
        var page = Page()
        // 姓名 in faint strokes (level 175 on paper 200: lighter than ink), its value in ink from x = 110.
        for i in 0..<2 {
            for stroke in 0..<4 { page.fill(PixelRect(x: 50 + i * 20 + stroke * 4, y: 62, width: 2, height: 14), level: 175) }
        }
        page.text(x: 110, y: 60, count: 2)
        let value = PixelRect(x: 110, y: 60, width: 43, height: 20)
        #expect(page.ink.faintPrint(leftOf: value) == 50)
        // A line with paper before it has none; nor one whose label is ink (the label is then a piece of the line).
        #expect(page.ink.faintPrint(leftOf: PixelRect(x: 110, y: 200, width: 43, height: 20)) == nil)
        var inked = Page()
        inked.text(x: 50, y: 60, count: 2, level: 120)
        inked.text(x: 110, y: 60, count: 2)
        #expect(inked.ink.faintPrint(leftOf: value) == nil)
        // The card's edge: grey from top to bottom of the line, or within a line height of the picture's edge.
        var edge = Page()
        edge.fill(PixelRect(x: 40, y: 0, width: 30, height: 400), level: 175)
        edge.text(x: 110, y: 60, count: 2)
        #expect(edge.ink.faintPrint(leftOf: value) == nil)
        var border = Page()
        for stroke in 0..<4 { border.fill(PixelRect(x: 2 + stroke * 4, y: 62, width: 2, height: 14), level: 175) }
        border.text(x: 110, y: 60, count: 2)
        #expect(border.ink.faintPrint(leftOf: value) == nil)
    }

    @Test("runs of counts join across short gaps only")
    func runs() {
        #expect(InkPage.runs([0, 3, 3, 0, 3, 0, 0, 0, 3], least: 2, bridge: 1) == [1..<5, 8..<9])
        #expect(InkPage.runs([0, 1, 0], least: 2, bridge: 1) == [])
    }

    @Test("what the card lies on, joined to the picture's edge, is not print; print on the card is")
    func surroundings() {
        var page = Page()
        page.fill(PixelRect(x: 0, y: 0, width: 640, height: 12))  // a dark strip above the card
        page.fill(PixelRect(x: 0, y: 0, width: 15, height: 400))  // and beside it
        page.text(x: 100, y: 100, count: 3)
        let lines = page.ink.lines(in: PixelRect(x: 0, y: 0, width: 640, height: 400))
        #expect(lines.count == 1)
        #expect(lines.first?.box == PixelRect(x: 100, y: 100, width: 66, height: 20))
    }

    @Test("labels and values: each line, its pieces, the lighter label, and the columns where labels and values start")
    func labelsAndValues() {
        var page = Page()
        // 姓名 | 张三;  性别 | 男  民族 | 汉;  住址 | six characters, then a second line of four under the value.
        page.text(x: 50, y: 60, count: 2, size: 16, level: 120)
        page.text(x: 110, y: 58, count: 2)
        page.text(x: 50, y: 110, count: 2, size: 16, level: 120)
        page.text(x: 110, y: 108, count: 1)
        page.text(x: 180, y: 110, count: 2, size: 16, level: 120)
        page.text(x: 240, y: 108, count: 1)
        page.text(x: 50, y: 160, count: 2, size: 16, level: 120)
        page.text(x: 110, y: 158, count: 6)
        page.text(x: 110, y: 190, count: 4)
        let lines = page.ink.lines(in: PixelRect(x: 0, y: 0, width: 640, height: 400))
        #expect(lines.count == 4)
        guard lines.count == 4 else { return }
        #expect(lines.map(\.pieces.count) == [2, 4, 2, 1])
        #expect(lines[0].cores[0] > lines[0].cores[1] + 50, "a label's print is lighter")
        let labelColumn = InkLine.labelColumn(lines, tolerance: 16)
        #expect(labelColumn == 50)
        #expect(InkLine.valueColumn(lines, labelColumn: labelColumn, tolerance: 16) == 110)
        #expect(lines[0].value(labelColumn: 50, label: true, tolerance: 16)?.x == 110)
        #expect(lines[3].value(labelColumn: 50, label: false, tolerance: 16) == lines[3].box, "a line carried over is all value")
    }

    @Test("a label run into its value is cut where the values start; a label alone has no value")
    func mergedLabel() {
        let merged = InkLine(pieces: [PixelRect(x: 50, y: 60, width: 110, height: 20)], cores: [40])
        #expect(merged.value(labelColumn: 50, valueColumn: 110, label: false, tolerance: 16) == PixelRect(x: 102, y: 60, width: 58, height: 20))
        let alone = InkLine(pieces: [PixelRect(x: 50, y: 60, width: 36, height: 20)], cores: [120])
        #expect(alone.value(labelColumn: 50, valueColumn: 110, label: true, tolerance: 16) == nil)
    }

    @Test("two lines that touch are split at the thin rows between them; one tall line is not cut in half")
    func touchingLines() {
        var page = Page()
        page.text(x: 100, y: 100, count: 8)
        page.text(x: 100, y: 121, count: 8)  // touching the line above: one band of 41 rows
        page.fill(PixelRect(x: 100, y: 120, width: 4, height: 1))  // joined by a speck
        page.text(x: 100, y: 200, count: 5)
        page.text(x: 100, y: 240, count: 5)
        page.text(x: 100, y: 300, count: 8, size: 34)  // a bigger font
        let lines = page.ink.lines(in: PixelRect(x: 0, y: 0, width: 640, height: 400))
        #expect(lines.map(\.box.height) == [20, 20, 20, 20, 34])
    }

    @Test("an upright stroke alone at a line's end (the card's edge) is not part of the line")
    func edgeStroke() {
        var page = Page()
        page.fill(PixelRect(x: 620, y: 40, width: 3, height: 300))
        page.text(x: 100, y: 100, count: 4)
        let lines = page.ink.lines(in: PixelRect(x: 0, y: 0, width: 640, height: 400))
        #expect(lines.map(\.box) == [PixelRect(x: 100, y: 100, width: 89, height: 20)])
    }
}

@Suite("Surnames the name reading may correct")
struct SurnameListTests {
    @Test("the hundred commonest surnames are known, compound ones by their first character, and the characters chi_sim puts for them are not")
    func commonSurnamesKnown() {
        // MUT + validation: a first character outside the list is read again; one inside it is left as read
        let commonest = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
        #expect(commonest.allSatisfy { IDCardTextReader.surnames.contains($0) })
        #expect("欧司诸上慕令宇".allSatisfy { IDCardTextReader.surnames.contains($0) })  // 欧阳, 司马, 诸葛, 上官, 慕容, 令狐, 宇文
        #expect(!"囊页赴雇短闽才名".contains { IDCardTextReader.surnames.contains($0) })
        #expect(IDCardTextReader.surnameCharacters.allSatisfy { IDCardTextReader.isChinese($0) })
    }
}
