import Crypto
import Foundation
import LendingCore
import NIOConcurrencyHelpers
@_spi(CMS) import X509

/// The bank's signing key and certificate as configured (PEM text), and the CA that verifiers should trust.
/// `YIDAI_SIGNING_KEY` / `YIDAI_SIGNING_CERT` (/ optional `YIDAI_SIGNING_CA`) name PEM files; without them a
/// development CA and signing certificate are generated once under the data folder (in memory for tests).
struct SigningMaterial: Sendable {
    var keyPEM: String
    /// The signing certificate first, then any intermediates.
    var certificatePEM: String
    /// The root(s) a verifier trusts: the bank's CA.
    var caPEM: String
    var isDevelopment: Bool
    /// Where it came from, for logs and the ProductionGuard message.
    var source: String

    static let developmentFolder = "signing"

    static func load(
        environment variables: [String: String], dataDirectory: String, isTesting: Bool,
        log: (_ generated: Bool, _ message: String) -> Void
    ) throws -> SigningMaterial {
        let keyPath = variables["YIDAI_SIGNING_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let certPath = variables["YIDAI_SIGNING_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        if keyPath != nil || certPath != nil {
            guard let keyPath, let certPath else {
                throw ConfigurationError("set both YIDAI_SIGNING_KEY and YIDAI_SIGNING_CERT (PEM files), or neither")
            }
            let key = try read(keyPath, "YIDAI_SIGNING_KEY")
            let chain = try read(certPath, "YIDAI_SIGNING_CERT")
            var ca: String
            if let caPath = variables["YIDAI_SIGNING_CA"], !caPath.isEmpty {
                ca = try read(caPath, "YIDAI_SIGNING_CA")
            } else {
                // No CA named: trust the last certificate of the chain (the root, or the certificate itself).
                let certificates = try PEMCertificates.parse(chain)
                guard let last = certificates.last else {
                    throw ConfigurationError("YIDAI_SIGNING_CERT holds no certificate")
                }
                ca = try last.serializeAsPEM().pemString + "\n"
            }
            let material = SigningMaterial(
                keyPEM: key, certificatePEM: chain, caPEM: ca, isDevelopment: false, source: certPath)
            _ = try BankSigningIdentity(material)
            return material
        }
        if isTesting {
            return try DevelopmentSigning.generate(now: Date())
        }
        let (material, created) = try DevelopmentSigning.loadOrCreate(in: dataDirectory + "/" + developmentFolder)
        if created {
            log(
                true,
                "Generated a local development CA and contract-signing certificate in \(material.source) (never use them in production; set YIDAI_SIGNING_KEY and YIDAI_SIGNING_CERT)."
            )
        } else {
            log(
                false,
                "Contracts are signed with the local development certificate in \(material.source) (set YIDAI_SIGNING_KEY and YIDAI_SIGNING_CERT in production)."
            )
        }
        return material
    }

    private static func read(_ path: String, _ name: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("\(name): cannot read the PEM file \(path)")
        }
        return text
    }
}

/// The parsed signing identity: signs contracts as CMS SignedData (detached, SHA-256, with signing time).
struct BankSigningIdentity: Sendable {
    let privateKey: Certificate.PrivateKey
    let certificate: Certificate
    let intermediates: [Certificate]
    let trustRoots: [Certificate]

    init(_ material: SigningMaterial) throws {
        do {
            privateKey = try Certificate.PrivateKey(pemEncoded: material.keyPEM)
        } catch {
            throw ConfigurationError("the contract-signing key (\(material.source)) is not a PEM private key: \(error)")
        }
        let chain = try PEMCertificates.parse(material.certificatePEM)
        guard let first = chain.first else {
            throw ConfigurationError("the contract-signing certificate file holds no certificate")
        }
        guard first.publicKey == privateKey.publicKey else {
            throw ConfigurationError("the contract-signing key does not belong to the certificate \(first.subject)")
        }
        certificate = first
        intermediates = Array(chain.dropFirst()).filter { $0.subject != $0.issuer }
        trustRoots = try PEMCertificates.parse(material.caPEM)
        fingerprintSHA256 = Self.fingerprint(first)
    }

    /// A detached CMS SignedData (DER) over `content`, with the signing time as a signed attribute.
    func sign(_ content: Data, at time: Date) throws -> Data {
        let der = try CMS.sign(
            content, signatureAlgorithm: .ecdsaWithSHA256, additionalIntermediateCertificates: intermediates,
            certificate: certificate, privateKey: privateKey, signingTime: time, detached: true)
        return Data(der)
    }

