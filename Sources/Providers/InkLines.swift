import CTesseract
import Foundation

/// The lines of print on a card, found from the ink itself rather than by Tesseract's page layout analysis, which on
/// a small, blurred card photo drops whole lines (a validity or a name line missing from the layout is a card that
/// cannot be read at all). A card's fields are short lines well apart, so rows with ink give the lines, and within a
/// line, gaps wider than about half a character split a label from its value.
struct InkPage {
    let width: Int
    let height: Int
    /// One flag per pixel, row by row: darker than the threshold after the light was evened out.
    let ink: [Bool]
    /// The grey levels the ink was told from (after evening the light); empty when made from flags alone.
    let levels: [UInt8]

    init(width: Int, height: Int, ink: [Bool], levels: [UInt8] = []) {
        precondition(ink.count == width * height)
        self.width = width
        self.height = height
        self.ink = ink
        self.levels = levels
    }

    /// The ink of an 8-bit grey image: the background (card, paper) brought to one level first, so that a light
    /// ramp across the photo does not turn one end of the card into ink; then what is darker than `threshold`.
    init?(_ image: LeptonicaImage, threshold: UInt8 = 150) {
        guard let even = image.evenedLight() ?? image.copy(), let levels = even.greyLevels() else { return nil }
        self.init(width: even.width, height: even.height, ink: Self.withoutSurroundings(levels.map { $0 < threshold }, even.width, even.height), levels: levels)
    }

    /// Ink per row of `rect`, leaving out the columns `skipping` marks (indexed from rect.x).
    /// `ink` without what is joined to the picture's edge: what the card lies on, seen past its edge (print stands on
    /// the card, apart from the edge).
    static func withoutSurroundings(_ ink: [Bool], _ width: Int, _ height: Int) -> [Bool] {
        var ink = ink
        var stack: [Int] = []
        for x in 0..<width { stack.append(x); stack.append((height - 1) * width + x) }
        for y in 0..<height { stack.append(y * width); stack.append(y * width + width - 1) }
        while let i = stack.popLast() {
            guard ink[i] else { continue }
            ink[i] = false
            let x = i % width
            if x > 0 { stack.append(i - 1) }
            if x < width - 1 { stack.append(i + 1) }
            if i >= width { stack.append(i - width) }
            if i + width < ink.count { stack.append(i + width) }
        }
        return ink
    }

    func rowCounts(_ rect: PixelRect, skipping: [Bool]? = nil) -> [Int] {
        (rect.y..<rect.bottom).map { y in
            let row = y * width
            var n = 0
            for x in rect.x..<rect.right where ink[row + x] && skipping?[x - rect.x] != true { n += 1 }
            return n
        }
    }

    /// Where faint print starts on the rows of `line` left of it (two to six line heights before it), if there is
    /// some: clearly darker than the paper there, yet lighter than ink. A card's labels are printed lighter than its
    /// values, and in a blurred photo they can fade below the ink threshold altogether; then the lines found start
    /// where the values do. At least half a line height's columns must each hold two such pixels, which noise, the
    /// card's fine background pattern and the blurred edge of what the card lies on do not.
    func faintPrint(leftOf line: PixelRect, inkThreshold: Int = 150) -> Int? {
        guard !levels.isEmpty else { return nil }
        let h = line.height
        let left = max(0, line.x - 6 * h), right = line.x - h / 2
        guard right - left >= h, line.y >= 0, line.bottom <= height else { return nil }
        var band: [UInt8] = []
        band.reserveCapacity((right - left) * h)
        for y in line.y..<line.bottom { band.append(contentsOf: levels[(y * width + left)..<(y * width + right)]) }
        let paper = Int(Self.percentile(band, 0.5))
        var columns: [Int] = []
        for x in left..<right {
            var faint = 0, dark = 0
            for y in line.y..<line.bottom {
                let level = Int(levels[y * width + x])
                if level < inkThreshold { dark += 1 } else if level < paper - 22 { faint += 1 }
            }
            // (A column dark from top to bottom, or mostly ink, is no faded print: the card's edge, what lies beyond it.)
            if faint >= 2, faint + dark <= h * 3 / 4, dark <= faint / 2 { columns.append(x) }
        }
        // A label starts at least two line heights before its value (姓名 before the name); faint print closer is
        // a label's own lighter part, the rest of which is the ink the line starts with.
        // Nor is what lies within a line height of the picture's edge: the edge of the card, or beyond it.
        guard columns.count >= h / 2, let start = columns.first, start <= line.x - 2 * h, start >= h else { return nil }
        return start
    }

