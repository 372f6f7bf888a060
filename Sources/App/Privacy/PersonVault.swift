import Crypto
import Fluent
import FluentPostgresDriver
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import SQLKit
import Vapor

/// Personal data sealed under the person's own data keys, so that erasure can destroy it by deleting a key
/// (crypto-shredding: backups that hold only ciphertext are covered too).
///
/// A person is a phone number (its blind index). Each person has two AES-256 keys, one per retention class:
/// `kept` for what law makes the bank keep after an erasure request (identification: phone, name, ID number, address,
/// the debit card; the signed contract), `general` for everything else (the ID card's reading, the credit report,
/// the facts given, messages, leads, notifications). The keys are stored wrapped by the key ring (`YIDAI_KEYS`) in
/// `person_keys`, so a ring rotation re-wraps keys instead of re-encrypting rows. A value sealed under a person key
/// reads `pk:<key id>:<base64(nonce|ciphertext|tag)>`; values from before person keys (`<ring key id>:…`) still open.
struct PersonVault {
    static let prefix = "pk"
    let db: Database
    let cipher: FieldCipher

    init(db: Database, cipher: FieldCipher) {
        self.db = db
        self.cipher = cipher
    }

    init(db: Database, services: YidaiServices) { self.init(db: db, cipher: services.cipher) }

    enum DataClass: String, Sendable, CaseIterable {
        case kept, general
    }

    /// The person's data has been erased: their key no longer exists.
    struct Erased: Error, CustomStringConvertible {
        let keyID: UUID
        var description: String { "the data key \(keyID) was destroyed (the person's data was erased)" }
    }

    // MARK: - Sealing and opening

    func seal(_ plaintext: String, phoneIndex: String, as dataClass: DataClass) async throws -> String {
        try await seal([plaintext], phoneIndex: phoneIndex, as: dataClass)[0]
    }

    /// Several values of one person and class, under one read of their key.
    func seal(_ plaintexts: [String], phoneIndex: String, as dataClass: DataClass) async throws -> [String] {
        let (id, key) = try await key(phoneIndex: phoneIndex, dataClass: dataClass)
        return try plaintexts.map { plaintext in
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
            guard let combined = box.combined else { throw FieldCipher.CipherError.malformed }
            return Self.prefix + ":" + id.uuidString.lowercased() + ":" + combined.base64EncodedString()
        }
    }

