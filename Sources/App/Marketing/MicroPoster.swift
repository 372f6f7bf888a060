import CPangoCairo
import Foundation
import Providers

/// What a customer manager's micro-poster says. Every text comes from here, and every rate from the active policy.
struct PosterContent: Sendable, Equatable {
    var lender: String
    var productName: String
    var headline: String
    var features: [String]
    var aprLabel: String
    /// The APR range the active policy can give (`OfferedRates.rangeText`).
    var aprRange: String
    var aprNote: String
    var managerName: String
    var branchName: String
    var managerCode: String
    var callToAction: String
    /// The address the QR code holds (`/?cm=CODE&ch=qr`).
    var qrURL: String
    var riskNotice: String
    var footnote: String

    /// The risk notice as its two sentences (drawn on two lines): "贷款有风险，借款需谨慎。" and the rest.
    var riskNoticeLines: [String] {
        guard let end = riskNotice.firstIndex(of: "。") else { return [riskNotice] }
        let first = String(riskNotice[...end])
        let rest = String(riskNotice[riskNotice.index(after: end)...])
        return rest.isEmpty ? [first] : [first, rest]
    }

    static func make(rates: OfferedRates, managerName: String, branchName: String, managerCode: String, qrURL: String) -> PosterContent {
        PosterContent(
            lender: ContractContent.lenderName,
            productName: "个人消费贷款",
            headline: "手机申请 · 智能核额 · 全程线上",
            features: ["身份在线核验", "电子合同签署", "还款计划随时可查"],
            aprLabel: "年化利率（APR）",
            aprRange: rates.rangeText,
            aprNote: "年化利率按内部收益率（IRR）法计算，已含全部费用\n实际额度与利率以审批结果为准",
            managerName: managerName,
            branchName: branchName,
            managerCode: managerCode,
            callToAction: "微信扫一扫  在线申请",
            qrURL: qrURL,
            riskNotice: AdvertWording.riskNotice,
            footnote: "贷款人：\(ContractContent.lenderName)　借款仅限合法消费用途")
    }
}

/// The micro-poster's designs (`template=1|2`).
enum PosterTemplate: Int, CaseIterable, Sendable {
    /// Deep blue header, the APR on a white card, the code beside the manager's card.
    case classic = 1
    /// Warm paper, a dark red band, everything centred, the code large in a gold frame.
    case warm = 2

    var titleZh: String {
        switch self {
        case .classic: "经典蓝"
        case .warm: "暖金简约"
        }
    }
}

struct RenderedPoster: Sendable {
    let png: Data
    /// Every text drawn, in order (what the tests read, since a PNG holds no text).
    let texts: [String]
}

struct PosterRenderingError: Error, CustomStringConvertible {
    let description: String
}

/// Draws a micro-poster for WeChat Moments: a 750 × 1334 PNG (pango for the Chinese text in Noto Sans CJK SC, cairo
/// for the shapes and the QR code). A text with wording banned in loan adverts, or a glyph the font lacks, stops it.
enum MicroPoster {
    static let width = 750
    static let height = 1334

