import CPangoCairo
import Foundation

/// A small picture of one glyph's ink (0 = paper, 1 = full ink), and the middle of its ink's bounding box.
struct GlyphInk: Sendable {
    var width: Int
    var height: Int
    var ink: [Float]
    var centerX: Float
    var centerY: Float

    init(width: Int, height: Int, ink: [Float]) {
        self.width = width
        self.height = height
        self.ink = ink
        // The middle of what is clearly ink (the same threshold for a photo's glyph and a drawn one).
        var left = width, right = -1, top = height, bottom = -1
        for y in 0..<height {
            for x in 0..<width where ink[y * width + x] > 0.35 {
                left = min(left, x); right = max(right, x); top = min(top, y); bottom = max(bottom, y)
            }
        }
        centerX = right < 0 ? Float(width) / 2 : Float(left + right) / 2
        centerY = bottom < 0 ? Float(height) / 2 : Float(top + bottom) / 2
    }

    var isBlank: Bool { !ink.contains { $0 > 0.35 } }

    /// Blurred with a Gaussian of `sigma` pixels (a sharp drawing made to look like a photo's print).
    func blurred(_ sigma: Float) -> GlyphInk {
        guard sigma > 0 else { return self }
        let radius = Int((sigma * 2.5).rounded(.up))
        var kernel = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        // Grown by the radius on every side so that nothing blurs off the edge.
        let w = width + 2 * radius, h = height + 2 * radius
        var wide = [Float](repeating: 0, count: w * h)
        var across = [Float](repeating: 0, count: w * h)
        ink.withUnsafeBufferPointer { source in
            wide.withUnsafeMutableBufferPointer { wide in
                across.withUnsafeMutableBufferPointer { across in
                    kernel.withUnsafeBufferPointer { k in
                        // Across, from the source straight into the grown picture's rows.
                        for y in 0..<height {
                            let row = (y + radius) * w
                            for x in 0..<w {
                                var sum: Float = 0
                                // Grown column x holds source column x - radius; the kernel is symmetric.
                                for i in max(0, x - 2 * radius)...min(width - 1, x) { sum += source[y * width + i] * k[x - i] }
                                across[row + x] = sum
                            }
                        }
                        // Then down.
                        for y in 0..<h {
                            for x in 0..<w {
                                var sum: Float = 0
                                for j in max(0, y - radius)...min(h - 1, y + radius) { sum += across[j * w + x] * k[j - y + radius] }
                                wide[y * w + x] = sum
                            }
                        }
                    }
                }
            }
        }
        return GlyphInk(width: w, height: h, ink: wide)
    }

    /// Half the size each way (each 2 x 2 pixels averaged), for a quicker comparison.
    func halved() -> GlyphInk {
        let w = width / 2, h = height / 2
        var small = [Float](repeating: 0, count: w * h)
        ink.withUnsafeBufferPointer { c in
            for y in 0..<h {
                for x in 0..<w {
                    let i = 2 * y * width + 2 * x
                    small[y * w + x] = (c[i] + c[i + 1] + c[i + width] + c[i + width + 1]) / 4
                }
            }
        }
        return GlyphInk(width: w, height: h, ink: small)
    }

    /// How alike a `template` placed on this picture is, its ink's middle on this one's moved by up to `reach` pixels
    /// each way: the best normalised cross-correlation (1 = the same picture but for brightness and contrast, 0 =
    /// unrelated), the template counting as paper outside its own box.
    func similarity(to template: GlyphInk, reach: Int) -> Float {
        let n = Float(ink.count)
        var sumC: Float = 0, sumCC: Float = 0
        for v in ink { sumC += v; sumCC += v * v }
        let varC = sumCC - sumC * sumC / n
        guard varC > 0 else { return 0 }
        let baseX = Int((centerX - template.centerX).rounded()), baseY = Int((centerY - template.centerY).rounded())
        var best: Float = -1
        ink.withUnsafeBufferPointer { c in
            template.ink.withUnsafeBufferPointer { t in
                for dy in -reach...reach {
                    for dx in -reach...reach {
                        let ox = baseX + dx, oy = baseY + dy
                        var sumT: Float = 0, sumTT: Float = 0, sumCT: Float = 0
                        let y0 = max(0, -oy), y1 = min(template.height, height - oy)
                        let x0 = max(0, -ox), x1 = min(template.width, width - ox)
                        guard y0 < y1, x0 < x1 else { continue }
                        for ty in y0..<y1 {
                            let tRow = ty * template.width, cRow = (ty + oy) * width + ox
                            for tx in x0..<x1 {
                                let tv = t[tRow + tx]
                                sumT += tv
                                sumTT += tv * tv
                                sumCT += tv * c[cRow + tx]
                            }
                        }
                        let varT = sumTT - sumT * sumT / n
                        guard varT > 0 else { continue }
                        best = max(best, (sumCT - sumC * sumT / n) / (varC * varT).squareRoot())
                    }
                }
            }
        }
        return best
    }
}

