import Crypto
import Foundation
import LendingCore

/// Encrypts personal data at rest with AES-GCM. Every value carries the id of the key that sealed it,
/// so keys can rotate: the active key seals, every key in the ring opens.
// SymmetricKey is an immutable value that swift-crypto does not mark Sendable; the cipher never mutates it.
struct FieldCipher: @unchecked Sendable {
    private let keys: [String: SymmetricKey]
    private let indexKey: SymmetricKey
    let activeKeyID: String
    /// Unwrapped per-person data keys, shared by every copy of this cipher (see `PersonVault`).
    let personKeys = PersonKeyCache()

    /// `indexSeed` must stay the same across key rotations (lookups depend on it): configuration passes the
    /// oldest key of the ring, or a dedicated `YIDAI_INDEX_KEY`.
    init(keys: [String: Data], activeKeyID: String, indexSeed: Data) {
        self.keys = keys.mapValues { SymmetricKey(data: $0) }
        self.auditChainKeys = self.keys.mapValues { Self.derive($0, purpose: Self.auditChainPurpose) }
        self.activeKeyID = activeKeyID
        // Separated from the encryption keys by HKDF, so an index never reveals a ciphertext key.
        self.indexKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: indexSeed), salt: Data("yidai-blind-index".utf8),
            info: Data("v1".utf8), outputByteCount: 32)
    }

    /// `"<keyId>:<base64(nonce|ciphertext|tag)>"`.
    func seal(_ plaintext: String) throws -> String {
        guard let key = keys[activeKeyID] else { throw CipherError.unknownKey(activeKeyID) }
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw CipherError.malformed }
        return activeKeyID + ":" + combined.base64EncodedString()
    }

    func open(_ sealed: String) throws -> String {
        guard let colon = sealed.firstIndex(of: ":") else { throw CipherError.malformed }
        let id = String(sealed[..<colon])
        // A person's data needs their data key: only PersonVault opens it.
        if id == PersonVault.prefix { throw CipherError.personData }
        guard let key = keys[id] else { throw CipherError.unknownKey(id) }
        guard let data = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])) else { throw CipherError.malformed }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: key)
        guard let text = String(data: plain, encoding: .utf8) else { throw CipherError.malformed }
        return text
    }

    /// A key for another purpose (the audit chain's HMAC), derived by HKDF from the ring's key `keyID`,
    /// so it rotates with the ring and never reveals the encryption key itself.
    func derivedKey(keyID: String, purpose: String) -> SymmetricKey? {
        if purpose == Self.auditChainPurpose { return auditChainKeys[keyID] }
        guard let key = keys[keyID] else { return nil }
        return Self.derive(key, purpose: purpose)
    }

    /// The audit chain's purpose: its keys are derived once, when the ring is loaded (every change appends an entry).
    static let auditChainPurpose = "yidai-audit-chain"
    private let auditChainKeys: [String: SymmetricKey]

    private static func derive(_ key: SymmetricKey, purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, salt: Data(purpose.utf8), info: Data("v1".utf8), outputByteCount: 32)
    }

    func sealOptional(_ plaintext: String?) throws -> String? { try plaintext.map(seal) }
    func openOptional(_ sealed: String?) throws -> String? { try sealed.map(open) }

    /// Keyed hash for exact-match lookups (phone, ID number) without storing the value.
    func blindIndex(_ value: String, purpose: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((purpose + "|" + value).utf8), using: indexKey)
        return Data(mac).base64EncodedString()
    }

    enum CipherError: Error, CustomStringConvertible {
        case unknownKey(String)
        case malformed
        case personData
        var description: String {
            switch self {
            case .personData: "a person's data is sealed under their data key: open it through PersonVault"
            case .unknownKey(let id): "no encryption key with id \(id) is configured"
            case .malformed: "an encrypted value is malformed"
            }
        }
    }
}

enum SecretHash {
    /// SHA-256 hex of a high-entropy secret (session tokens). OTPs use `otp(_:salt:)`.
    static func sha256Hex(_ value: String) -> String {
        Hex.string(SHA256.hash(data: Data(value.utf8)))
    }

    /// A 6-digit code has little entropy, so it is hashed with a per-code salt under HMAC.
    static func otp(_ code: String, salt: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(code.utf8), using: SymmetricKey(data: Data(salt.utf8)))
        return Data(mac).base64EncodedString()
    }

    static func randomToken(bytes count: Int = 32) -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func randomDigits(_ count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
    }
}
