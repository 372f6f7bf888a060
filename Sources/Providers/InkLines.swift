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

    init(width: Int, height: Int, ink: [Bool]) {
        precondition(ink.count == width * height)
        self.width = width
        self.height = height
        self.ink = ink
    }

    /// The ink of an 8-bit grey image: the background (card, paper) brought to one level first, so that a light
    /// ramp across the photo does not turn one end of the card into ink; then what is darker than `threshold`.
    init?(_ image: LeptonicaImage, threshold: UInt8 = 150) {
        guard let even = image.evenedLight() ?? image.copy(), let levels = even.greyLevels() else { return nil }
        self.init(width: even.width, height: even.height, ink: levels.map { $0 < threshold })
    }

    /// Ink per row of `rect`, leaving out the columns `skipping` marks (indexed from rect.x).
    func rowCounts(_ rect: PixelRect, skipping: [Bool]? = nil) -> [Int] {
        (rect.y..<rect.bottom).map { y in
            let row = y * width
            var n = 0
            for x in rect.x..<rect.right where ink[row + x] && skipping?[x - rect.x] != true { n += 1 }
            return n
        }
    }

    func columnCounts(_ rect: PixelRect) -> [Int] {
        var counts = [Int](repeating: 0, count: rect.width)
        for y in rect.y..<rect.bottom {
            let row = y * width
            for x in rect.x..<rect.right where ink[row + x] { counts[x - rect.x] += 1 }
        }
        return counts
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
            let counts = rowCounts(PixelRect(x: area.x, y: band.lowerBound, width: area.width, height: band.count), skipping: solid)
            let from = typical * 2 / 3, to = band.count - typical * 2 / 3
            guard from < to, let cut = (from..<to).min(by: { counts[$0] < counts[$1] }) else { return [band] }
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
            return print.isEmpty ? nil : InkLine(pieces: Array(print))
        }
    }
}

/// One line of print: its pieces left to right (runs of ink with narrow gaps inside: a label, a value, a word).
struct InkLine: Equatable {
    var pieces: [PixelRect]

    var box: PixelRect { pieces.dropFirst().reduce(pieces[0]) { $0.union($1) } }

    /// The x at which most lines start, within `tolerance`: the column of a card's labels (a line starting there
    /// begins with its label). Nil when no two lines start together.
    static func labelColumn(_ lines: [InkLine], tolerance: Int) -> Int? {
        let starts = lines.map { $0.pieces[0].x }.sorted()
        var best: (x: Int, count: Int)?
        for x in starts {
            let count = starts.filter { abs($0 - x) <= tolerance }.count
            if count >= 2, count > (best?.count ?? 0) { best = (x, count) }
        }
        return best?.x
    }

    /// What follows the label if the line starts at the label column (nil: a label with nothing after it), else the
    /// whole line (a value carried over, as an address's second line).
    func value(labelColumn: Int?, tolerance: Int) -> PixelRect? {
        guard let labelColumn, abs(pieces[0].x - labelColumn) <= tolerance else { return box }
        let rest = pieces.dropFirst()
        guard let first = rest.first else { return nil }
        return rest.dropFirst().reduce(first) { $0.union($1) }
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