/// Draws characters as the card's font prints them (Noto Sans CJK SC, Debian's fonts-noto-cjk, through pango and
/// cairo), one glyph's ink per drawing. Each drawing has its own cairo surface and pango layout (and pango's default
/// font map is per thread), so readers on several threads draw at once.
enum GlyphDrawer {
    static let family = "Noto Sans CJK SC"

    /// The ink of `character` drawn `size` pixels to the em, cut to its ink with a pixel of paper around; nil when
    /// nothing is drawn (a character the font lacks draws its fallback's glyph, which still is ink).
    static func draw(_ character: Character, size: Float) -> GlyphInk? {
        let side = Int32((size * 2).rounded(.up))
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_A8, side, side) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        defer { cairo_destroy(cr) }
        guard let layout = pango_cairo_create_layout(cr) else { return nil }
        defer { yidai_g_object_unref(UnsafeMutableRawPointer(layout)) }
        let font = pango_font_description_new()
        defer { pango_font_description_free(font) }
        pango_font_description_set_family(font, family)
        pango_font_description_set_absolute_size(font, Double(size) * Double(yidai_pango_scale()))
        pango_layout_set_font_description(layout, font)
        pango_layout_set_text(layout, String(character), -1)
        cairo_set_source_rgba(cr, 0, 0, 0, 1)
        cairo_move_to(cr, Double(size) / 2, Double(size) / 4)
        pango_cairo_show_layout(cr, layout)
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return nil }
        let stride = Int(cairo_image_surface_get_stride(surface)), n = Int(side)
        var left = n, right = -1, top = n, bottom = -1
        for y in 0..<n {
            for x in 0..<n where data[y * stride + x] > 0 {
                left = min(left, x); right = max(right, x); top = min(top, y); bottom = max(bottom, y)
            }
        }
        guard right >= 0 else { return nil }
        left = max(0, left - 1); top = max(0, top - 1); right = min(n - 1, right + 1); bottom = min(n - 1, bottom + 1)
        let w = right - left + 1, h = bottom - top + 1
        var ink = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w { ink[y * w + x] = Float(data[(y + top) * stride + x + left]) / 255 }
        }
        return GlyphInk(width: w, height: h, ink: ink)
    }
}

/// Reads the glyphs of a printed name by comparing each with the font's own drawing of every likely character
/// (template matching), to check what Tesseract read. Tesseract's chi_sim model confuses some characters of blurred
/// print that are plain to see (邹 read as 乌, 闫 as 关, 磊 as 短): the drawing of the character actually printed is far
/// more alike than the drawing of the one read. Used only to choose between what was read and the likely characters
/// of its place in a name (surnames first, common given-name characters after), and only when the drawing of
/// another is clearly more alike. On names printed in another typeface (Droid Sans Fallback) the drawings still put
/// 10 of the 13 glyphs they overruled right and overruled no right reading (BENCHMARKS.md, ID-card OCR).
struct GlyphMatcher {
    /// Pixels to the em that glyphs are compared at (a photo's glyph is scaled to it).
    static let em: Float = 32

    /// Every likely character drawn once at half size, blurred: the first, quick comparison (with the glyph halved).
    static let quickTemplates: [Character: GlyphInk] = {
        var templates: [Character: GlyphInk] = [:]
        for c in IDCardTextReader.surnames.union(givenNameCharacters) {
            if let drawn = GlyphDrawer.draw(c, size: em / 2) { templates[c] = drawn.blurred(1) }
        }
        return templates
    }()