    func open(_ sealed: String) async throws -> String {
        guard sealed.hasPrefix(Self.prefix + ":") else { return try cipher.open(sealed) }
        let parts = sealed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UUID(uuidString: String(parts[1])), let data = Data(base64Encoded: String(parts[2])) else {
            throw FieldCipher.CipherError.malformed
        }
        guard let key = try await key(id: id) else { throw Erased(keyID: id) }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key)
        guard let text = String(data: plain, encoding: .utf8) else { throw FieldCipher.CipherError.malformed }
        return text
    }

    func openOptional(_ sealed: String?) async throws -> String? {
        guard let sealed else { return nil }
        return try await open(sealed)
    }

    /// For showing: the value, or nil when it was erased.
    func openIfKept(_ sealed: String?) async throws -> String? {
        do { return try await openOptional(sealed) } catch is Erased { return nil }
    }

    /// The key id a sealed value names, if it is sealed under a person key.
    static func keyID(of sealed: String?) -> UUID? {
        guard let sealed, sealed.hasPrefix(prefix + ":") else { return nil }
        let parts = sealed.split(separator: ":", maxSplits: 2)
        return parts.count == 3 ? UUID(uuidString: String(parts[1])) : nil
    }

    // MARK: - Keys

    /// The signed-in person's keys, read with their session by the statement that starts an applicant's request
    /// (`ApplicantAuthenticator`) and bound for that request only.
    struct RequestKeys: Sendable {
        struct Key: Sendable {
            let id: UUID
            let wrapped: String
        }
        let phoneIndex: String
        let keys: [DataClass: Key]
    }

    @TaskLocal static var requestKeys: RequestKeys?

    /// The person's key of a class, created on first use (concurrently safe: the unique (phone, class) row decides).
    /// Read from the database, or taken from the keys this request's first statement read (committed rows, as that
    /// statement runs in no transaction); never from the cache across requests: a value must only ever be sealed
    /// under a committed key row or one this transaction sees, so that a key made in a transaction that rolls back
    /// is never used by another, and a key an erasure destroyed is not used by a later request on any instance.
    /// (An erasure carried out while a request runs could leave that request's last value under the destroyed key,
    /// unreadable, as everything else of the erased class is; the same was true of a read a moment before it.)
    func key(phoneIndex: String, dataClass: DataClass) async throws -> (UUID, SymmetricKey) {
        if let known = Self.requestKeys, known.phoneIndex == phoneIndex, let key = known.keys[dataClass] {
            return (key.id, try unwrap(wrapped: key.wrapped))
        }
        guard let sql = db as? any SQLDatabase else { throw FieldCipher.CipherError.malformed }
        // On PostgreSQL one statement reads the key or, when the person has none, adds the one made here; elsewhere
        // (SQLite, prepared statements off) a read, then a key is made and inserted only when nothing was read.
        let fresh = SymmetricKey(size: .bits256)
        func made() throws -> KeyOfClassOrNew {
            KeyOfClassOrNew(
                phoneIndex: phoneIndex, dataClass: dataClass.rawValue, newID: RandomID.uuid(),
                wrapped: try cipher.seal(fresh.withUnsafeBytes { Data($0) }.base64EncodedString()), now: Date())
        }
        if db.isSQLite || !PreparedStatements.enabled {
            if let found = try await stored(phoneIndex: phoneIndex, dataClass: dataClass, on: sql) { return found }
            let made = try made()
            let inserted = try await sql.raw("""
                INSERT INTO person_keys (id, phone_index, data_class, wrapped, created_at) VALUES
                (\(bind: made.newID), \(bind: phoneIndex), \(bind: made.dataClass), \(bind: made.wrapped), \(bind: made.now))
                ON CONFLICT (phone_index, data_class) DO NOTHING RETURNING id
                """).all()
            if !inserted.isEmpty { return remembered(made.newID, fresh) }
        } else {
            let made = try made()
            if let row = try await PreparedStatements.all(made, on: sql).first {
                return try row.decode(column: "id", as: UUID.self) == made.newID ? remembered(made.newID, fresh) : try opened(row)
            }
        }
        // Another request made the person's key at this moment, after this statement's snapshot: that one is read.
        guard let found = try await stored(phoneIndex: phoneIndex, dataClass: dataClass, on: sql) else {
            throw FieldCipher.CipherError.malformed
        }
        return found
    }

    /// A key about to be used for sealing is also kept for opening (`key(id:)`), as a key read to open would be: the
    /// request that seals a value often shows it next.
    private func remembered(_ id: UUID, _ key: SymmetricKey) -> (UUID, SymmetricKey) {
        cipher.personKeys.store(id: id, key: key)
        return (id, key)
    }

    private func opened(_ row: any SQLRow) throws -> (UUID, SymmetricKey) {
        remembered(try row.decode(column: "id", as: UUID.self), try unwrap(wrapped: try row.decode(column: "wrapped", as: String.self)))
    }

    /// The person's key row of a class as this transaction sees it (a plain statement: every change that seals a
    /// value reads it, and Fluent's model reflection would cost more than the read).
    private func stored(phoneIndex: String, dataClass: DataClass, on sql: any SQLDatabase) async throws -> (UUID, SymmetricKey)? {
        guard let row = try await PreparedStatements.all(KeyOfClass(phoneIndex: phoneIndex, dataClass: dataClass.rawValue), on: sql).first
        else { return nil }
        return try opened(row)
    }

    func key(id: UUID) async throws -> SymmetricKey? {
        if let cached = cipher.personKeys.lookup(id: id) { return cached }
        guard let sql = db as? any SQLDatabase else { throw FieldCipher.CipherError.malformed }
        guard let row = try await PreparedStatements.all(KeyWithID(id: id), on: sql).first else { return nil }
        // Keys used to open values are kept for a while (opening is what pages and lists do most).
        let key = try unwrap(wrapped: try row.decode(column: "wrapped", as: String.self))
        cipher.personKeys.store(id: id, key: key)
        return key
    }

    /// A wrapped key opened with the key ring.
    private func unwrap(wrapped: String) throws -> SymmetricKey {
        guard let raw = Data(base64Encoded: try cipher.open(wrapped)), raw.count == 32 else { throw FieldCipher.CipherError.malformed }
        return SymmetricKey(data: raw)
    }

    /// Destroys a key: the row goes, and with it every value sealed under it. Local cache first, then the row.
    func destroy(_ id: UUID) async throws {
        cipher.personKeys.forget(id: id)
        try await PersonKey.query(on: db).filter(\.$id == id).delete()
    }
}

