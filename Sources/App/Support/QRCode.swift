import CPangoCairo
import CQREncode
import Foundation

/// A QR code made by libqrencode (error correction M, quiet zone of 4 modules kept), drawn as SVG or as PNG (cairo).
struct QRCode: Sendable {
    /// Dark modules, row by row (`width` × `width`), without the quiet zone.
    let modules: [Bool]
    let width: Int
    static let quietZone = 4

    struct EncodingError: Error, CustomStringConvertible {
        var description: String { "libqrencode could not encode the text (too long for a QR code?)" }
    }

    init(_ text: String) throws {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { throw EncodingError() }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.width = width
        self.modules = data.map { $0 & 1 == 1 }
    }

    func isDark(_ x: Int, _ y: Int) -> Bool { modules[y * width + x] }

    /// An SVG of `pixels` × `pixels`, one path, crisp edges.
    func svg(pixels: Int = 240, label: String = "二维码") -> String {
        let total = width + 2 * Self.quietZone
        var path = ""
        for y in 0..<width {
            for x in 0..<width where isDark(x, y) { path += "M\(x + Self.quietZone) \(y + Self.quietZone)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(total) \(total)" width="\(pixels)" height="\(pixels)" \
            shape-rendering="crispEdges" role="img" aria-label="\(label)"><rect width="\(total)" height="\(total)" fill="#fff"/>\
            <path d="\(path)" fill="#000"/></svg>
            """
    }

    /// A PNG of about `pixels` × `pixels` (a whole number of pixels per module), drawn with cairo.
    func png(pixels: Int) -> Data? {
        let total = width + 2 * Self.quietZone
        let scale = max(1, pixels / total)
        let size = Int32(total * scale)
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        defer { cairo_destroy(cr) }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_set_source_rgb(cr, 0, 0, 0)
        for y in 0..<width {
            for x in 0..<width where isDark(x, y) {
                cairo_rectangle(cr, Double((x + Self.quietZone) * scale), Double((y + Self.quietZone) * scale), Double(scale), Double(scale))
            }
        }
        cairo_fill(cr)
        cairo_surface_flush(surface)
        var output = Data()
        let status = withUnsafeMutablePointer(to: &output) { pointer in
            cairo_surface_write_to_png_stream(surface, { closure, bytes, length in
                guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                closure.assumingMemoryBound(to: Data.self).pointee.append(bytes, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, pointer)
        }
        return status == CAIRO_STATUS_SUCCESS ? output : nil
    }
}
