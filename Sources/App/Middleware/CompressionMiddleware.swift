import CBrotli
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// `Content-Encoding: br` for text answers (CSS, JS, JSON, SVG, CSV; not yet HTML pages, see `compressible`) when the
/// client accepts brotli, which compresses them 10–25 % smaller than gzip; everything else keeps the server's gzip. Browsers ask for br only over HTTPS,
/// so behind the TLS proxy of a deployment (which passes `Accept-Encoding` on) the applicant's pages come as br.
/// Answers that never change (hashed static files, `immutable`) are compressed once at the highest quality and kept.
/// Answers under `minimumBytes` are sent as they are, gzip included.
struct BrotliMiddleware: AsyncMiddleware {
    static let minimumBytes = 512
    /// Quality 5 for answers made per request (about gzip's speed, smaller), 11 for those kept.
    static let dynamicQuality: Int32 = 5
    static let staticQuality: Int32 = 11
    private static let kept = NIOLockedValueBox<[String: Data]>([:])

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        if let buffer = response.body.buffer, buffer.readableBytes < Self.minimumBytes {
            // Too small to gain from any encoding: the server's gzip would spend more (a deflate stream set up and
            // torn down per answer, about 2 % of a journey's server CPU) than the bytes it saves.
            response.headers.responseCompression = .disable
            return response
        }
        guard Self.accepts(request.headers[.acceptEncoding]), response.headers[.contentEncoding].isEmpty,
            Self.compressible(response.headers.contentType), let buffer = response.body.buffer
        else { return response }
        let immutable = response.headers[.cacheControl].contains { $0.contains("immutable") }
        let key = request.url.path
        var encoded: Data?
        if immutable { encoded = Self.kept.withLockedValue { $0[key] } }
        if encoded == nil {
            encoded = Self.compress(Data(buffer.readableBytesView), quality: immutable ? Self.staticQuality : Self.dynamicQuality)
            if immutable, let encoded { Self.kept.withLockedValue { if $0.count < 500 { $0[key] = encoded } } }
        }
        guard let encoded, encoded.count < buffer.readableBytes else { return response }
        response.body = .init(data: encoded)
        response.headers.replaceOrAdd(name: .contentEncoding, value: "br")
        response.headers.add(name: .vary, value: "Accept-Encoding")
        // The server's gzip must leave it alone now.
        response.headers.responseCompression = .disable
        return response
    }

    /// Whether `Accept-Encoding` lists br with a weight above zero.
    static func accepts(_ values: [String]) -> Bool {
        for part in values.flatMap({ $0.split(separator: ",") }) {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard pieces.first == "br" else { continue }
            if let q = pieces.dropFirst().first(where: { $0.hasPrefix("q=") }), let weight = Double(q.dropFirst(2)), weight <= 0 { return false }
            return true
        }
        return false
    }

    /// Text answers, except HTML pages for now: measured under Slow 3G (bench/pages), brotli on the face page's HTML
    /// moved its largest paint from about 570 ms to about 1,070 ms when cold, every run, and the cause is not found yet;
    /// pages keep gzip (within 0.1 KB of brotli once compressed) until it is.
    static func compressible(_ type: HTTPMediaType?) -> Bool {
        guard let type else { return false }
        if type.type == "text" { return type.subType != "html" }
        return ["json", "javascript", "svg+xml", "xml", "problem+json"].contains(type.subType)
    }

    /// One-shot brotli (text mode, 4 MB window); nil if the encoder fails.
    static func compress(_ data: Data, quality: Int32) -> Data? {
        var size = BrotliEncoderMaxCompressedSize(data.count)
        guard size > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: size)
        let ok = data.withUnsafeBytes { input in
            BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, data.count,
                                  input.bindMemory(to: UInt8.self).baseAddress, &size, &out)
        }
        return ok == BROTLI_TRUE ? Data(out.prefix(size)) : nil
    }

    /// The bytes `compress` made, back (tests).
    static func decompress(_ data: Data, limit: Int = 16 << 20) -> Data? {
        var size = limit
        var out = [UInt8](repeating: 0, count: limit)
        let result = data.withUnsafeBytes { input in
            BrotliDecoderDecompress(data.count, input.bindMemory(to: UInt8.self).baseAddress, &size, &out)
        }
        return result == BROTLI_DECODER_RESULT_SUCCESS ? Data(out.prefix(size)) : nil
    }
}