/// A person's wrapped data key.
final class PersonKey: Model, @unchecked Sendable {
    static let schema = "person_keys"
    @ID(key: .id) var id: UUID?
    /// The person (the phone's blind index); `erased:<request>` once an erasure has locked the key away.
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "data_class") var dataClass: String
    /// The key, sealed by the key ring.
    @Field(key: "wrapped") var wrapped: String
    @Field(key: "created_at") var createdAt: Date
    /// When the key may be destroyed (set when an erasure locks it; nil: in use).
    @OptionalField(key: "destroy_after") var destroyAfter: Date?

    init() {}
}

// The key reads of every seal and open (prepared on PostgreSQL, `PreparedStatements`).
extension PersonVault {
    struct KeyOfClass: PreparedRowStatement {
        static let name = "PersonVault.KeyOfClass"
        static let sql = "SELECT id, wrapped FROM person_keys WHERE phone_index = $1 AND data_class = $2"
        static let bindingDataTypes: [PostgresDataType] = [.text, .text]
        let phoneIndex, dataClass: String
        var values: [any StatementValue & Sendable] { [phoneIndex, dataClass] }
    }

    /// The person's key of a class, or, when they have none, the new one (`$3`…`$5`) inserted and returned. Empty
    /// only when another transaction added the person's key after this statement's snapshot (the insert then
    /// conflicts, and the read did not see that row): read again.
    struct KeyOfClassOrNew: PreparedRowStatement {
        static let name = "PersonVault.KeyOfClassOrNew"
        static let sql = """
            WITH found AS (\(KeyOfClass.sql)), \
            made AS (INSERT INTO person_keys (id, phone_index, data_class, wrapped, created_at) \
            SELECT $3, $1, $2, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM found) \
            ON CONFLICT (phone_index, data_class) DO NOTHING RETURNING id, wrapped) \
            SELECT id, wrapped FROM found UNION ALL SELECT id, wrapped FROM made
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .uuid, .text, .timestamptz]
        let phoneIndex, dataClass: String
        let newID: UUID
        let wrapped: String
        let now: Date
        var values: [any StatementValue & Sendable] { [phoneIndex, dataClass, newID, wrapped, now] }
    }

    struct KeyWithID: PreparedRowStatement {
        static let name = "PersonVault.KeyWithID"
        static let sql = "SELECT wrapped FROM person_keys WHERE id = $1"
        static let bindingDataTypes: [PostgresDataType] = [.uuid]
        let id: UUID
        var values: [any StatementValue & Sendable] { [id] }
    }
}

/// Unwrapped person keys for a short while (30 s), for opening values, so that a page or a list does not read and
/// unwrap the same key again and again. An erasure forgets the key here at once; other instances stop using their
/// copy within the 30 s (the database row, and with it every value, is gone already).
final class PersonKeyCache: @unchecked Sendable {
    private struct Entry {
        let key: SymmetricKey
        let until: Date
    }
    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])
    static let lifetime: TimeInterval = 30

    func lookup(id: UUID) -> SymmetricKey? {
        entries.withLockedValue { entries in
            guard let entry = entries[id], entry.until > Date() else { entries[id] = nil; return nil }
            return entry.key
        }
    }

    func store(id: UUID, key: SymmetricKey) {
        entries.withLockedValue { entries in
            if entries.count > 50_000 { entries = entries.filter { $0.value.until > Date() } }
            entries[id] = Entry(key: key, until: Date().addingTimeInterval(Self.lifetime))
        }
    }

    func forget(id: UUID) { _ = entries.withLockedValue { $0.removeValue(forKey: id) } }

    func forgetAll() { entries.withLockedValue { $0.removeAll() } }
}

extension Sequence {
    /// `map` with an async transform, in order, one element at a time.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
