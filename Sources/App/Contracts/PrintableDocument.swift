import CPangoCairo
import Foundation

/// A document laid out for print (A4): a title, headed sections of paragraphs, label/value lists and tables.
/// `PDFRenderer` turns it into a PDF with the Chinese text embedded (pango + cairo, Droid Sans Fallback).
struct PrintableDocument: Sendable {
    struct Field: Sendable, Equatable {
        let label: String
        let value: String
        /// Shown larger and bold (the amount, the rate and the APR: the APR must be as prominent as the rate).
        var prominent = false
    }

    struct Column: Sendable, Equatable {
        let title: String
        /// Share of the table's width.
        let weight: Double
        var alignRight = false
    }

    enum Block: Sendable, Equatable {
        case title(String, subtitle: String?)
        case heading(String)
        case paragraph(String)
        case note(String)
        case fields([Field])
        case table(columns: [Column], rows: [[String]])
        case space(Double)
    }

    var title: String
    var author: String
    /// Printed at the foot of every page beside "第 n 页 共 m 页".
    var footer: String
    /// The PDF's creation date (metadata). Fixed by the caller so the same content gives the same bytes.
    var createdAt: Date
    var blocks: [Block]
}

struct PDFRenderingError: Error, CustomStringConvertible {
    let description: String
}

/// Renders a `PrintableDocument` to PDF with pango (layout, line breaking, CJK shaping) on cairo's PDF surface.
/// No PDF syntax is written here: cairo writes the file and embeds subsets of the fonts it used.
enum PDFRenderer {
    /// A CJK face with TrueType outlines: cairo embeds a subset of exactly the glyphs used (a three-page contract
    /// is about 60 KB). Noto Sans CJK, a CID-keyed CFF font with 19 font dicts and ~30,000 local subroutines each,
    /// came out at 1 MB: cairo 1.16's CFF subsetter keeps a placeholder for every subroutine of every dict it
    /// touches (~35 KB a face) and, once a subset spans five dicts (Latin, digits and CJK on one page), copies one
    /// dict's 900 KB of subroutines whole. Headings use pango's synthetic bold of the same face (no second font).
    static let fontFamily = "Droid Sans Fallback"
    /// The PostScript name as it appears in the PDF (checked after rendering).
    static let fontPostScriptName = "DroidSansFallback"
    static let pageWidth = 595.276  // A4 in points
    static let pageHeight = 841.890
    static let marginX = 56.0
    static let marginTop = 56.0
    static let marginBottom = 64.0
    static var contentWidth: Double { pageWidth - 2 * marginX }

    /// fontconfig and pango's font map are process-wide; one document at a time keeps them out of trouble.
    static let lock = NSLock()

    static func render(_ document: PrintableDocument) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        let sink = ByteSink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        guard
            let surface = cairo_pdf_surface_create_for_stream(
                { closure, bytes, length in
                    guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                    Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
                    return CAIRO_STATUS_SUCCESS
                }, closure, pageWidth, pageHeight)
        else { throw PDFRenderingError(description: "cairo could not create a PDF surface") }
        defer { cairo_surface_destroy(surface) }
        cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5)
        let date = metadataDate(document.createdAt)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, document.title)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, document.author)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Yidai")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date)

        guard let cr = cairo_create(surface) else {
            throw PDFRenderingError(description: "cairo could not create a context")
        }
        defer { cairo_destroy(cr) }
        guard let context = pango_cairo_create_context(cr) else {
            throw PDFRenderingError(description: "pango could not create a context")
        }
        defer { yidai_g_object_unref(UnsafeMutableRawPointer(context)) }
        // Sizes in points: one pango point is one cairo unit on a PDF surface.
        pango_cairo_context_set_resolution(context, 72)
        let options = cairo_font_options_create()
        defer { cairo_font_options_destroy(options) }
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        pango_cairo_context_set_font_options(context, options)

        let typesetter = Typesetter(cr: cr, context: context)
        defer { typesetter.release() }
        let pages = try typesetter.paginate(document.blocks)
        for (index, page) in pages.enumerated() {
            for item in page { typesetter.draw(item) }
            typesetter.drawFooter(document.footer, page: index + 1, of: pages.count)
            cairo_show_page(cr)
        }
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PDFRenderingError(description: "cairo: " + String(cString: cairo_status_to_string(status)))
        }
        guard sink.data.starts(with: Data("%PDF-".utf8)) else {
            throw PDFRenderingError(description: "cairo wrote no PDF")
        }
        // Without the font, pango would quietly fall back to another one (or to empty boxes): refuse instead.
        guard sink.data.range(of: Data(fontPostScriptName.utf8)) != nil else {
            throw PDFRenderingError(
                description: "the font \(fontFamily) is not installed (Debian: apt-get install fonts-droid-fallback)")
        }
        return sink.data
    }

    /// "2026-07-25T00:00:00+08:00" in China Standard Time (cairo's metadata date format).
    static func metadataDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d+08:00", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    private final class ByteSink {
        var data = Data()
    }
}