    /// The grey level that the fraction `p` (0 to 1) of `values` is darker than (0 for none).
    static func percentile(_ values: [UInt8], _ p: Double) -> UInt8 {
        guard !values.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        for v in values { counts[Int(v)] += 1 }
        let target = Int(Double(values.count) * p)
        var seen = 0
        for level in 0..<256 {
            seen += counts[level]
            if seen > target { return UInt8(level) }
        }
        return 255
    }

    func columnCounts(_ rect: PixelRect) -> [Int] {
        var counts = [Int](repeating: 0, count: rect.width)
        for y in rect.y..<rect.bottom {
            let row = y * width
            for x in rect.x..<rect.right where ink[row + x] { counts[x - rect.x] += 1 }
        }
        return counts
    }

    /// How dark a piece's print is at its darkest: the grey level that a tenth of its ink is darker than (0 when
    /// there are no levels). A card's labels are printed lighter than its values.
    func core(_ piece: PixelRect) -> Int {
        guard !levels.isEmpty else { return 0 }
        var histogram = [Int](repeating: 0, count: 256)
        var total = 0
        for y in piece.y..<piece.bottom {
            for x in piece.x..<piece.right where ink[y * width + x] {
                histogram[Int(levels[y * width + x])] += 1
                total += 1
            }
        }
        var seen = 0
        for (level, n) in histogram.enumerated() {
            seen += n
            if seen * 10 >= total { return level }
        }
        return 255
    }

    /// Runs of indices whose count is at least `least`, joined across gaps of up to `bridge` indices.
    static func runs(_ counts: [Int], least: Int, bridge: Int) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start: Int?
        var lastInk = -1
        for (i, c) in counts.enumerated() where c >= least {
            if let s = start, i - lastInk - 1 > bridge {
                runs.append(s..<(lastInk + 1))
                start = i
            } else if start == nil {
                start = i
            }
            lastInk = i
        }
        if let s = start { runs.append(s..<(lastInk + 1)) }
        return runs
    }

    /// The text lines inside `area`, top to bottom, each with its pieces (words or labels) left to right.
    func lines(in area: PixelRect) -> [InkLine] {
        let area = PixelRect(x: max(0, area.x), y: max(0, area.y), width: min(width, area.right) - max(0, area.x), height: min(height, area.bottom) - max(0, area.y))
        guard area.width > 0, area.height > 0 else { return [] }
        let least = max(2, area.width / 100)
        // What lies beside or around the card in the photo (a dark margin left by cropping) is ink in most rows or
        // most columns, and near the edges: left out of finding the lines.
        let solid = columnCounts(area).enumerated().map { x, n in n * 2 > area.height || x < area.width / 25 || x >= area.width - area.width / 25 }
        let rows = rowCounts(area, skipping: solid).map { $0 * 2 > area.width ? 0 : $0 }
        var bands = Self.runs(rows, least: least, bridge: 1).map { ($0.lowerBound + area.y)..<($0.upperBound + area.y) }
        // Lines that touch (a tilted or perspective card, lines set close) are split at their thinnest rows.
        let heights = bands.map(\.count).filter { $0 >= 8 && $0 <= width / 16 }.sorted()
        let typical = heights.isEmpty ? width / 28 : heights[heights.count / 2]
        func split(_ band: Range<Int>, depth: Int) -> [Range<Int>] {
            guard depth < 4, band.count > typical * 17 / 10 else { return [band] }
            // Counted on the left half, where every line of a card starts (what lies right of a short line, such
            // as the edge of a card photographed at a slant, does not then fill the gap under it).
            let counts = rowCounts(PixelRect(x: area.x, y: band.lowerBound, width: area.width / 2, height: band.count), skipping: solid)
            let from = typical * 2 / 3, to = band.count - typical * 2 / 3
            // Only at a clear valley: a cut through one tall line (a bigger font, a tilted line) would halve it.
            let middle = counts.sorted()[counts.count / 2]
            guard from < to, let cut = (from..<to).min(by: { counts[$0] < counts[$1] }), counts[cut] * 4 <= middle else { return [band] }
            return split(band.lowerBound..<(band.lowerBound + cut), depth: depth + 1)
                + split((band.lowerBound + cut + 1)..<band.upperBound, depth: depth + 1)
        }
        bands = bands.flatMap { split($0, depth: 0) }
        let minHeight = max(6, width / 110)
        return bands.compactMap { band in
            guard band.count >= minHeight else { return nil }
            let rect = PixelRect(x: area.x, y: band.lowerBound, width: area.width, height: band.count)
            let columns = zip(columnCounts(rect), solid).map { $1 ? 0 : $0 }
            let gap = max(5, band.count * 55 / 100)
            let pieces = Self.runs(columns, least: 1, bridge: gap - 1).compactMap { run -> PixelRect? in
                let inked = columns[run].reduce(0, +)
                // A card's border (a thin upright line) or a speck is not print.
                guard run.count >= 4, inked >= max(12, band.count) else { return nil }
                return PixelRect(x: area.x + run.lowerBound, y: band.lowerBound, width: run.count, height: band.count)
            }
            // An upright stroke standing alone at either end is the card's edge or the shadow beside it.
            // (narrower than half its height, or than its height near the picture's edge).
            let edge = width * 6 / 100
            func stroke(_ piece: PixelRect) -> Bool {
                piece.width * 2 < band.count || (piece.width * 5 < band.count * 4 && (piece.x < edge || piece.right > width - edge))
            }
            var print = pieces[...]
            while let first = print.first, stroke(first) { print = print.dropFirst() }
            while let last = print.last, stroke(last) { print = print.dropLast() }
            return print.isEmpty ? nil : InkLine(pieces: Array(print), cores: print.map(core))
        }
    }
}