    static func render(_ content: PosterContent, template: PosterTemplate) throws -> RenderedPoster {
        let code = try QRCode(content.qrURL)
        PDFRenderer.lock.lock()
        defer { PDFRenderer.lock.unlock() }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
            throw PosterRenderingError(description: "cairo could not create an image surface")
        }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw PosterRenderingError(description: "cairo could not create a context") }
        defer { cairo_destroy(cr) }
        guard let context = pango_cairo_create_context(cr) else { throw PosterRenderingError(description: "pango could not create a context") }
        defer { yidai_g_object_unref(UnsafeMutableRawPointer(context)) }
        pango_cairo_context_set_resolution(context, 72)
        let options = cairo_font_options_create()
        defer { cairo_font_options_destroy(options) }
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        pango_cairo_context_set_font_options(context, options)
        let pen = PosterPen(cr: cr, context: context)
        defer { pen.release() }
        switch template {
        case .classic: try drawClassic(content, code, pen)
        case .warm: try drawWarm(content, code, pen)
        }
        guard let png = QRCode.pngData(surface) else { throw PosterRenderingError(description: "cairo could not write the PNG") }
        return RenderedPoster(png: png, texts: pen.texts)
    }

    // MARK: - Template 1: classic blue

    static func drawClassic(_ c: PosterContent, _ code: QRCode, _ pen: PosterPen) throws {
        let w = Double(width)
        let margin = 56.0
        pen.fill(0, 0, w, Double(height), .rgb(0xF3F6FB))
        pen.gradient(0, 0, w, 760, from: .rgb(0x0A3A8C), to: .rgb(0x1E66D8))
        // Soft circles behind the header, for depth.
        pen.circle(660, 120, 220, .rgba(0xFFFFFF, 0.06))
        pen.circle(90, 640, 160, .rgba(0xFFFFFF, 0.05))

        try pen.text(c.lender, x: margin, y: 56, width: w - 2 * margin, size: 26, weight: .bold, color: .rgb(0xFFFFFF))
        pen.fill(margin, 100, 64, 4, .rgb(0xF5C451))
        try pen.text(c.productName, x: margin, y: 140, width: w - 2 * margin, size: 72, weight: .heavy, color: .rgb(0xFFFFFF))
        try pen.text(c.headline, x: margin, y: 240, width: w - 2 * margin, size: 34, color: .rgba(0xFFFFFF, 0.92))
        var chipX = margin
        for feature in c.features {
            let chipWidth = pen.measure(feature, size: 24, weight: .normal).width + 36
            pen.roundedRect(chipX, 308, chipWidth, 46, 23, .rgba(0xFFFFFF, 0.16))
            try pen.text(feature, x: chipX + 18, y: 316, width: chipWidth, size: 24, color: .rgb(0xFFFFFF))
            chipX += chipWidth + 14
        }

        // The APR card.
        pen.roundedRect(margin, 400, w - 2 * margin, 300, 24, .rgb(0xFFFFFF))
        try pen.text(c.aprLabel, x: margin, y: 436, width: w - 2 * margin, size: 30, color: .rgb(0x4A5568), align: .center)
        try pen.text(c.aprRange, x: margin, y: 484, width: w - 2 * margin, size: 84, weight: .heavy, color: .rgb(0x0A3A8C), align: .center)
        try pen.text(c.aprNote, x: margin + 40, y: 610, width: w - 2 * margin - 80, size: 20, color: .rgb(0x718096), align: .center)

        // The manager's card with the code.
        let cardY = 760.0
        pen.roundedRect(margin, cardY, w - 2 * margin, 380, 24, .rgb(0xFFFFFF))
        let qrSide = 300.0
        let qrX = margin + 28
        code.draw(on: pen.cr, x: qrX, y: cardY + 40, side: qrSide)
        let infoX = qrX + qrSide + 30
        let infoWidth = w - margin - 24 - infoX
        try pen.text("您的专属客户经理", x: infoX, y: cardY + 52, width: infoWidth, size: 24, color: .rgb(0x718096))
        try pen.text(c.managerName, x: infoX, y: cardY + 96, width: infoWidth, size: 52, weight: .bold, color: .rgb(0x1A202C))
        try pen.text(c.branchName, x: infoX, y: cardY + 172, width: infoWidth, size: 28, color: .rgb(0x2D3748))
        try pen.text("工号 \(c.managerCode)", x: infoX, y: cardY + 216, width: infoWidth, size: 22, color: .rgb(0x718096))
        pen.roundedRect(infoX, cardY + 276, infoWidth, 60, 30, .rgb(0x1E66D8))
        try pen.text(c.callToAction, x: infoX, y: cardY + 290, width: infoWidth, size: 24, weight: .bold, color: .rgb(0xFFFFFF), align: .center)

        // The risk notice and the lender.
        pen.fill(margin, 1164, w - 2 * margin, 1, .rgb(0xCBD5E0))
        try drawRiskNotice(c, pen, top: 1180, width: w, color: .rgb(0xC53030), footColor: .rgb(0x718096))
    }

    // MARK: - Template 2: warm and centred

    static func drawWarm(_ c: PosterContent, _ code: QRCode, _ pen: PosterPen) throws {
        let w = Double(width)
        let margin = 60.0
        let gold = PosterPen.Color.rgb(0xB7862B)
        let red = PosterPen.Color.rgb(0x8E1B1B)
        pen.fill(0, 0, w, Double(height), .rgb(0xFBF5EA))
        pen.fill(0, 0, w, 118, red)
        pen.fill(0, 118, w, 6, gold)
        try pen.text(c.lender, x: margin, y: 40, width: w - 2 * margin, size: 34, weight: .bold, color: .rgb(0xFFF6E0), align: .center)

        try pen.text(c.productName, x: margin, y: 176, width: w - 2 * margin, size: 64, weight: .heavy, color: red, align: .center)
        try pen.text(c.headline, x: margin, y: 268, width: w - 2 * margin, size: 30, color: .rgb(0x5C4A32), align: .center)

        // The APR between two gold rules.
        pen.fill(margin + 60, 348, w - 2 * margin - 120, 2, gold)
        try pen.text(c.aprLabel, x: margin, y: 372, width: w - 2 * margin, size: 28, color: .rgb(0x5C4A32), align: .center)
        try pen.text(c.aprRange, x: margin, y: 414, width: w - 2 * margin, size: 76, weight: .heavy, color: gold, align: .center)
        try pen.text(c.aprNote, x: margin + 30, y: 520, width: w - 2 * margin - 60, size: 19, color: .rgb(0x8A7A62), align: .center)
        pen.fill(margin + 60, 590, w - 2 * margin - 120, 2, gold)

        // Features in a row.
        let slot = (w - 2 * margin) / Double(c.features.count)
        for (index, feature) in c.features.enumerated() {
            let x = margin + Double(index) * slot
            pen.circle(x + slot / 2, 636, 8, gold)
            try pen.text(feature, x: x, y: 656, width: slot, size: 24, color: .rgb(0x3D3020), align: .center)
        }

        // The code, large, in a gold frame.
        let qrSide = 340.0
        let qrX = (w - qrSide) / 2
        let qrY = 730.0
        pen.roundedRect(qrX - 18, qrY - 18, qrSide + 36, qrSide + 36, 20, gold)
        pen.roundedRect(qrX - 8, qrY - 8, qrSide + 16, qrSide + 16, 12, .rgb(0xFFFFFF))
        code.draw(on: pen.cr, x: qrX, y: qrY, side: qrSide)
        try pen.text(c.callToAction, x: margin, y: qrY + qrSide + 34, width: w - 2 * margin, size: 28, weight: .bold, color: red, align: .center)
        try pen.text("客户经理 \(c.managerName)　\(c.branchName)　工号 \(c.managerCode)", x: margin, y: qrY + qrSide + 80,
                     width: w - 2 * margin, size: 24, color: .rgb(0x3D3020), align: .center)

        pen.fill(0, 1196, w, 138, .rgb(0xF3E8D3))
        try drawRiskNotice(c, pen, top: 1208, width: w, color: red, footColor: .rgb(0x8A7A62))
    }

    /// The risk notice (its first sentence large and bold, the second below it) and the lender, centred.
    static func drawRiskNotice(_ c: PosterContent, _ pen: PosterPen, top: Double, width w: Double, color: PosterPen.Color, footColor: PosterPen.Color) throws {
        var y = top
        for (index, line) in c.riskNoticeLines.enumerated() {
            y += try pen.text(line, x: 40, y: y, width: w - 80, size: index == 0 ? 28 : 22, weight: index == 0 ? .heavy : .bold, color: color, align: .center) + 2
        }
        try pen.text(c.footnote, x: 40, y: y + 6, width: w - 80, size: 19, color: footColor, align: .center)
    }
}

