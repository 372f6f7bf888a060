import Foundation
import Providers
import Testing
import Vapor

@testable import App

@Suite("Personal data at rest")
struct PrivacyTests {
    @Test("after a full journey the SQLite file holds no sandbox name, ID number, phone or card in clear")
    func databaseHoldsNoPersonalDataInClear() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yidai-privacy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["YIDAI_KEEP_PRIVACY_DB"] == nil { try? FileManager.default.removeItem(at: folder) } }
        let file = folder.appendingPathComponent("yidai.sqlite").path
        try await withYidai(sqliteFile: file) { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            _ = try await p.walkToDecision()
            let (status, _, _) = try await p.call(.POST, p.path("/loan-request"), json: [
                "amount": "30000", "termMonths": 12, "method": "equal-installment", "purpose": "travel",
            ])
            #expect(status == .ok)
        }
        var bytes = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            bytes.append(try Data(contentsOf: folder.appendingPathComponent(name)))
        }
        #expect(bytes.count > 10_000)
        let persona = SandboxPersona.forKey("P01")!
        let reading = SandboxCards.reading(person: "P01")!
        let secrets = [persona.name, persona.idNumber.value, persona.phone.value, persona.verifiableDebitCard.value, reading.address, "13912345678", "张敏"]
        for secret in secrets {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "found \(secret) in clear")
        }
    }

    @Test("encrypted values carry their key id and still open after a new key is added")
    func keyRotation() throws {
        let old = FieldCipher(keys: ["k1": Data(repeating: 1, count: 32)], activeKeyID: "k1", indexSeed: Data(repeating: 1, count: 32))
        let sealed = try old.seal("440305198803152013")
        #expect(sealed.hasPrefix("k1:"))
        let rotated = FieldCipher(keys: ["k1": Data(repeating: 1, count: 32), "k2": Data(repeating: 2, count: 32)], activeKeyID: "k2", indexSeed: Data(repeating: 1, count: 32))
        #expect(try rotated.open(sealed) == "440305198803152013")
        #expect(try rotated.seal("x").hasPrefix("k2:"))
        #expect(old.blindIndex("13800000001", purpose: "phone") == rotated.blindIndex("13800000001", purpose: "phone"))
    }
}