    let fingerprintSHA256: String

    /// The identity of `material`, parsed once per process instead of once per signature (the PEM key and the
    /// certificates do not change while the process runs).
    static func cached(_ material: SigningMaterial) throws -> BankSigningIdentity {
        let key = material.keyPEM + "\u{0}" + material.certificatePEM + "\u{0}" + material.caPEM
        if let known = parsed.withLockedValue({ $0[key] }) { return known }
        let identity = try BankSigningIdentity(material)
        parsed.withLockedValue { $0 = [key: identity] }
        return identity
    }

    private static let parsed = NIOLockedValueBox<[String: BankSigningIdentity]>([:])

    static func fingerprint(_ certificate: Certificate) -> String {
        guard let der = try? certificate.serializeAsPEM().derBytes else { return "" }
        return Hex.string(SHA256.hash(data: der))
    }
}

enum PEMCertificates {
    /// Every `-----BEGIN CERTIFICATE-----` block of a PEM file, in order.
    static func parse(_ text: String) throws -> [Certificate] {
        var certificates: [Certificate] = []
        var rest = Substring(text)
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex)
        {
            let block = String(rest[start.lowerBound..<stop.upperBound])
            do {
                certificates.append(try Certificate(pemEncoded: block))
            } catch {
                throw ConfigurationError("a certificate in the PEM file cannot be read: \(error)")
            }
            rest = rest[stop.upperBound...]
        }
        return certificates
    }
}

/// A development CA and a contract-signing certificate it issued (P-256 ECDSA), for demos and tests only.
enum DevelopmentSigning {
    static let organization = "Yidai Demo Bank"

    static func generate(now: Date) throws -> SigningMaterial {
        let caKey = P256.Signing.PrivateKey()
        let signingKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            CountryName("CN")
            OrganizationName(organization)
            CommonName("Yidai Development Contract CA (not for production)")
        }
        let signerName = try DistinguishedName {
            CountryName("CN")
            OrganizationName(organization)
            CommonName("Yidai Demo Bank contract signing (development)")
        }
        // Valid from well before any test clock's date (tests sign at fixed instants), for ten years from now.
        let notBefore = min(now.addingTimeInterval(-86_400), Date(timeIntervalSince1970: 1_704_067_200))
        let notAfter = now.addingTimeInterval(10 * 365 * 86_400)
        let caPublic = Certificate.PublicKey(caKey.publicKey)
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caPublic, notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPublic)
            },
            issuerPrivateKey: .init(caKey))
        let signerPublic = Certificate.PublicKey(signingKey.publicKey)
        let signer = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: signerPublic, notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: caName, subject: signerName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
                SubjectKeyIdentifier(hash: signerPublic)
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caPublic).keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        return SigningMaterial(
            keyPEM: try Certificate.PrivateKey(signingKey).serializeAsPEM().pemString + "\n",
            certificatePEM: try signer.serializeAsPEM().pemString + "\n",
            caPEM: try ca.serializeAsPEM().pemString + "\n",
            isDevelopment: true, source: "memory")
    }

    /// `folder/dev-signing-key.pem`, `dev-signing-cert.pem`, `dev-ca.pem`: read, or generated on first start.
    static func loadOrCreate(in folder: String) throws -> (SigningMaterial, created: Bool) {
        let fm = FileManager.default
        let keyPath = folder + "/dev-signing-key.pem"
        let certPath = folder + "/dev-signing-cert.pem"
        let caPath = folder + "/dev-ca.pem"
        if let key = try? String(contentsOfFile: keyPath, encoding: .utf8),
            let cert = try? String(contentsOfFile: certPath, encoding: .utf8),
            let ca = try? String(contentsOfFile: caPath, encoding: .utf8)
        {
            let material = SigningMaterial(
                keyPEM: key, certificatePEM: cert, caPEM: ca, isDevelopment: true, source: folder)
            _ = try BankSigningIdentity(material)
            return (material, false)
        }
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var material = try generate(now: Date())
        material.source = folder
        try material.caPEM.write(toFile: caPath, atomically: true, encoding: .utf8)
        try material.certificatePEM.write(toFile: certPath, atomically: true, encoding: .utf8)
        try material.keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        _ = chmod(keyPath, 0o600)
        return (material, true)
    }
}
