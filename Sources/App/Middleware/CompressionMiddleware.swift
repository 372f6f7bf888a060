import CBrotli
import CZlib
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Compresses text answers held in memory (JSON, pages, CSS, JS, SVG, CSV) itself: `br` when the client accepts
/// brotli, which compresses them 10–25 % smaller than gzip (not yet HTML pages, see `brotliCompressible`), else `gzip`
/// when it accepts gzip (every browser and WeChat's mini-program requests do), from deflate streams kept and reset
/// (`Gzip`). The server's own gzip (NIO's `HTTPResponseCompressor`) set up and tore down a deflate stream for every
/// answer, about 190 µs of CPU for a 1.5 KB one, of which compressing was 10–15; it now only sees answers streamed from
/// files and clients that ask for deflate alone. Browsers ask for br only over HTTPS, so behind the TLS proxy of a
/// deployment (which passes `Accept-Encoding` on) the applicant's pages come as br. Answers that never change (hashed
/// static files, `immutable`) are compressed once at the highest quality and kept. Answers under `minimumBytes` are
/// sent as they are.
struct CompressionMiddleware: AsyncMiddleware {
    static let minimumBytes = 512
    /// Quality 5 for answers made per request (about gzip's speed, smaller), 11 for those kept.
    static let dynamicQuality: Int32 = 5
    static let staticQuality: Int32 = 11
    private static let kept = NIOLockedValueBox<[String: Data]>([:])

    enum Encoding: String {
        case br, gzip
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        // A body streamed from a file is left to the server's gzip.
        guard let buffer = response.body.buffer else { return response }
        if buffer.readableBytes < Self.minimumBytes {
            // Too small to gain from any encoding: compressing would cost more than the bytes it saves.
            response.headers.responseCompression = .disable
            return response
        }
        guard response.headers[.contentEncoding].isEmpty, let encoding = Self.encoding(for: request.headers[.acceptEncoding], type: response.headers.contentType)
        else { return response }
        let immutable = Self.saysImmutable(response.headers[.cacheControl])
        let key = encoding.rawValue + ":" + request.path
        var encoded: Data?
        if immutable { encoded = Self.kept.withLockedValue { $0[key] } }
        if encoded == nil {
            encoded = buffer.withUnsafeReadableBytes { bytes in
                switch encoding {
                case .br: Self.compress(Data(bytes), quality: immutable ? Self.staticQuality : Self.dynamicQuality)
                case .gzip: Gzip.compress(bytes, best: immutable)
                }
            }
            if immutable, let encoded { Self.kept.withLockedValue { if $0.count < 500 { $0[key] = encoded } } }
        }
        guard let encoded else { return response }  // the encoder failed: the server's gzip may still try
        guard encoded.count < buffer.readableBytes else {
            response.headers.responseCompression = .disable  // it would not shrink under the server's gzip either
            return response
        }
        response.body = .init(data: encoded)
        response.headers.replaceOrAdd(name: .contentEncoding, value: encoding.rawValue)
        response.headers.add(name: .vary, value: "Accept-Encoding")
        // The server's gzip must leave it alone now.
        response.headers.responseCompression = .disable
        return response
    }

    /// The encoding this answer gets: br when the client accepts it and the type is one brotli is used for, else gzip
    /// when the client accepts it and the type is text; nil leaves the answer to the server's own compressor.
    static func encoding(for acceptEncoding: [String], type: HTTPMediaType?) -> Encoding? {
        guard gzipCompressible(type) else { return nil }
        if brotliCompressible(type), accepts(acceptEncoding, "br") { return .br }
        return accepts(acceptEncoding, "gzip") ? .gzip : nil
    }

    /// Whether `Accept-Encoding` lists `coding` (lowercase) with a weight above zero; names and `q` in any case. Read
    /// as bytes: Foundation's trimming and lowercasing of every piece cost more than compressing a small answer.
    static func accepts(_ values: [String], _ coding: String) -> Bool {
        let wanted = Array(coding.utf8)
        for value in values {
            for part in value.utf8.split(separator: UInt8(ascii: ",")) {
                var pieces = part.split(separator: UInt8(ascii: ";")).makeIterator()
                guard let name = pieces.next(), asciiEqualIgnoringCase(trimmed(name), wanted) else { continue }
                while let piece = pieces.next() {
                    let parameter = trimmed(piece)
                    guard parameter.count >= 2, parameter.first.map({ $0 | 0x20 }) == UInt8(ascii: "q"),
                        parameter[parameter.index(after: parameter.startIndex)] == UInt8(ascii: "=")
                    else { continue }
                    // The first weight counts; one that does not read as a number leaves the coding accepted.
                    if let weight = Double(String(decoding: parameter.dropFirst(2), as: UTF8.self)), weight <= 0 { return false }
                    break
                }
                return true
            }
        }
        return false
    }

