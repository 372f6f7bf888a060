import Crypto
import Foundation
@_spi(CMS) @_spi(FixedExpiryValidationTime) import X509

/// Checks a detached CMS SignedData (.p7s, DER) over a file, offline, against the bank's CA:
/// the document's digest, the signature, and the signer's certificate chain at the signing time.
enum DetachedSignatureVerifier {
    enum Outcome: Sendable, Equatable {
        case valid(signer: String, signedAt: Date?, certificateSHA256: String)
        case invalid(String)

        var isValid: Bool { if case .valid = self { true } else { false } }
    }

    static func verify(content: Data, signature: Data, trustRoots: [Certificate], now: Date = Date()) async -> Outcome {
        guard !trustRoots.isEmpty else { return .invalid("no trusted CA certificate was given") }
        let parsed: CMSSignature
        do {
            parsed = try CMSSignature(derEncoded: [UInt8](signature))
        } catch {
            return .invalid("the signature file is not a CMS SignedData in DER (it is damaged or not a .p7s)")
        }
        let signer: CMSSignature.Signer
        do {
            guard let first = try parsed.signers.first else {
                return .invalid("the signature names no signer whose certificate it carries")
            }
            signer = first
        } catch {
            return .invalid("the signature's signer information cannot be read")
        }
        let validationTime = signer.signingTime ?? now
        let result = await CMS.isValidSignature(
            dataBytes: [UInt8](content), signatureBytes: [UInt8](signature), trustRoots: CertificateStore(trustRoots)
        ) {
            RFC5280Policy(fixedExpiryValidationTime: validationTime)
        }
        switch result {
        case .success(let valid):
            return .valid(
                signer: valid.signer.subject.description, signedAt: signer.signingTime,
                certificateSHA256: BankSigningIdentity.fingerprint(valid.signer))
        case .failure(.invalidCMSBlock(let block)):
            if block.reason.contains("Message digest mismatch") {
                return .invalid(
                    "the document does not match the signature: it was changed after signing, or it is another document"
                )
            }
            if block.reason.hasPrefix("Invalid signature from signing certificate") {
                return .invalid(
                    "the signature value is not valid for the signer's certificate: the signature file was changed")
            }
            return .invalid("the signature file is damaged: \(block.reason.prefix(200))")
        case .failure(.unableToValidateSigner(let failure)):
            let reasons = failure.policyFailures.map { String(describing: $0.policyFailureReason) }.joined(
                separator: "; ")
            return .invalid(
                "the signer's certificate (\(failure.signer.subject)) does not chain to the trusted CA at the signing time"
                    + (reasons.isEmpty ? "" : ": \(reasons.prefix(300))"))
        }
    }
}