    /// Characters common in given names, about 670 of them (from the usual published lists of the characters most
    /// used in given names, each generation's fashions included), for the glyphs of a name after the surname.
    static let givenNameCharacters = Set("""
        伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彬鹏辉建国家宇浩宁晨欣怡佳雪琳晓东海波志宏梅亮斌飞婷\
        丹文博凯俊峰雨思源子轩梓涵一诺嘉豪小春云龙林成新中立永生金荣福祥德胜利民安清正光天瑞晶颖慧婉娇媛洁倩琪瑶璐菲蓉莉莎\
        薇蕾雯露霖鑫森淼焱垚品众月星辰阳晴朗爽翔鸿鹤凤鸾雁鹰莺鸣诗书画琴棋韵音乐欢喜庆吉如意美好善良忠孝仁义礼智信勤俭廉富\
        贵禄寿康健长久远大高深厚广宽岸毅柔顺和睦谐悦然慰笑颜开心灵雅致淑贤惠娴约媚馨香芝蕙荷莲菊竹松柏杨柳桃李杏梨樱枫桐楠\
        榕槐椿樟梧栋梁材彦雄壮猛威武振兴旺盛昌隆泰祯祺霓虹霜雾电风晖曦旭昊昱晟晔暄曜昭显炜煜烨焕炎灿烁彤朱赤橙绿青蓝紫碧翠\
        珠宝珍琼瑾瑜璋琦璇珑珊瑚琥珀钰铭锋钧锦铮镇银铜铁钢锐钦石岩岭峦崇嵩岳山川河江湖浪潮泉溪涧潭渊瀚溢滔沧澜漪澄淳澈润泽\
        沛汉涌流沐浴学想念向愿怀胸襟行道理仪敬诚实真容倩影姿态袅妍妙姝嫣妮娅婕嫦姣妤婧婵珺若依语宸睿皓熙航奕可昕悠朵蕊苗萱\
        菁莹萌茜蔓芸芊芮茹蓓蒙卫方秋冬夏继承传世代先启育培树政法律力功业绩节丰收满全齐备会合同跃进凯旋邦定宜佩佑俐倚傲儒克\
        兆冠冰凌函则创加务劲勋北升卓南占友双叔古叶君吾呈咏哲唐圣坤城基堂境增士壹复奇奋妃妹姐姗孜孟季宗宝宣宥寅寒寰尊少尚州\
        巧帆希师庚廷弘归彩征忆恒恩情惟慈戈才抒挺斐昂易晋晗曼朋望朝木本杉枝柯栩格梦楚毓水池沁治泓津洪洲渝湘溥潇烽爱特琛瑛璟\
        甜田甲申男畅登白皎益盈瞻知祖神禹程稳穆空章童筠纯纹纪练绍维绮缘羡羽翊耀聪舒艺艾芙花芷苑茂茵荔萧蔚蕴薪虎衡裕西言誉谦\
        谷豫贞贺赛越路达迪迎运逸郁采里重野钟铃锡闻阁霄霏靖韬颂飒飘驰骏魁鸥麟麒黎鼎
        """.filter { !$0.isWhitespace && $0 != "\\" })

    /// A glyph whose best drawing is at least this alike, and more alike than the drawing of what was read by at
    /// least `margin`, is taken to be that character. (On the checked-in generated set the 13 glyphs put right matched
    /// the right drawing at 0.81 to 0.98 and beat the drawing of the character read by 0.08 to 0.52.)
    static let minimumSimilarity: Float = 0.75
    static let margin: Float = 0.08

    /// Scales and blurs tried for the close comparison: type sizes and focus differ from photo to photo.
    static let scales: [Float] = [0.92, 1, 1.08]
    static let blurs: [Float] = [0.9, 1.8]
    /// How many of the quick comparison's best are compared closely.
    static let closeCandidates = 6

