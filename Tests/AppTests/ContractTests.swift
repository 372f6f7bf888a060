import Crypto
import Fluent
import Foundation
import Providers
import SQLKit
import Testing
import Vapor

@testable import App

/// The loan contract: generated from the loan request, downloaded as a PDF, signed with an SMS code, sealed by the
/// bank's detached CMS signature, and verified offline (by openssl and by Yidai's own verifier).
@Suite("The loan contract")
struct ContractTests {
    /// P01 walked to the loan request: 50,000 over 12 months, equal installments, for renovation.
    static func borrower(_ app: Application, _ clock: TestClock, _ providers: ProviderSet) async throws -> Applicant {
        var p = Applicant("P01", app: app, clock: clock, providers: providers)
        let decided = try await p.walkToDecision()
        #expect(decided["state"] as? String == "approved")
        let (status, body, _) = try await p.call(
            .POST, p.path("/loan-request"),
            json: [
                "amount": "50000", "termMonths": 12, "method": "equal-installment", "purpose": "renovation",
            ])
        #expect(status == .ok)
        #expect(body["state"] as? String == "loan_requested")
        return p
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "yidai-contract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func opensslVerify(_ folder: URL, content: String, signature: String) throws -> (
        status: Int32, output: String
    ) {
        try runProgram([
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
            folder.appendingPathComponent(signature).path,
            "-content", folder.appendingPathComponent(content).path, "-CAfile",
            folder.appendingPathComponent("ca.pem").path,
            "-purpose", "any", "-out", "/dev/null",
        ])
    }

