import CTesseract
import Foundation
import Testing

@testable import Providers

/// The name check that compares each printed glyph with the font's drawings of the likely characters (GlyphMatcher).
@Suite("Name glyphs compared with the font's drawings")
struct GlyphMatcherTests {
    /// A grey card strip with `text` printed on it as a blurred photo would show it: the font's drawings side by side,
    /// `em` pixels to the em, blurred, dark grey on light grey. Returns the picture and the rectangle of the print.
    static func printed(_ text: String, em: Float = 22, blur: Float = 0.9) throws -> (LeptonicaImage, PixelRect) {
        let glyphs = try text.map { try #require(GlyphDrawer.draw($0, size: em)?.blurred(blur)) }
        let width = Int(em) * (text.count + 4), height = Int(em) * 3
        let pix = try #require(pixCreate(Int32(width), Int32(height), 8))
        var ink = [Float](repeating: 0, count: width * height)
        let top = Int(em)
        for (i, glyph) in glyphs.enumerated() {
            let left = Int(em) * (2 + i) + Int(em) / 2 - glyph.width / 2, gTop = top + Int(em) / 2 - glyph.height / 2
            for y in 0..<glyph.height {
                for x in 0..<glyph.width where left + x < width && gTop + y < height {
                    ink[(gTop + y) * width + left + x] = max(ink[(gTop + y) * width + left + x], glyph.ink[y * glyph.width + x])
                }
            }
        }
        var l = width, r = 0, t = height, b = 0
        for y in 0..<height {
            for x in 0..<width {
                let v = ink[y * width + x]
                pixSetPixel(pix, Int32(x), Int32(y), UInt32(225 - 190 * v))
                if v > 0.35 { l = min(l, x); r = max(r, x); t = min(t, y); b = max(b, y) }
            }
        }
        return (LeptonicaImage(owning: pix), PixelRect(x: l, y: t, width: r - l + 1, height: b - t + 1))
    }

    @Test("a glyph is far more alike the drawing of its own character than of one Tesseract confuses it with")
    func ownDrawingIsMostAlike() throws {
        let (image, rect) = try Self.printed("邹海")
        let glyphs = try #require(GlyphMatcher.glyphs(in: rect, of: image, count: 2))
        let own = GlyphMatcher.closeSimilarity(glyphs[0], "邹"), confused = GlyphMatcher.closeSimilarity(glyphs[0], "乌")
        #expect(own >= 0.9)
        #expect(own - confused >= 0.2)
    }

    @Test("surnames Tesseract misreads on blurred print (乌海, 关娜, 麻轩雪) are put right, and the change is reported")
    func misreadSurnamesArePutRight() throws {
        for (printed, read) in [("邹海", "乌海"), ("闫娜", "关娜"), ("廖轩雪", "麻轩雪")] {
            let (image, rect) = try Self.printed(printed)
            let fixed = try #require(GlyphMatcher.corrected(read, at: rect, of: image), "\(printed)")
            #expect(fixed.name == printed)
            #expect(fixed.similarity >= GlyphMatcher.minimumSimilarity)
        }
    }

    @Test("a name read right is left alone, even with a character in no list (彧), and so is a line that is not shaped like the name")
    func rightReadingsAreLeftAlone() throws {
        for name in ["邹海", "王彧", "欧阳娜", "张一"] {
            let (image, rect) = try Self.printed(name)
            #expect(GlyphMatcher.corrected(name, at: rect, of: image) == nil, "\(name)")
        }
        // Four glyphs' width read as a two-character name: not cut into glyphs at all.
        let (image, rect) = try Self.printed("司马相如")
        #expect(GlyphMatcher.corrected("司马", at: rect, of: image) == nil)
    }
}
