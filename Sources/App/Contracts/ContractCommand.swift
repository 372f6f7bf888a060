import Dispatch
import Foundation
import Vapor
import X509

/// `yidai contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]`: checks a signed contract offline (no database,
/// no network): the PDF's digest against the signature, the signature against the signer's certificate, and that
/// certificate against the bank's CA at the signing time. Exit 0 when valid, 1 naming what is wrong.
/// Works the same for the evidence: `yidai contract verify evidence.json evidence.p7s`.
///
/// main.swift runs it through `OfflineCommands` before Vapor boots (booting would migrate and seed a database);
/// it is also registered with Vapor as `contract`, for the command list.
enum ContractVerifyCLI {
    static let usage = "usage: yidai contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]"

    /// `arguments` after `contract verify`.
    static func run(_ arguments: [String]) -> Int32 {
        var positional: [String] = []
        var ca: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--ca", index + 1 < arguments.count {
                ca = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix("--ca=") {
                ca = String(argument.dropFirst("--ca=".count))
                index += 1
            } else if argument == "-h" || argument == "--help" {
                print(usage)
                return 0
            } else {
                positional.append(argument)
                index += 1
            }
        }
        guard positional.count == 2 else {
            printError(usage)
            return 2
        }
        let caText: String
        do {
            caText = try trustedCA(path: ca, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("INVALID: \(error)")
            return 1
        }
        let (document, signature) = (positional[0], positional[1])
        let (status, lines) = Blocking.wait { await report(documentPath: document, signaturePath: signature, caPEM: caText) }
        for line in lines { status == 0 ? print(line) : printError(line) }
        return status
    }

    /// The CA to trust: `--ca`, else `YIDAI_SIGNING_CA`, else the last certificate of `YIDAI_SIGNING_CERT`, else the
    /// development CA under the data folder. Nothing is generated here.
    static func trustedCA(path: String?, environment: [String: String]) throws -> String {
        func read(_ path: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError("cannot read the CA file \(path)")
            }
            return text
        }
        if let path { return try read(path) }
        if let path = environment["YIDAI_SIGNING_CA"], !path.isEmpty { return try read(path) }
        if let path = environment["YIDAI_SIGNING_CERT"], !path.isEmpty {
            guard let last = try PEMCertificates.parse(try read(path)).last else {
                throw ConfigurationError("\(path) holds no certificate")
            }
            return try last.serializeAsPEM().pemString
        }
        let data = environment["YIDAI_DATA_DIR"] ?? FileManager.default.currentDirectoryPath + "/data"
        let development = data + "/" + SigningMaterial.developmentFolder + "/dev-ca.pem"
        guard FileManager.default.fileExists(atPath: development) else {
            throw ConfigurationError(
                "no CA to trust: pass --ca CA.pem (the bank's CA, served at /api/v1/contract-signing/ca.pem)")
        }
        return try read(development)
    }

    /// Exit status and the lines to print.
    static func report(documentPath: String, signaturePath: String, caPEM: String) async -> (Int32, [String]) {
        guard let document = FileManager.default.contents(atPath: documentPath) else {
            return (1, ["INVALID: cannot read the document \(documentPath)"])
        }
        guard let signature = FileManager.default.contents(atPath: signaturePath) else {
            return (1, ["INVALID: cannot read the signature \(signaturePath)"])
        }
        let roots: [Certificate]
        do {
            roots = try PEMCertificates.parse(caPEM)
        } catch {
            return (1, ["INVALID: \(error)"])
        }
        switch await DetachedSignatureVerifier.verify(content: document, signature: signature, trustRoots: roots) {
        case .valid(let signer, let signedAt, let fingerprint):
            let time = signedAt.map { "\(ContractFormat.time($0)) (China Standard Time)" } ?? "an unstated time"
            return (
                0,
                [
                    "valid, signed by \(signer) at \(time)",
                    "  document sha256 \(ContractService.sha256Hex(document)), certificate sha256 \(fingerprint)",
                ]
            )
        case .invalid(let reason):
            return (1, ["INVALID: \(reason)"])
        }
    }

    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The same check as a Vapor command (`yidai contract verify …` reaches it only if OfflineCommands did not run it).
struct ContractCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify")
        var action: String
        @Argument(name: "document", help: "the signed file (contract PDF or evidence JSON)")
        var document: String
        @Argument(name: "signature", help: "its detached CMS signature (.p7s, DER)")
        var signature: String
        @Option(
            name: "ca",
            help:
                "PEM file of the CA to trust (default: the configured bank CA, in development data/signing/dev-ca.pem)")
        var ca: String?
    }

    var help: String {
        "Contract tools: `contract verify CONTRACT.pdf SIGNATURE.p7s [--ca CA.pem]` checks a signed contract offline."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "verify" else {
            context.console.error(ContractVerifyCLI.usage)
            throw ExitCode(2)
        }
        let caPEM: String
        do {
            caPEM =
                try signature.ca.map { try ContractVerifyCLI.trustedCA(path: $0, environment: [:]) }
                ?? context.application.yidai.config.signing.caPEM
        } catch {
            context.console.error("INVALID: \(error)")
            throw ExitCode(1)
        }
        let (status, lines) = await ContractVerifyCLI.report(
            documentPath: signature.document, signaturePath: signature.signature, caPEM: caPEM)
        for line in lines { status == 0 ? context.console.print(line) : context.console.error(line) }
        if status != 0 { throw ExitCode(status) }
    }
}
