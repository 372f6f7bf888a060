import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("Compressed answers")
struct CompressionTests {
    static func get(_ app: Application, _ path: String, encoding: String?) async throws -> (HTTPHeaders, Data) {
        var headers = HTTPHeaders()
        if let encoding { headers.add(name: .acceptEncoding, value: encoding) }
        let res = try await app.testing().sendRequest(.GET, path, headers: headers)
        return (res.headers, Data(buffer: res.body))
    }

    @Test("a client that accepts br gets API answers brotli-compressed, the same bytes and smaller; one that refuses it or asks only for gzip does not")
    func brotli() async throws {
        try await withYidai { app, _, _ in
            let (plainHeaders, plain) = try await Self.get(app, "/openapi.json", encoding: nil)
            #expect(plainHeaders[.contentEncoding].isEmpty && plain.count > 10_000)
            let (headers, body) = try await Self.get(app, "/openapi.json", encoding: "gzip, deflate, br")
            #expect(headers.first(name: .contentEncoding) == "br")
            #expect(headers[.vary].contains { $0.contains("Accept-Encoding") })
            #expect(body.count < plain.count / 5)
            #expect(CompressionMiddleware.decompress(body) == plain)
            // Pages keep gzip for now (see CompressionMiddleware.brotliCompressible).
            let (pageHeaders, _) = try await Self.get(app, "/terms/privacy", encoding: "br")
            #expect(pageHeaders.first(name: .contentEncoding) != "br")
            for refused in ["gzip", "br;q=0, gzip", "identity"] {
                let (h, _) = try await Self.get(app, "/openapi.json", encoding: refused)
                #expect(h.first(name: .contentEncoding) != "br", "\(refused)")
            }
            // Images stay as they are.
            let (png, _) = try await Self.get(app, "/sandbox/cards/P01-front.png", encoding: "br")
            #expect(png.first(name: .contentEncoding) != "br")
        }
    }

    @Test("over a real connection, a client that accepts gzip gets large answers gzipped and small ones as they are, since compressing a few bytes costs more than it saves")
    func smallAnswersUncompressed() async throws {
        try await withYidai { app, _, _ in
            var headers = HTTPHeaders()
            headers.add(name: .acceptEncoding, value: "gzip")
            let tester = try app.testing(method: .running(port: 0))
            let small = try await tester.sendRequest(.GET, "/health", headers: headers)
            #expect(small.status == .ok)
            #expect(small.body.readableBytes < CompressionMiddleware.minimumBytes)
            #expect(small.headers[.contentEncoding].isEmpty)
            let large = try await tester.sendRequest(.GET, "/openapi.json", headers: headers)
            #expect(large.headers.first(name: .contentEncoding) == "gzip")
        }
    }

    @Test("a client that accepts gzip and not br gets answers gzipped by the app, the same bytes and smaller; pages too, even when it accepts br")
    func gzip() async throws {
        try await withYidai { app, _, _ in
            let (_, plain) = try await Self.get(app, "/openapi.json", encoding: nil)
            // MUT: in-process (no server pipeline), so only the app's own encoder can have compressed these
            let (headers, body) = try await Self.get(app, "/openapi.json", encoding: "gzip, deflate")
            // validation
            #expect(headers.first(name: .contentEncoding) == "gzip")
            #expect(headers[.vary].contains { $0.contains("Accept-Encoding") })
            #expect(body.count < plain.count / 4)
            #expect(Gzip.decompress(body) == plain)
            let (_, page) = try await Self.get(app, "/terms/privacy", encoding: nil)
            let (pageHeaders, pageBody) = try await Self.get(app, "/terms/privacy", encoding: "gzip, deflate, br")
            #expect(pageHeaders.first(name: .contentEncoding) == "gzip")
            #expect(Gzip.decompress(pageBody) == page)
            for refused in ["gzip;q=0", "identity", "deflate"] {
                let (h, _) = try await Self.get(app, "/openapi.json", encoding: refused)
                #expect(h.first(name: .contentEncoding) != "gzip", "\(refused)")
            }
            let (png, _) = try await Self.get(app, "/sandbox/cards/P01-front.png", encoding: "gzip")
            #expect(png.first(name: .contentEncoding) == nil)
        }
    }