/// Measures blocks, cuts them into pages (tables split between rows, their header repeated) and draws them.
private final class Typesetter {
    struct Style {
        let size: Double
        var bold = false
        var color: (Double, Double, Double) = (0.12, 0.12, 0.14)
        var align: PangoAlignment = PANGO_ALIGN_LEFT
        var lineSpacing = 1.35
    }

    /// One thing drawn at a place on a page.
    enum Item {
        case text(String, Style, x: Double, y: Double, width: Double)
        case fill(x: Double, y: Double, width: Double, height: Double, gray: Double)
        case line(x1: Double, y1: Double, x2: Double, y2: Double, gray: Double)
    }

    let cr: OpaquePointer
    let context: OpaquePointer
    /// Every text laid out so far, by what shapes it (text, size, weight, alignment, spacing, width; not colour):
    /// pagination measures each text and drawing shows the same layout, so no text is shaped twice.
    private var layouts: [String: OpaquePointer] = [:]

    static let body = Style(size: 10)
    static let small = Style(size: 8.5, color: (0.35, 0.35, 0.4))
    static let heading = Style(size: 11.5, bold: true)
    static let title = Style(size: 18, bold: true, color: (0.11, 0.31, 0.85), align: PANGO_ALIGN_CENTER)
    static let subtitle = Style(size: 9, color: (0.35, 0.35, 0.4), align: PANGO_ALIGN_CENTER)

    init(cr: OpaquePointer, context: OpaquePointer) {
        self.cr = cr
        self.context = context
    }

    func release() {
        for layout in layouts.values { yidai_g_object_unref(UnsafeMutableRawPointer(layout)) }
        layouts = [:]
    }

    /// The height in points of `text` laid out in `style` and `width`.
    @discardableResult
    func prepare(_ text: String, _ style: Style, width: Double) -> Double {
        let scale = Double(yidai_pango_scale())
        var w: Int32 = 0
        var h: Int32 = 0
        pango_layout_get_size(layout(text, style, width: width), &w, &h)
        return Double(h) / scale
    }

