import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("POST /api/v1/loan-quotes")
struct QuoteAPITests {
    /// The published vectors (a copy of the project's shared vectors, kept with the LendingCore tests).
    static func vectors() throws -> [[String: Any]] {
        let url = URL(fileURLWithPath: repositoryRoot + "/Tests/LendingCoreTests/Fixtures/loan-quotes.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]] ?? []
    }

    func quote(_ app: Application, _ body: Any) async throws -> (HTTPStatus, [String: Any]) {
        var result: (HTTPStatus, [String: Any]) = (.ok, [:])
        try await app.testing().test(.POST, "/api/v1/loan-quotes", beforeRequest: { req in
            req.headers.contentType = .json
            req.body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
        }, afterResponse: { res async in
            result = (res.status, (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:])
        })
        return result
    }

    @Test("every published vector comes back to the fen through the API")
    func publishedVectors() async throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 3)
        try await withYidai { app, _, _ in
            for vector in vectors {
                let name = vector["name"] as? String ?? "?"
                let (status, body) = try await quote(app, vector["request"]!)
                #expect(status == .ok, "\(name)")
                let expect = vector["expect"] as? [String: Any] ?? [:]
                let rows = body["installments"] as? [[String: Any]] ?? []
                for expected in expect["installments"] as? [[String: Any]] ?? [] {
                    let number = expected["number"] as? Int ?? 0
                    let row = rows.first { $0["number"] as? Int == number } ?? [:]
                    for (key, value) in expected where key != "number" {
                        #expect(row[key] as? String == value as? String, "\(name) #\(number) \(key)")
                    }
                }
                for (key, value) in expect where key != "installments" {
                    #expect(body[key] as? String == value as? String, "\(name) \(key)")
                }
            }
        }
    }

    @Test("invalid terms get 4xx naming the field")
    func invalidTerms() async throws {
        try await withYidai { app, _, _ in
            let good: [String: Any] = ["principal": "100000", "annualRate": "12", "termMonths": 12, "method": "equal-installment"]
            let cases: [(String, Any)] = [
                ("principal", "-5"), ("principal", "abc"), ("principal", "0"), ("termMonths", 0), ("termMonths", 1000),
                ("method", "balloon"), ("annualRate", "40"), ("upfrontFee", "200000"), ("startDate", "2026-02-30"),
            ]
            for (field, value) in cases {
                var body = good
                body[field] = value
                let (status, error) = try await quote(app, body)
                #expect(status.code >= 400 && status.code < 500, "\(field)=\(value)")
                #expect((error["error"] as? [String: Any])?["field"] as? String == field, "\(field)=\(value)")
            }
            for field in good.keys {
                var body = good
                body.removeValue(forKey: field)
                let (status, error) = try await quote(app, body)
                #expect(status == .badRequest)
                #expect((error["error"] as? [String: Any])?["field"] as? String == field)
            }
        }
    }
}
