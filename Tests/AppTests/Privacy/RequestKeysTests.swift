import Crypto
import Fluent
import Foundation
import Testing
import Vapor

@testable import App

/// An applicant's request reads the person's data keys with the session (`ApplicantAuthenticator`), and the vault
/// seals under them for that request instead of reading them again; outside such a request it reads the database.
@Suite("A person's data keys read once per request")
struct RequestKeysTests {
    /// A general key handed to a request for `person` (as the authenticator would), which is not in the database.
    static func requestKey(for person: String, cipher: FieldCipher) throws -> (UUID, SymmetricKey, PersonVault.RequestKeys) {
        let key = SymmetricKey(size: .bits256)
        let id = UUID()
        let wrapped = try cipher.seal(key.withUnsafeBytes { Data($0) }.base64EncodedString())
        return (id, key, PersonVault.RequestKeys(phoneIndex: person, keys: [.general: .init(id: id, wrapped: wrapped)]))
    }

    @Test("within a signed-in request the vault seals under the person's key read with the session, and only that person's")
    func sealsUnderTheRequestKey() async throws {
        try await withYidai { app, _, _ in
            let cipher = app.yidai.cipher
            let vault = PersonVault(db: app.db, cipher: cipher)
            // setup: the person's stored general key, made the ordinary way
            let (storedID, _) = try await vault.key(phoneIndex: "person-a", dataClass: .general)
            // and a key handed to the request (as the authenticator would) that is not in the database
            let (requestID, requestKey, keys) = try Self.requestKey(for: "person-a", cipher: cipher)
            try await PersonVault.$requestKeys.withValue(keys) {
                // MUT: sealing for the request's person uses the request's key, without asking the database
                let (id, key) = try await vault.key(phoneIndex: "person-a", dataClass: .general)
                #expect(id == requestID)
                #expect(key == requestKey)
                // another class of the same person, and another person, are read (or made) in the database
                let (keptID, _) = try await vault.key(phoneIndex: "person-a", dataClass: .kept)
                #expect(keptID != requestID)
                let (otherID, _) = try await vault.key(phoneIndex: "person-b", dataClass: .general)
                #expect(otherID != requestID && otherID != storedID)
            }
            // outside the request the stored key is used again
            #expect(try await vault.key(phoneIndex: "person-a", dataClass: .general).0 == storedID)
        }
    }

    @Test("a step's transaction seals under the person's key read with the session too, and a transaction outside a request reads the database")
    func transactionsSealUnderTheRequestKey() async throws {
        try await withYidai { app, _, _ in
            let cipher = app.yidai.cipher
            let (storedID, _) = try await PersonVault(db: app.db, cipher: cipher).key(phoneIndex: "person-a", dataClass: .general)
            let (requestID, _, keys) = try Self.requestKey(for: "person-a", cipher: cipher)
            // MUT: a write transaction opened inside the signed-in request (its body runs in a task of the driver's)
            let inside = try await PersonVault.$requestKeys.withValue(keys) {
                try await app.db.writeTransaction { tx in try await PersonVault(db: tx, cipher: cipher).key(phoneIndex: "person-a", dataClass: .general).0 }
            }
            #expect(inside == requestID)
            let outside = try await app.db.writeTransaction { tx in try await PersonVault(db: tx, cipher: cipher).key(phoneIndex: "person-a", dataClass: .general).0 }
            #expect(outside == storedID)
        }
    }

    @Test("a person's key is made once, read back the same by every later call, and can open at once what it sealed")
    func keyIsMadeOnceAndKeptForOpening() async throws {
        try await withYidai { app, _, _ in
            let cipher = app.yidai.cipher
            let vault = PersonVault(db: app.db, cipher: cipher)
            // MUT: the first call makes the key (one statement on PostgreSQL), the next ones read it
            let (made, key) = try await vault.key(phoneIndex: "person-once", dataClass: .kept)
            let (again, sameKey) = try await vault.key(phoneIndex: "person-once", dataClass: .kept)
            #expect(again == made && sameKey == key)
            let rows = try await PersonKey.query(on: app.db).filter(\.$phoneIndex == "person-once").all()
            #expect(rows.map(\.id) == [made])
            // the key is at hand for opening without a read, and it is the stored one
            #expect(cipher.personKeys.lookup(id: made) == key)
            let sealed = try await vault.seal("13800000000", phoneIndex: "person-once", as: .kept)
            #expect(try await vault.open(sealed) == "13800000000")
            // a destroyed key is forgotten here at once, and the next call makes a new one
            try await vault.destroy(made)
            #expect(cipher.personKeys.lookup(id: made) == nil)
            #expect(try await vault.key(phoneIndex: "person-once", dataClass: .kept).0 != made)
        }
    }

    @Test("twenty values of a new person sealed at the same moment all end under the one key made for them, and all open")
    func concurrentFirstSealsShareOneKey() async throws {
        try await withYidai { app, _, _ in
            let vault = PersonVault(db: app.db, cipher: app.yidai.cipher)
            // MUT: the person has no key yet; every sealing races to make it
            let sealed = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<20 {
                    group.addTask { (i, try await vault.seal("value \(i)", phoneIndex: "person-new", as: .general)) }
                }
                var out: [Int: String] = [:]
                for try await (i, value) in group { out[i] = value }
                return out
            }
            let keys = try await PersonKey.query(on: app.db).filter(\.$phoneIndex == "person-new").all()
            #expect(keys.count == 1)
            #expect(Set(sealed.values.map { PersonVault.keyID(of: $0) }) == [keys.first?.id])
            for (i, value) in sealed { #expect(try await vault.open(value) == "value \(i)") }
        }
    }

    @Test("a signed-in applicant's step seals its data under the person's stored key")
    func journeySealsUnderStoredKey() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            #expect(try await p.uploadIDCard().0 == .ok)
            let application = try #require(try await LoanApplication.query(on: app.db).first())
            let general = try #require(
                try await PersonKey.query(on: app.db).filter(\.$phoneIndex == application.phoneIndex).filter(\.$dataClass == "general").first())
            // The ID card's reading was sealed during the upload request, under the key the session's statement read.
            #expect(PersonVault.keyID(of: application.ocrSealed) == general.id)
            #expect(try await PersonVault(db: app.db, cipher: app.yidai.cipher).open(application.ocrSealed!).isEmpty == false)
        }
    }
}
