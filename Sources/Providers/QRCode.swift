import CPangoCairo
import CQREncode
import Foundation

/// A QR code made by libqrencode (error correction M, quiet zone of 4 modules kept), drawn as SVG or as PNG (cairo).
public struct QRCode: Sendable {
    /// Dark modules, row by row (`width` × `width`), without the quiet zone.
    public let modules: [Bool]
    public let width: Int
    public static let quietZone = 4
    /// The error-correction level every code is made with (M: about 15% of the code may be damaged).
    public static let errorCorrection = "M"

    public struct EncodingError: Error, CustomStringConvertible {
        public var description: String { "libqrencode could not encode the text (too long for a QR code?)" }
    }

    public init(_ text: String) throws {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { throw EncodingError() }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.width = width
        self.modules = data.map { $0 & 1 == 1 }
    }

    public func isDark(_ x: Int, _ y: Int) -> Bool { modules[y * width + x] }

    /// Modules across, quiet zone included.
    public var totalModules: Int { width + 2 * Self.quietZone }

    /// An SVG of `pixels` × `pixels`, one path, crisp edges.
    public func svg(pixels: Int = 240, label: String = "二维码") -> String {
        let total = totalModules
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

    /// Draws the code into a cairo context as a white square of `side` units at (`x`, `y`): a whole number of units
    /// per module where the square allows it (crisp edges), centred, the rest of the square white (more quiet zone).
    public func draw(on cr: OpaquePointer, x: Double, y: Double, side: Double) {
        let total = Double(totalModules)
        let whole = (side / total).rounded(.down)
        let module = whole >= 1 ? whole : side / total
        let origin = ((side - module * total) / 2).rounded(.down)
        cairo_save(cr)
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_rectangle(cr, x, y, side, side)
        cairo_fill(cr)
        cairo_set_source_rgb(cr, 0, 0, 0)
        for row in 0..<width {
            for column in 0..<width where isDark(column, row) {
                cairo_rectangle(
                    cr, x + origin + Double(column + Self.quietZone) * module, y + origin + Double(row + Self.quietZone) * module,
                    module, module)
            }
        }
        cairo_fill(cr)
        cairo_restore(cr)
    }

    /// A PNG of exactly `pixels` × `pixels`, drawn with cairo: a whole number of pixels per module, the code centred
    /// and the spare pixels added to the quiet zone. Nil when `pixels` cannot hold one pixel per module.
    public func png(pixels: Int) -> Data? {
        guard pixels >= totalModules else { return nil }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(pixels), Int32(pixels)) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        defer { cairo_destroy(cr) }
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE)
        draw(on: cr, x: 0, y: 0, side: Double(pixels))
        return Self.pngData(surface)
    }

    /// The surface as PNG bytes (cairo's PNG writer into memory).
    public static func pngData(_ surface: OpaquePointer) -> Data? {
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