    @Test("gzip from streams kept between answers gives every answer back exactly, whatever its size, with many answers compressed at the same moment")
    func keptStreams() async throws {
        // setup: texts of many sizes (a kept stream must forget the last answer entirely when it is reset)
        func text(_ n: Int) -> Data {
            let (count, spread) = (n * 97 % 9_000 + 1, n % 5 == 0 ? 251 : 23)
            var bytes = [UInt8](repeating: 0, count: count)
            for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: (i * 31 + n) % spread + 32) }
            return Data(bytes)
        }
        let texts = (0..<120).map(text)
        // MUT: more tasks at once than streams are kept, each through every text
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<(Gzip.keptStreams + 8) {
                group.addTask {
                    texts.indices.allSatisfy { i in
                        let text = texts[(i + task) % texts.count]
                        guard let zipped = text.withUnsafeBytes({ Gzip.compress($0) }) else { return false }
                        return Gzip.decompress(zipped) == text
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        // validation
        #expect(results.allSatisfy { $0 })
        #expect(results.count == Gzip.keptStreams + 8)
        // and the highest level, used for answers kept, reads back too
        let big = Data(String(repeating: "易贷 journey ", count: 2_000).utf8)
        let best = try #require(big.withUnsafeBytes { Gzip.compress($0, best: true) })
        #expect(Gzip.decompress(best) == big && best.count < big.count / 20)
    }

    @Test("Accept-Encoding is read as a list with weights")
    func acceptEncoding() {
        #expect(CompressionMiddleware.accepts(["gzip, deflate, br"], "br"))
        #expect(CompressionMiddleware.accepts(["br;q=0.5"], "br"))
        #expect(!CompressionMiddleware.accepts(["br;q=0"], "br"))
        #expect(!CompressionMiddleware.accepts(["gzip", "deflate"], "br"))
        #expect(!CompressionMiddleware.accepts(["brotli"], "br"))
        #expect(CompressionMiddleware.accepts(["deflate", "GZIP"], "gzip"))
        #expect(!CompressionMiddleware.accepts(["gzip;q=0, br"], "gzip"))
        // spaces and tabs around names and weights, a weight in capitals, zero written long, a weight that is no number
        #expect(CompressionMiddleware.accepts(["deflate ,\t gzip ; q=0.8 "], "gzip"))
        #expect(!CompressionMiddleware.accepts(["gzip; Q=0.000"], "gzip"))
        #expect(!CompressionMiddleware.accepts(["gzip ;level=1; q=0"], "gzip"))
        #expect(CompressionMiddleware.accepts(["gzip;q=high"], "gzip"))
        #expect(!CompressionMiddleware.accepts(["gzipx", "x-gzip", "", " , ;"], "gzip"))
        #expect(!CompressionMiddleware.accepts([], "gzip"))
        #expect(CompressionMiddleware.saysImmutable(["public, max-age=31536000, immutable"]))
        #expect(CompressionMiddleware.saysImmutable(["no-cache", "Immutable"]))
        #expect(!CompressionMiddleware.saysImmutable(["no-store", "immutables"]))
        let json = HTTPMediaType.json, html = HTTPMediaType.html, png = HTTPMediaType.png
        #expect(CompressionMiddleware.encoding(for: ["gzip, br"], type: json) == .br)
        #expect(CompressionMiddleware.encoding(for: ["gzip, br"], type: html) == .gzip)
        #expect(CompressionMiddleware.encoding(for: ["gzip"], type: json) == .gzip)
        #expect(CompressionMiddleware.encoding(for: ["gzip, br"], type: png) == nil)
        #expect(CompressionMiddleware.encoding(for: ["deflate"], type: json) == nil)
    }
}