/// One line of print: its pieces left to right (runs of ink with narrow gaps inside: a label, a value, a word).
struct InkLine: Equatable {
    var pieces: [PixelRect]
    /// How dark each piece is at its darkest (InkPage.core).
    var cores: [Int] = []

    var box: PixelRect { pieces.dropFirst().reduce(pieces[0]) { $0.union($1) } }

    /// The x at which most lines start, within `tolerance`: the column of a card's labels (a line starting there
    /// begins with its label). Nil when no two lines start together.
    static func labelColumn(_ lines: [InkLine], tolerance: Int) -> Int? {
        mode(lines.map { $0.pieces[0].x }, tolerance: tolerance)
    }

    /// Where the values start: the x at which most values begin (the piece after a label, or a line that is all
    /// value, as an address's second line), within `tolerance`. Nil when no two values start together.
    static func valueColumn(_ lines: [InkLine], labelColumn: Int?, tolerance: Int) -> Int? {
        let starts = lines.compactMap { line -> Int? in
            guard let labelColumn, abs(line.pieces[0].x - labelColumn) <= tolerance else { return line.pieces[0].x }
            return line.pieces.count > 1 ? line.pieces[1].x : nil
        }
        return mode(starts, tolerance: tolerance)
    }

    static func mode(_ xs: [Int], tolerance: Int) -> Int? {
        var best: (x: Int, count: Int)?
        for x in xs.sorted() {
            let count = xs.filter { abs($0 - x) <= tolerance }.count
            if count >= 2, count > (best?.count ?? 0) { best = (x, count) }
        }
        return best?.x
    }

    /// The value part of the line. `label`: whether its first piece is a label as told by its lighter print (nil when
    /// print gives no answer). A line whose first piece is a label, or that starts at the label column, has its value
    /// after the label (nil: a label with nothing after it); any other line is all value (an address's second line).
    /// A line starting at the label column whose print does not show a label where the values start (`valueColumn`)
    /// had its label run into its value (blur closes a narrow gap): it is cut at the value column.
    func value(labelColumn: Int?, valueColumn: Int? = nil, label: Bool? = nil, tolerance: Int) -> PixelRect? {
        let rest = pieces.dropFirst()
        let afterLabel = rest.first.map { first in rest.dropFirst().reduce(first) { $0.union($1) } }
        if label == true { return afterLabel }
        guard let labelColumn, abs(pieces[0].x - labelColumn) <= tolerance else { return box }
        if let valueColumn, valueColumn > labelColumn + tolerance,
            label == false || pieces.count < 2 || abs(pieces[1].x - valueColumn) > tolerance
        {
            let box = box
            let cut = valueColumn - tolerance / 2
            return box.right > cut + tolerance ? PixelRect(x: cut, y: box.y, width: box.right - cut, height: box.height) : nil
        }
        return afterLabel
    }
}

extension LeptonicaImage {
    /// The grey levels of an 8-bit image without a colour map, row by row; nil for any other image.
    func greyLevels() -> [UInt8]? {
        guard pixGetDepth(pix) == 8, pixGetColormap(pix) == nil, let data = pixGetData(pix) else { return nil }
        let w = width, h = height, wpl = Int(pixGetWpl(pix))
        var levels = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            let line = data + y * wpl
            for x in 0..<w {
                // Leptonica keeps 4 pixels per 32-bit word, the first in the most significant byte.
                levels[y * w + x] = UInt8(truncatingIfNeeded: line[x >> 2] >> UInt32(24 - 8 * (x & 3)))
            }
        }
        return levels
    }

    func copy() -> LeptonicaImage? {
        pixCopy(nil, pix).map(LeptonicaImage.init(owning:))
    }
}