    @Test(
        "the contract shows the rate and the APR side by side, the masked card and ID, and the authorization it rests on"
    )
    func contractContent() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let (_, application, _) = try await p.call(.GET, p.path())
            let (status, contract, _) = try await p.call(.GET, p.path("/contract"))
            #expect(status == .ok)
            #expect(contract["state"] as? String == "unsigned")
            #expect(contract["templateVersion"] as? String == "YD-LOAN-2026-01")
            #expect(contract["amount"] as? String == "50000.00")
            #expect(contract["amountInWords"] as? String == "人民币伍万元整")
            #expect(contract["termMonths"] as? Int == 12)
            #expect(contract["methodTitle"] as? String == "等额本息")
            #expect(contract["purposeTitle"] as? String == "家居装修")
            // The annual rate is the decision's; the APR is the loan request's (the engine's IRR for these terms).
            let rate = Decimal(string: contract["annualRate"] as? String ?? "") ?? -1
            #expect(rate == Decimal(string: application[path: "decision.annualRate"] as? String ?? "") ?? -2)
            #expect(contract["apr"] as? String == application[path: "loanRequest.apr"] as? String)
            let penalty = Decimal(string: contract["penaltyRate"] as? String ?? "") ?? -1
            #expect(penalty == rate * Decimal(string: "1.5")!)
            #expect(contract[path: "disbursementCard.masked"] as? String == "6222 **** **** 0102")
            #expect((contract[path: "disbursementCard.bank"] as? String ?? "").isEmpty == false)
            #expect(contract[path: "borrower.idNumber"] as? String == "4403**********2013")
            #expect(contract[path: "borrower.name"] as? String == "张*")
            #expect((contract[path: "creditAuthorization.sha256"] as? String ?? "").count == 64)
            #expect((contract[path: "creditAuthorization.version"] as? String ?? "").isEmpty == false)
            let plan = contract["plan"] as? [[String: Any]] ?? []
            #expect(plan.count == 12)
            #expect(plan.first?["number"] as? Int == 1)
            // The plan is laid out from today's business date (2026-07-26 in Shanghai on the test clock).
            #expect(plan.first?["dueDate"] as? String == "2026-08-26")
            let text = (contract["sections"] as? [[String: Any]] ?? []).flatMap { $0["paragraphs"] as? [String] ?? [] }
                .joined()
            #expect(text.contains("年化利率（APR）为\(contract["apr"] as? String ?? "?")%"))
            #expect(text.contains("罚息利率为本合同利率上浮50%"))
            #expect(text.contains("6222 **** **** 0102"))
            #expect(!text.contains("440305198803152013"))
            #expect(!text.contains("6222020200110000102"))
            let sha = contract["sha256"] as? String ?? ""
            #expect(sha.count == 64)
            #expect(contract[path: "links.pdf"] as? String == p.path("/contract.pdf"))
        }
    }

    @Test(
        "the contract PDF is a real A4 PDF with its Chinese fonts embedded, and the same content gives the same bytes")
    func contractPDF() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let (status, pdf, headers) = try await p.download(p.path("/contract.pdf"))
            #expect(status == .ok)
            #expect(headers.contentType?.subType == "pdf")
            #expect(pdf.starts(with: Data("%PDF-".utf8)))
            #expect(pdf.range(of: Data("/FontFile".utf8)) != nil)
            #expect(pdf.range(of: Data("DroidSansFallback".utf8)) != nil)
            #expect(pdf.range(of: Data("/MediaBox [ 0 0 595.276 841.89 ]".utf8)) != nil)
            #expect(Self.sha256(pdf) == contract["sha256"] as? String)
            // Light enough for a phone on a slow network (a 12-month plan, three pages): the fonts are subsets.
            #expect(pdf.count < 150_000, "the contract PDF is \(pdf.count) bytes")
            let (_, again, _) = try await p.download(p.path("/contract.pdf"))
            #expect(again == pdf)
            // Rendered afresh (the stored draft gone), the same content still gives the same bytes.
            try await (app.db as! any SQLDatabase).raw("DELETE FROM contract_drafts").run()
            let (_, rendered, _) = try await p.download(p.path("/contract.pdf"))
            #expect(rendered == pdf)
            // With poppler's pdftotext at hand, the text is really there (not pictures of text).
            if (try? runProgram(["pdftotext", "-v"]))?.status == 0 {
                let folder = try Self.temporaryFolder()
                defer { try? FileManager.default.removeItem(at: folder) }
                try pdf.write(to: folder.appendingPathComponent("c.pdf"))
                let (code, text) = try runProgram(["pdftotext", folder.appendingPathComponent("c.pdf").path, "-"])
                #expect(code == 0)
                #expect(text.contains("个人借款合同"))
                #expect(text.contains("年化利率"))
            }
        }
    }

    @Test("signing with a wrong code, without agreeing, or over another document fails and changes nothing")
    func refusedSignatures() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let sha = contract["sha256"] as? String ?? ""

            let (sent, _, _) = try await p.call(.POST, p.path("/contract/sms-code"))
            #expect(sent == .accepted)
            let code = await p.latestCode()
            let wrong = String(code.dropLast()) + (code.last == "9" ? "0" : "9")
            let (badCode, badCodeBody, _) = try await p.call(
                .POST, p.path("/contract/sign"), json: ["code": wrong, "sha256": sha, "agree": true])
            #expect(badCode == .unprocessableEntity)
            #expect(badCodeBody.errorCode == "code_incorrect")
            let (notAgreed, notAgreedBody, _) = try await p.call(
                .POST, p.path("/contract/sign"), json: ["code": code, "sha256": sha, "agree": false])
            #expect(notAgreed == .unprocessableEntity)
            #expect(notAgreedBody.errorField == "agree")
            let other = String(repeating: "0", count: 64)
            let (changed, changedBody, _) = try await p.call(
                .POST, p.path("/contract/sign"), json: ["code": code, "sha256": other, "agree": true])
            #expect(changed == .conflict)
            #expect(changedBody.errorCode == "contract_changed")

            let (_, application, _) = try await p.call(.GET, p.path())
            #expect(application["state"] as? String == "loan_requested")
            let (_, after, _) = try await p.call(.GET, p.path("/contract"))
            #expect(after["state"] as? String == "unsigned")
            let (noSignature, _, _) = try await p.download(p.path("/contract.p7s"))
            #expect(noSignature == .conflict)
            #expect(try await SignedContract.query(on: app.db).count() == 0)
        }
    }

    @Test("the contract is rendered once: the PDF read is kept sealed and signed as it is, and a new business day renders it again")
    func draftRenderedOnce() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let p = try await Self.borrower(app, clock, providers)
            let sql = app.db as! any SQLDatabase
            func drafts() async throws -> [(key: String, sealed: String)] {
                try await sql.raw("SELECT content_key, pdf_sealed FROM contract_drafts").all().map {
                    (try $0.decode(column: "content_key", as: String.self), try $0.decode(column: "pdf_sealed", as: String.self))
                }
            }
            // MUT: reading the contract keeps its PDF, sealed under the person's key
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let sha = try #require(contract["sha256"] as? String)
            let kept = try await drafts()
            #expect(kept.count == 1)
            #expect(kept.first?.sealed.hasPrefix("pk:") == true)
            #expect(kept.first?.sealed.contains("JVBERi") == false)  // no base64 "%PDF" in clear
            let (_, second, _) = try await p.call(.GET, p.path("/contract"))
            #expect(second["sha256"] as? String == sha)
            // MUT: a new business day moves the plan's dates: the contract is rendered again, for the new content
            try await BusinessDateStore(db: app.db, clock: app.yidai.clock).set(
                try await BusinessDateStore(db: app.db, clock: app.yidai.clock).current().adding(days: 1))
            let (_, moved, _) = try await p.call(.GET, p.path("/contract"))
            let movedSHA = try #require(moved["sha256"] as? String)
            #expect(movedSHA != sha)
            #expect(try await drafts().map(\.key) != kept.map(\.key))
            // MUT: signing what was read signs exactly those bytes and drops the draft
            let (status, signed) = try await p.signContract(sha256: movedSHA)
            #expect(status == .ok)
            #expect(signed["sha256"] as? String == movedSHA)
            let (_, pdf, _) = try await p.download(p.path("/contract.pdf"))
            #expect(Self.sha256(pdf) == movedSHA)
            #expect(try await drafts().isEmpty)
        }
    }

    @Test(
        "signing with the SMS code stores the evidence, moves the application to contract_signed, and openssl verifies the bank's signature"
    )
    func signAndVerify() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let sha = contract["sha256"] as? String ?? ""
            let (status, signed) = try await p.signContract(sha256: sha)
            #expect(status == .ok)
            #expect(signed["state"] as? String == "signed")
            #expect(signed["sha256"] as? String == sha)
            #expect(signed[path: "signing.smsProof"] as? String != nil)
            let (_, application, _) = try await p.call(.GET, p.path())
            #expect(application["state"] as? String == "contract_signed")

            // MUT: the signed PDF, its signature and the evidence, as the borrower downloads them.
            let (_, pdf, _) = try await p.download(p.path("/contract.pdf"))
            let (p7sStatus, p7s, p7sHeaders) = try await p.download(p.path("/contract.p7s"))
            let (_, evidence, _) = try await p.download(p.path("/contract/evidence.json"))
            let (_, evidenceP7s, _) = try await p.download(p.path("/contract/evidence.p7s"))
            let (caStatus, ca, _) = try await p.download("/api/v1/contract-signing/ca.pem", headers: [:])
            #expect(p7sStatus == .ok)
            #expect(p7sHeaders.contentType?.subType == "pkcs7-signature")
            #expect(caStatus == .ok)
            #expect(Self.sha256(pdf) == sha)

            // The evidence names the document, the identity checks, the SMS proof, the client and the bank's signature.
            let facts = try JSONSerialization.jsonObject(with: evidence) as? [String: Any] ?? [:]
            #expect(facts[path: "document.sha256"] as? String == sha)
            #expect(facts[path: "signer.idCard.idNumberMasked"] as? String == "4403**********2013")
            #expect(facts[path: "signer.bankCard.cardMasked"] as? String == "6222 **** **** 0102")
            #expect((facts[path: "signer.face.verifiedAt"] as? String ?? "-") != "-")
            #expect(facts[path: "sms.oneTimeCodeID"] as? String == signed[path: "signing.smsProof"] as? String)
            #expect(facts[path: "bankSignature.contractSignatureSHA256"] as? String == Self.sha256(p7s))
            #expect(facts[path: "client.address"] as? String != nil)
            #expect(String(decoding: evidence, as: UTF8.self).contains("440305198803152013") == false)

            let folder = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            try pdf.write(to: folder.appendingPathComponent("contract.pdf"))
            try p7s.write(to: folder.appendingPathComponent("contract.p7s"))
            try evidence.write(to: folder.appendingPathComponent("evidence.json"))
            try evidenceP7s.write(to: folder.appendingPathComponent("evidence.p7s"))
            try ca.write(to: folder.appendingPathComponent("ca.pem"))

            let openssl = try Self.opensslVerify(folder, content: "contract.pdf", signature: "contract.p7s")
            #expect(openssl.status == 0, "\(openssl.output)")
            #expect(openssl.output.contains("Verification successful"))
            #expect(try Self.opensslVerify(folder, content: "evidence.json", signature: "evidence.p7s").status == 0)
            let roots = try PEMCertificates.parse(String(decoding: ca, as: UTF8.self))
            let outcome = await DetachedSignatureVerifier.verify(content: pdf, signature: p7s, trustRoots: roots)
            guard case .valid(let signer, let signedAt, _) = outcome else {
                Issue.record("Yidai's verifier refused a good signature: \(outcome)")
                return
            }
            #expect(signer.contains("Yidai Demo Bank"))
            #expect(signedAt.map { abs($0.timeIntervalSince(clock.now)) < 2 } == true)
            #expect(signedAt.map { JourneyService.isoTime($0) } == facts["signedAt"] as? String)

            // One changed byte in the PDF: both refuse.
            var tamperedPDF = pdf
            tamperedPDF[tamperedPDF.count / 2] ^= 0x01
            try tamperedPDF.write(to: folder.appendingPathComponent("tampered.pdf"))
            #expect(try Self.opensslVerify(folder, content: "tampered.pdf", signature: "contract.p7s").status != 0)
            let refusedPDF = await DetachedSignatureVerifier.verify(
                content: tamperedPDF, signature: p7s, trustRoots: roots)
            #expect(
                refusedPDF
                    == .invalid(
                        "the document does not match the signature: it was changed after signing, or it is another document"
                    ))

            // One changed byte in the signature value (its last bytes): both refuse.
            var tamperedP7s = p7s
            tamperedP7s[tamperedP7s.count - 3] ^= 0x01
            try tamperedP7s.write(to: folder.appendingPathComponent("tampered.p7s"))
            #expect(try Self.opensslVerify(folder, content: "contract.pdf", signature: "tampered.p7s").status != 0)
            #expect(
                await DetachedSignatureVerifier.verify(content: pdf, signature: tamperedP7s, trustRoots: roots).isValid
                    == false)

            // `yidai contract verify` says the same, with its exit status.
            let caPEM = String(decoding: ca, as: UTF8.self)
            let path = { (name: String) in folder.appendingPathComponent(name).path }
            let (ok, okLines) = await ContractVerifyCLI.report(
                documentPath: path("contract.pdf"), signaturePath: path("contract.p7s"), caPEM: caPEM)
            #expect(ok == 0)
            #expect(okLines.first?.hasPrefix("valid, signed by CN=Yidai Demo Bank contract signing") == true)
            let (badPDF, badPDFLines) = await ContractVerifyCLI.report(
                documentPath: path("tampered.pdf"), signaturePath: path("contract.p7s"), caPEM: caPEM)
            #expect(badPDF == 1)
            #expect(badPDFLines.first?.contains("the document does not match the signature") == true)
            let (badP7s, _) = await ContractVerifyCLI.report(
                documentPath: path("contract.pdf"), signaturePath: path("tampered.p7s"), caPEM: caPEM)
            #expect(badP7s == 1)
            let (evidenceOK, _) = await ContractVerifyCLI.report(
                documentPath: path("evidence.json"), signaturePath: path("evidence.p7s"), caPEM: caPEM)
            #expect(evidenceOK == 0)

            // A signature checked against another CA is refused.
            let stranger = try PEMCertificates.parse(try DevelopmentSigning.generate(now: Date()).caPEM)
            #expect(
                await DetachedSignatureVerifier.verify(content: pdf, signature: p7s, trustRoots: stranger).isValid
                    == false)

            // Signing again is refused; the audit trail holds the signing and stays intact.
            let (resend, resendBody, _) = try await p.call(.POST, p.path("/contract/sms-code"))
            #expect(resend == .conflict)
            #expect(resendBody.errorCode == "contract_already_signed")
            let (again, againBody, _) = try await p.call(
                .POST, p.path("/contract/sign"), json: ["code": "123456", "sha256": sha, "agree": true])
            #expect(again == .conflict)
            #expect(againBody.errorCode == "contract_already_signed")
            let entries = try await AuditEntry.query(on: app.db).filter(\.$action == "contract.signed").all()
            #expect(entries.count == 1)
            #expect(entries.first?.details.contains(sha) == true)
            #expect(try await AuditVerifier(db: app.db, services: app.yidai).verify().firstBrokenSequence == nil)
        }
    }

    @Test(
        "the contract page shows the text with the APR beside the rate, and the borrower signs there with the SMS code")
    func signOnThePage() async throws {
        try await withYidai { app, clock, providers in
            let p = try await Self.borrower(app, clock, providers)
            let (_, contract, _) = try await p.call(.GET, p.path("/contract"))
            let sha = contract["sha256"] as? String ?? ""

            let (status, body, _) = try await contractPage(app, .GET, "/loan/contract", token: p.token)
            let html = String(decoding: body, as: UTF8.self)
            #expect(status == .ok)
            #expect(html.contains("年化利率（APR）"))
            #expect(html.contains("\(contract["apr"] as? String ?? "?")%"))
            #expect(html.contains(contract["contractNumber"] as? String ?? "?"))
            #expect(html.contains("6222 **** **** 0102"))
            #expect(html.contains("4403**********2013"))
            #expect(html.contains("name=\"sha256\" value=\"\(sha)\""))
            #expect(html.contains("罚息利率为本合同利率上浮50%"))
            #expect(html.contains("/loan/contract.pdf"))
            #expect(!html.contains("440305198803152013"))

            let (sent, sentBody, _) = try await contractPage(
                app, .POST, "/loan/contract", token: p.token, form: ["action": "send", "agree": "true"])
            #expect(sent == .ok)
            #expect(String(decoding: sentBody, as: UTF8.self).contains("验证码已发送"))
            let code = await p.latestCode()
            let wrong = String(code.dropLast()) + (code.last == "9" ? "0" : "9")
            let (refused, refusedBody, _) = try await contractPage(
                app, .POST, "/loan/contract", token: p.token,
                form: ["action": "sign", "agree": "true", "code": wrong, "sha256": sha])
            #expect(refused == .unprocessableEntity)
            #expect(String(decoding: refusedBody, as: UTF8.self).contains("验证码不正确"))
            let (signed, _, location) = try await contractPage(
                app, .POST, "/loan/contract", token: p.token,
                form: ["action": "sign", "agree": "true", "code": code, "sha256": sha])
            #expect(signed == .seeOther)
            #expect(location == "/loan/contract")

            let (_, after, _) = try await contractPage(app, .GET, "/loan/contract", token: p.token)
            let signedHTML = String(decoding: after, as: UTF8.self)
            #expect(signedHTML.contains("合同已签署"))
            #expect(signedHTML.contains("/loan/contract.p7s"))
            #expect(!signedHTML.contains("id=\"sign-contract\""))
            let (_, pagePDF, _) = try await contractPage(app, .GET, "/loan/contract.pdf", token: p.token)
            let (_, pageSignature, _) = try await contractPage(app, .GET, "/loan/contract.p7s", token: p.token)
            let (_, apiSignature, _) = try await p.download(p.path("/contract.p7s"))
            #expect(Self.sha256(pagePDF) == sha)
            #expect(pageSignature == apiSignature)
            let (_, view, _) = try await p.call(.GET, p.path())
            #expect(view["state"] as? String == "contract_signed")

            let (anonymous, _, home) = try await contractPage(app, .GET, "/loan/contract", token: nil)
            #expect(anonymous == .seeOther)
            #expect(home == "/")
        }
    }

    @Test(
        "production refuses to start with the development signing key, and accepts the bank's own key and certificate")
    func productionSigningKey() async throws {
        let app = try await Application.make(.production)
        var config = try AppConfig.load(environment: .testing, logger: app.logger)
        #expect(config.signing.isDevelopment)
        do {
            try ProductionGuard.check(app: app, config: config, providers: .sandbox())
            Issue.record("production started with the development signing key")
        } catch {
            #expect(String(describing: error).contains("YIDAI_SIGNING_KEY"))
        }
        // A bank's key and certificate from PEM files (here: generated ones written to disk).
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bank = try DevelopmentSigning.generate(now: Date())
        try bank.keyPEM.write(to: folder.appendingPathComponent("key.pem"), atomically: true, encoding: .utf8)
        try (bank.certificatePEM + bank.caPEM).write(
            to: folder.appendingPathComponent("chain.pem"), atomically: true, encoding: .utf8)
        config.signing = try SigningMaterial.load(
            environment: [
                "YIDAI_SIGNING_KEY": folder.appendingPathComponent("key.pem").path,
                "YIDAI_SIGNING_CERT": folder.appendingPathComponent("chain.pem").path,
            ],
            dataDirectory: folder.path, isTesting: false, log: { _, _ in })
        #expect(config.signing.isDevelopment == false)
        #expect(try PEMCertificates.parse(config.signing.caPEM) == PEMCertificates.parse(bank.caPEM))
        do {
            try ProductionGuard.check(app: app, config: config, providers: .sandbox())
        } catch {
            #expect(!String(describing: error).contains("YIDAI_SIGNING_KEY"))
        }
        // A key that does not belong to the certificate is refused at start.
        let stranger = try DevelopmentSigning.generate(now: Date())
        try stranger.keyPEM.write(to: folder.appendingPathComponent("other-key.pem"), atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) {
            try SigningMaterial.load(
                environment: [
                    "YIDAI_SIGNING_KEY": folder.appendingPathComponent("other-key.pem").path,
                    "YIDAI_SIGNING_CERT": folder.appendingPathComponent("chain.pem").path,
                ],
                dataDirectory: folder.path, isTesting: false, log: { _, _ in })
        }
        try await app.asyncShutdown()
    }

    @Test("every byte of a tampered signature file is caught: each of 40 single-byte changes is refused")
    func tamperedSignatureBytes() async throws {
        let material = try DevelopmentSigning.generate(now: Date())
        let identity = try BankSigningIdentity(material)
        let content = Data("个人借款合同 test content".utf8)
        let signature = try identity.sign(content, at: Date())
        #expect(
            await DetachedSignatureVerifier.verify(
                content: content, signature: signature, trustRoots: identity.trustRoots
            ).isValid)
        for step in 0..<40 {
            var changed = signature
            let index = step * (signature.count - 1) / 39
            changed[index] ^= 0x20
            let outcome = await DetachedSignatureVerifier.verify(
                content: content, signature: changed, trustRoots: identity.trustRoots)
            #expect(outcome.isValid == false, "byte \(index) of \(signature.count)")
        }
    }

    @Test("another applicant gets 404 for every contract route")
    func anotherApplicantGets404() async throws {
        try await withYidai { app, clock, providers in
            let mine = try await Self.borrower(app, clock, providers)
            var other = Applicant("P02", app: app, clock: clock, providers: providers)
            try await other.signIn()
            let base = "/api/v1/applications/\(mine.applicationID)"
            for (method, suffix) in [
                (HTTPMethod.GET, "/contract"), (.GET, "/contract.pdf"), (.GET, "/contract.p7s"),
                (.GET, "/contract/evidence.json"),
                (.GET, "/contract/evidence.p7s"), (.POST, "/contract/sms-code"), (.POST, "/contract/sign"),
            ] {
                let (status, body, _) = try await other.call(
                    method, base + suffix,
                    json: method == .POST ? ["code": "123456", "sha256": "x", "agree": true] : nil)
                #expect(status == .notFound, "\(method) \(suffix)")
                #expect(body.errorCode == "not_found")
            }
            let (_, view, _) = try await mine.call(.GET, mine.path())
            #expect(view["state"] as? String == "loan_requested")
        }
    }

    @Test("before the loan request there is no contract: every contract route answers 409")
    func outOfOrder() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            let decided = try await p.walkToDecision()
            #expect(decided["state"] as? String == "approved")
            for (method, suffix) in [
                (HTTPMethod.GET, "/contract"), (.GET, "/contract.pdf"), (.POST, "/contract/sms-code"),
                (.POST, "/contract/sign"),
            ] {
                let (status, body, _) = try await p.call(
                    method, p.path(suffix),
                    json: method == .POST ? ["code": "123456", "sha256": "x", "agree": true] : nil)
                #expect(status == .conflict, "\(method) \(suffix)")
                #expect(body.errorCode == "step_out_of_order")
            }
            let (_, view, _) = try await p.call(.GET, p.path())
            #expect(view["state"] as? String == "approved")
        }
    }

    @Test("amounts are written in capital Chinese numerals as on financial documents")
    func amountInWords() {
        #expect(ContractFormat.chineseUppercase(fen: 5_000_000) == "人民币伍万元整")
        #expect(ContractFormat.chineseUppercase(fen: 12_345_678) == "人民币壹拾贰万叁仟肆佰伍拾陆元柒角捌分")
        #expect(ContractFormat.chineseUppercase(fen: 10_050_000) == "人民币壹拾万零伍佰元整")
        #expect(ContractFormat.chineseUppercase(fen: 20_000_000) == "人民币贰拾万元整")
        #expect(ContractFormat.chineseUppercase(fen: 101_000_000) == "人民币壹佰零壹万元整")
        #expect(ContractFormat.chineseUppercase(fen: 120_005) == "人民币壹仟贰佰元零伍分")
    }
}