    /// The layout of `text` in `style` and `width`, made once.
    private func layout(_ text: String, _ style: Style, width: Double) -> OpaquePointer {
        let key = "\(style.size)|\(style.bold)|\(style.align.rawValue)|\(style.lineSpacing)|\(width)|" + text
        if let known = layouts[key] { return known }
        let layout = pango_layout_new(context)!
        layouts[key] = layout
        let scale = Double(yidai_pango_scale())
        let font = pango_font_description_new()
        defer { pango_font_description_free(font) }
        pango_font_description_set_family(font, PDFRenderer.fontFamily)
        pango_font_description_set_absolute_size(font, style.size * scale)
        pango_font_description_set_weight(font, style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_layout_set_font_description(layout, font)
        pango_layout_set_width(layout, Int32(width * scale))
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
        pango_layout_set_alignment(layout, style.align)
        pango_layout_set_line_spacing(layout, Float(style.lineSpacing))
        pango_layout_set_text(layout, text, -1)
        return layout
    }

    func draw(_ item: Item) {
        switch item {
        case .text(let text, let style, let x, let y, let width):
            let layout = layout(text, style, width: width)
            cairo_set_source_rgb(cr, style.color.0, style.color.1, style.color.2)
            cairo_move_to(cr, x, y)
            pango_cairo_show_layout(cr, layout)
        case .fill(let x, let y, let width, let height, let gray):
            cairo_set_source_rgb(cr, gray, gray, gray)
            cairo_rectangle(cr, x, y, width, height)
            cairo_fill(cr)
        case .line(let x1, let y1, let x2, let y2, let gray):
            cairo_set_source_rgb(cr, gray, gray, gray)
            cairo_set_line_width(cr, 0.5)
            cairo_move_to(cr, x1, y1)
            cairo_line_to(cr, x2, y2)
            cairo_stroke(cr)
        }
    }

    func drawFooter(_ footer: String, page: Int, of total: Int) {
        let y = PDFRenderer.pageHeight - PDFRenderer.marginBottom + 22
        draw(
            .line(
                x1: PDFRenderer.marginX, y1: y - 6, x2: PDFRenderer.pageWidth - PDFRenderer.marginX, y2: y - 6,
                gray: 0.75))
        draw(.text(footer, Self.small, x: PDFRenderer.marginX, y: y, width: PDFRenderer.contentWidth))
        var right = Self.small
        right.align = PANGO_ALIGN_RIGHT
        draw(.text("第 \(page) 页 共 \(total) 页", right, x: PDFRenderer.marginX, y: y, width: PDFRenderer.contentWidth))
    }

    func paginate(_ blocks: [PrintableDocument.Block]) throws -> [[Item]] {
        let left = PDFRenderer.marginX
        let width = PDFRenderer.contentWidth
        let bottom = PDFRenderer.pageHeight - PDFRenderer.marginBottom
        var pages: [[Item]] = [[]]
        var y = PDFRenderer.marginTop

        func newPage() {
            pages.append([])
            y = PDFRenderer.marginTop
        }
        /// Starts a new page unless `height` fits below y (a block taller than a page is placed anyway).
        func reserve(_ height: Double) {
            if y + height > bottom && y > PDFRenderer.marginTop { newPage() }
        }
        func place(_ items: [Item]) { pages[pages.count - 1].append(contentsOf: items) }

        for (index, block) in blocks.enumerated() {
            switch block {
            case .title(let text, let subtitle):
                let h = prepare(text, Self.title, width: width)
                reserve(h + 40)
                place([.text(text, Self.title, x: left, y: y, width: width)])
                y += h + 4
                if let subtitle {
                    let sh = prepare(subtitle, Self.subtitle, width: width)
                    place([.text(subtitle, Self.subtitle, x: left, y: y, width: width)])
                    y += sh
                }
                y += 14
            case .heading(let text):
                // Keep a heading with the first lines of what follows it.
                let h = prepare(text, Self.heading, width: width)
                let next = index + 1 < blocks.count ? min(60, firstLineHeight(blocks[index + 1], width: width)) : 0
                reserve(h + 6 + next)
                y += 6
                place([.text(text, Self.heading, x: left, y: y, width: width)])
                y += h + 4
            case .paragraph(let text), .note(let text):
                let style = if case .note = block { Self.small } else { Self.body }
                let h = prepare(text, style, width: width)
                reserve(h)
                place([.text(text, style, x: left, y: y, width: width)])
                y += h + 5
            case .fields(let fields):
                let labelWidth = width * 0.30
                let valueWidth = width - labelWidth - 8
                for field in fields {
                    var valueStyle = Self.body
                    if field.prominent {
                        valueStyle = Style(size: 13, bold: true, color: (0.11, 0.31, 0.85))
                    }
                    let lh = prepare(field.label, Self.body, width: labelWidth)
                    let vh = prepare(field.value, valueStyle, width: valueWidth)
                    let rowHeight = max(lh, vh) + 8
                    reserve(rowHeight)
                    let labelY = y + 4 + (field.prominent ? max(0, vh - lh) / 2 : 0)
                    var labelStyle = Self.body
                    labelStyle.color = (0.35, 0.35, 0.4)
                    place([
                        .text(field.label, labelStyle, x: left, y: labelY, width: labelWidth),
                        .text(field.value, valueStyle, x: left + labelWidth + 8, y: y + 4, width: valueWidth),
                        .line(x1: left, y1: y + rowHeight, x2: left + width, y2: y + rowHeight, gray: 0.88),
                    ])
                    y += rowHeight
                }
                y += 8
            case .table(let columns, let rows):
                let total = columns.reduce(0) { $0 + $1.weight }
                let widths = columns.map { width * $0.weight / total }
                let padding = 4.0
                func rowItems(_ cells: [String], header: Bool) -> (items: [Item], height: Double) {
                    var items: [Item] = []
                    var height = 0.0
                    var x = left
                    for (i, column) in columns.enumerated() {
                        var style = Style(size: header ? 8.5 : 8.5, bold: header)
                        style.align = column.alignRight ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT
                        style.lineSpacing = 1.1
                        let text = i < cells.count ? cells[i] : ""
                        height = max(height, prepare(text, style, width: widths[i] - 2 * padding))
                        items.append(.text(text, style, x: x + padding, y: 0, width: widths[i] - 2 * padding))
                        x += widths[i]
                    }
                    return (items, height + 2 * padding)
                }
                func shifted(_ items: [Item], to top: Double) -> [Item] {
                    items.map {
                        if case .text(let t, let s, let x, _, let w) = $0 {
                            return .text(t, s, x: x, y: top + padding, width: w)
                        }
                        return $0
                    }
                }
                let header = rowItems(columns.map(\.title), header: true)
                func placeHeader() {
                    place(
                        [.fill(x: left, y: y, width: width, height: header.height, gray: 0.93)]
                            + shifted(header.items, to: y))
                    y += header.height
                }
                reserve(header.height * 3)
                placeHeader()
                for (r, cells) in rows.enumerated() {
                    let row = rowItems(cells, header: false)
                    if y + row.height > bottom {
                        newPage()
                        placeHeader()
                    }
                    if r % 2 == 1 { place([.fill(x: left, y: y, width: width, height: row.height, gray: 0.975)]) }
                    place(shifted(row.items, to: y))
                    place([.line(x1: left, y1: y + row.height, x2: left + width, y2: y + row.height, gray: 0.88)])
                    y += row.height
                }
                y += 8
            case .space(let points):
                y += points
            }
        }
        if pages.last?.isEmpty == true && pages.count > 1 { pages.removeLast() }
        return pages
    }

    private func firstLineHeight(_ block: PrintableDocument.Block, width: Double) -> Double {
        switch block {
        case .paragraph, .note, .fields: return prepare("国", Self.body, width: width) * 2
        case .table: return 60
        default: return 0
        }
    }
}