/// Draws on the poster: text through pango (checked against the banned list and the font first), shapes through
/// cairo. Coordinates and sizes in pixels.
final class PosterPen {
    struct Color {
        let r: Double
        let g: Double
        let b: Double
        let a: Double

        static func rgb(_ hex: UInt32) -> Color { rgba(hex, 1) }
        static func rgba(_ hex: UInt32, _ alpha: Double) -> Color {
            Color(r: Double((hex >> 16) & 0xFF) / 255, g: Double((hex >> 8) & 0xFF) / 255, b: Double(hex & 0xFF) / 255, a: alpha)
        }
    }

    enum Weight {
        case normal, bold, heavy

        var pango: PangoWeight {
            switch self {
            case .normal: PANGO_WEIGHT_NORMAL
            case .bold: PANGO_WEIGHT_BOLD
            case .heavy: PANGO_WEIGHT_HEAVY
            }
        }
    }

    enum Align {
        case left, center

        var pango: PangoAlignment { self == .left ? PANGO_ALIGN_LEFT : PANGO_ALIGN_CENTER }
    }

    let cr: OpaquePointer
    let layout: OpaquePointer
    private(set) var texts: [String] = []

    init(cr: OpaquePointer, context: OpaquePointer) {
        self.cr = cr
        self.layout = pango_layout_new(context)
    }

