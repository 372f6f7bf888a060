import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("Brotli")
struct BrotliTests {
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
            #expect(BrotliMiddleware.decompress(body) == plain)
            // Pages keep gzip for now (see BrotliMiddleware.compressible).
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
            #expect(small.body.readableBytes < BrotliMiddleware.minimumBytes)
            #expect(small.headers[.contentEncoding].isEmpty)
            let large = try await tester.sendRequest(.GET, "/openapi.json", headers: headers)
            #expect(large.headers.first(name: .contentEncoding) == "gzip")
        }
    }

    @Test("Accept-Encoding is read as a list with weights")
    func acceptEncoding() {
        #expect(BrotliMiddleware.accepts(["gzip, deflate, br"]))
        #expect(BrotliMiddleware.accepts(["br;q=0.5"]))
        #expect(!BrotliMiddleware.accepts(["br;q=0"]))
        #expect(!BrotliMiddleware.accepts(["gzip", "deflate"]))
        #expect(!BrotliMiddleware.accepts(["brotli"]))
    }
}