    /// The glyphs of a name printed in `rect` of `image` (8-bit grey), `count` of them side by side, each a square
    /// of about the line's height: nil when the line is not shaped like `count` such glyphs.
    static func glyphs(in rect: PixelRect, of image: LeptonicaImage, count: Int) -> [GlyphInk]? {
        guard count >= 1, rect.height >= 6 else { return nil }
        // A CJK glyph's ink is about 0.9 of the em across and down, and glyphs follow one an em apart.
        let pitch = (Float(rect.width) + 0.1 * Float(rect.height)) / Float(count)
        guard (0.8...1.5).contains(pitch / Float(rect.height)) else { return nil }
        let margin = rect.padded(Int(pitch / 2), Int(pitch / 3), within: image.width, image.height)
        guard let clip = image.clipped(to: margin), let levels = clip.greyLevels() else { return nil }
        let w = clip.width
        // Paper is what most of the margined line is; full ink is the darkest print inside the line.
        let paper = Float(InkPage.percentile(levels, 0.9))
        var inside: [UInt8] = []
        for y in (rect.y - margin.y)..<(rect.bottom - margin.y) {
            for x in (rect.x - margin.x)..<(rect.right - margin.x) { inside.append(levels[y * w + x]) }
        }
        let full = Float(InkPage.percentile(inside, 0.03))
        guard paper - full >= 24 else { return nil }
        let scale = em / pitch
        return (0..<count).map { i in
            // The cell of glyph i, with a little of its neighbours (the comparison finds the glyph in it).
            let left = Float(rect.x - margin.x) + Float(i) * Float(rect.width) / Float(count) - 2
            let right = Float(rect.x - margin.x) + Float(i + 1) * Float(rect.width) / Float(count) + 2
            let top = Float(rect.y - margin.y) - 4, bottom = Float(rect.bottom - margin.y) + 4
            let cw = Int(((right - left) * scale).rounded()), ch = Int(((bottom - top) * scale).rounded())
            var ink = [Float](repeating: 0, count: cw * ch)
            for v in 0..<ch {
                for u in 0..<cw {
                    // Bilinear sampling of the grey levels, as ink.
                    let sx = left + (Float(u) + 0.5) / scale - 0.5, sy = top + (Float(v) + 0.5) / scale - 0.5
                    guard sx >= max(0, left), sx <= min(Float(w - 1), right), sy >= 0, sy <= Float(clip.height - 1) else { continue }
                    let x0 = Int(sx), y0 = Int(sy), x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, clip.height - 1)
                    let fx = sx - Float(x0), fy = sy - Float(y0)
                    let grey =
                        (Float(levels[y0 * w + x0]) * (1 - fx) + Float(levels[y0 * w + x1]) * fx) * (1 - fy)
                        + (Float(levels[y1 * w + x0]) * (1 - fx) + Float(levels[y1 * w + x1]) * fx) * fy
                    ink[v * cw + u] = min(1, max(0, (paper - grey) / (paper - full)))
                }
            }
            return GlyphInk(width: cw, height: ch, ink: ink)
        }
    }

    /// How alike `glyph` is to `character` at its closest: every scale and blur tried.
    static func closeSimilarity(_ glyph: GlyphInk, _ character: Character) -> Float {
        var best: Float = -1
        for scale in scales {
            guard let drawn = GlyphDrawer.draw(character, size: em * scale) else { continue }
            for blur in blurs { best = max(best, glyph.similarity(to: drawn.blurred(blur), reach: 3)) }
        }
        return best
    }

    /// What a glyph read as `read` most likely is among `candidates` (and `read` itself): the best drawing and how
    /// alike it is, with how alike the drawing of `read` is.
    static func bestMatch(_ glyph: GlyphInk, read: Character, among candidates: Set<Character>) -> (character: Character, similarity: Float, readSimilarity: Float) {
        let half = glyph.halved()
        let quick = candidates.compactMap { c in quickTemplates[c].map { (c, half.similarity(to: $0, reach: 1)) } }
        let shortlist = quick.sorted { $0.1 > $1.1 }.prefix(closeCandidates).map(\.0)
        let readSimilarity = closeSimilarity(glyph, read)
        var best = (character: read, similarity: readSimilarity)
        for c in shortlist where c != read {
            let s = closeSimilarity(glyph, c)
            if s > best.similarity { best = (c, s) }
        }
        return (best.character, best.similarity, readSimilarity)
    }

    /// `name` (as Tesseract read it from `rect`) with each glyph that is clearly another likely character put
    /// right, and the least similarity of a changed glyph (nil when nothing changed, or the line cannot be cut
    /// into the name's glyphs).
    static func corrected(_ name: String, at rect: PixelRect, of image: LeptonicaImage) -> (name: String, similarity: Float)? {
        let characters = Array(name)
        guard (2...4).contains(characters.count), characters.allSatisfy(IDCardTextReader.isChinese),
            let glyphs = glyphs(in: rect, of: image, count: characters.count)
        else { return nil }
        var fixed = characters
        var least: Float?
        for (i, glyph) in glyphs.enumerated() where !glyph.isBlank {
            let match = bestMatch(glyph, read: characters[i], among: i == 0 ? IDCardTextReader.surnames : givenNameCharacters)
            if match.character != characters[i], match.similarity >= minimumSimilarity, match.similarity - match.readSimilarity >= margin {
                fixed[i] = match.character
                least = min(least ?? 1, match.similarity)
            }
        }
        return least.map { (String(fixed), $0) }
    }
}
