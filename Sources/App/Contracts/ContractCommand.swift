import Foundation
import Vapor
import X509

/// `yidai contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]`: checks a signed contract offline (no database,
/// no network): the PDF's digest against the signature, the signature against the signer's certificate, and that
/// certificate against the bank's CA at the signing time. Exit 0 when valid, 1 naming what is wrong.
/// Works the same for the evidence: `yidai contract verify evidence.json evidence.p7s`.
struct ContractCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify")
        var action: String
        @Argument(name: "document", help: "the signed file (contract PDF or evidence JSON)")
        var document: String
        @Argument(name: "signature", help: "its detached CMS signature (.p7s, DER)")
        var signature: String
        @Option(name: "ca", help: "PEM file of the CA to trust (default: the configured bank CA, in development data/signing/dev-ca.pem)")
        var ca: String?
    }

    var help: String { "Contract tools: `contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]` checks a signed contract offline." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "verify" else {
            context.console.error("unknown contract action \(signature.action); use `contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]`")
            throw ExitCode(2)
        }
        guard let document = FileManager.default.contents(atPath: signature.document) else {
            context.console.error("INVALID: cannot read the document \(signature.document)")
            throw ExitCode(1)
        }
        guard let p7s = FileManager.default.contents(atPath: signature.signature) else {
            context.console.error("INVALID: cannot read the signature \(signature.signature)")
            throw ExitCode(1)
        }
        let roots: [Certificate]
        do {
            if let path = signature.ca {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigurationError("cannot read the CA file \(path)") }
                roots = try PEMCertificates.parse(text)
            } else {
                roots = try PEMCertificates.parse(context.application.yidai.config.signing.caPEM)
            }
        } catch {
            context.console.error("INVALID: \(error)")
            throw ExitCode(1)
        }
        switch await DetachedSignatureVerifier.verify(content: document, signature: p7s, trustRoots: roots) {
        case .valid(let signer, let signedAt, let fingerprint):
            let time = signedAt.map { "\(ContractFormat.time($0)) (China Standard Time)" } ?? "an unstated time"
            context.console.print("valid, signed by \(signer) at \(time)")
            context.console.print("  document sha256 \(ContractService.sha256Hex(document)), certificate sha256 \(fingerprint)")
        case .invalid(let reason):
            context.console.error("INVALID: \(reason)")
            throw ExitCode(1)
        }
    }
}