    func release() { yidai_g_object_unref(UnsafeMutableRawPointer(layout)) }

    private func set(_ color: Color) { cairo_set_source_rgba(cr, color.r, color.g, color.b, color.a) }

    private func prepare(_ text: String, width: Double?, size: Double, weight: Weight, align: Align) {
        let scale = Double(yidai_pango_scale())
        let font = pango_font_description_new()
        defer { pango_font_description_free(font) }
        pango_font_description_set_family(font, PDFRenderer.fontFamily)
        pango_font_description_set_absolute_size(font, size * scale)
        pango_font_description_set_weight(font, weight.pango)
        pango_layout_set_font_description(layout, font)
        pango_layout_set_width(layout, width.map { Int32($0 * scale) } ?? -1)
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
        pango_layout_set_alignment(layout, align.pango)
        pango_layout_set_line_spacing(layout, 1.25)
        pango_layout_set_text(layout, text, -1)
    }

    func measure(_ text: String, size: Double, weight: Weight) -> (width: Double, height: Double) {
        prepare(text, width: nil, size: size, weight: weight, align: .left)
        var w: Int32 = 0
        var h: Int32 = 0
        pango_layout_get_pixel_size(layout, &w, &h)
        return (Double(w), Double(h))
    }

    /// Draws `text` with its top left at (`x`, `y`), wrapped to `width`; returns its height.
    @discardableResult
    func text(_ text: String, x: Double, y: Double, width: Double, size: Double, weight: Weight = .normal, color: Color,
              align: Align = .left) throws -> Double {
        let banned = AdvertWording.violations(in: text)
        guard banned.isEmpty else {
            throw PosterRenderingError(description: "the poster text \"\(text)\" has wording banned in loan adverts: \(banned.joined(separator: ", "))")
        }
        prepare(text, width: width, size: size, weight: weight, align: align)
        guard pango_layout_get_unknown_glyphs_count(layout) == 0 else {
            throw PosterRenderingError(description: "the font \(PDFRenderer.fontFamily) lacks glyphs of \"\(text)\" (Debian: apt-get install fonts-noto-cjk)")
        }
        set(color)
        cairo_move_to(cr, x, y)
        pango_cairo_show_layout(cr, layout)
        texts.append(text)
        var w: Int32 = 0
        var h: Int32 = 0
        pango_layout_get_pixel_size(layout, &w, &h)
        return Double(h)
    }

    func fill(_ x: Double, _ y: Double, _ width: Double, _ height: Double, _ color: Color) {
        set(color)
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }

    func roundedRect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, _ radius: Double, _ color: Color) {
        set(color)
        cairo_new_sub_path(cr)
        cairo_arc(cr, x + width - radius, y + radius, radius, -Double.pi / 2, 0)
        cairo_arc(cr, x + width - radius, y + height - radius, radius, 0, Double.pi / 2)
        cairo_arc(cr, x + radius, y + height - radius, radius, Double.pi / 2, Double.pi)
        cairo_arc(cr, x + radius, y + radius, radius, Double.pi, 3 * Double.pi / 2)
        cairo_close_path(cr)
        cairo_fill(cr)
    }

    func circle(_ x: Double, _ y: Double, _ radius: Double, _ color: Color) {
        set(color)
        cairo_new_sub_path(cr)
        cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(cr)
    }

    func gradient(_ x: Double, _ y: Double, _ width: Double, _ height: Double, from: Color, to: Color) {
        guard let pattern = cairo_pattern_create_linear(x, y, x + width, y + height) else { return fill(x, y, width, height, from) }
        defer { cairo_pattern_destroy(pattern) }
        cairo_pattern_add_color_stop_rgb(pattern, 0, from.r, from.g, from.b)
        cairo_pattern_add_color_stop_rgb(pattern, 1, to.r, to.g, to.b)
        cairo_set_source(cr, pattern)
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }
}