    private static func trimmed(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return bytes[bytes.endIndex...]
        }
        return bytes[first...last]
    }

    private static func asciiEqualIgnoringCase(_ bytes: Substring.UTF8View.SubSequence, _ lowercase: [UInt8]) -> Bool {
        bytes.count == lowercase.count && zip(bytes, lowercase).allSatisfy { (($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0) == $1 }
    }

    /// Whether a Cache-Control value says `immutable` (any case), without Foundation's search.
    static func saysImmutable(_ values: [String]) -> Bool {
        let word = Array("immutable".utf8)
        return values.contains { value in
            value.utf8.split(whereSeparator: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
                .contains { asciiEqualIgnoringCase($0, word) }
        }
    }

    /// Text answers: pages, CSS, JS, JSON, SVG, XML, CSV.
    static func gzipCompressible(_ type: HTTPMediaType?) -> Bool {
        guard let type else { return false }
        if type.type == "text" { return true }
        return ["json", "javascript", "svg+xml", "xml", "problem+json"].contains(type.subType)
    }

    /// Text answers, except HTML pages for now: measured under Slow 3G (bench/pages), brotli on the face page's HTML
    /// moved its largest paint from about 570 ms to about 1,070 ms when cold, every run, and the cause is not found yet;
    /// pages keep gzip (within 0.1 KB of brotli once compressed) until it is.
    static func brotliCompressible(_ type: HTTPMediaType?) -> Bool {
        guard let type, gzipCompressible(type) else { return false }
        return !(type.type == "text" && type.subType == "html")
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

/// gzip from deflate streams kept for the next answer: a stream is set up once (zlib allocates about 256 KB for it and
/// clears its tables) and reset between answers, which costs a tenth of setting one up. A stream serves one answer at
/// a time; up to `keptStreams` wait between answers, one more is made when all are busy.
enum Gzip {
    static let level: Int32 = 6
    static let keptStreams = 32

    private final class Streams: @unchecked Sendable {
        let idle = NIOLockedValueBox<[UnsafeMutablePointer<z_stream>]>([])
    }
    private static let streams = Streams()

    private static func make(level: Int32) -> UnsafeMutablePointer<z_stream>? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard yidai_deflate_init_gzip(stream, level) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
        return stream
    }

    private static func release(_ stream: UnsafeMutablePointer<z_stream>) {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `input` gzipped (level 6; `best`: level 9 on a stream of its own, for answers compressed once and kept); nil if
    /// zlib fails.
    static func compress(_ input: UnsafeRawBufferPointer, best: Bool = false) -> Data? {
        let taken = best ? nil : streams.idle.withLockedValue { $0.popLast() }
        guard let stream = taken ?? make(level: best ? 9 : level) else { return nil }
        defer {
            let kept = !best && deflateReset(stream) == Z_OK && streams.idle.withLockedValue { idle in
                guard idle.count < keptStreams else { return false }
                idle.append(stream)
                return true
            }
            if !kept { release(stream) }
        }
        let bound = Int(deflateBound(stream, uLong(input.count)))
        var out = Data(count: bound)
        let status = out.withUnsafeMutableBytes { output -> Int32 in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(bound)
            return deflate(stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { return nil }
        out.count = Int(stream.pointee.total_out)
        return out
    }

    /// The bytes `compress` made, back (tests); nil if they are not gzip or inflate to more than `limit`.
    static func decompress(_ data: Data, limit: Int = 16 << 20) -> Data? {
        var stream = z_stream()
        guard yidai_inflate_init_gzip(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var out = Data(count: limit)
        let status = data.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count)
                stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(limit)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        out.count = Int(stream.total_out)
        return out
    }
}
