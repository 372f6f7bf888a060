import Foundation
import Providers
import Testing
import Vapor

@testable import App

@Suite("Production refuses sandboxes")
struct ConfigurationTests {
    @Test("--env production refuses to start with sandbox providers or the development key, naming each")
    func productionRefusesSandbox() async throws {
        let app = try await Application.make(.production)
        let config = try AppConfig.load(environment: .testing, logger: app.logger)
        #expect(config.usesDevelopmentKey)
        do {
            try ProductionGuard.check(app: app, config: config, providers: .sandbox())
            Issue.record("production started with sandboxes")
        } catch {
            let message = String(describing: error)
            for service in ["sms", "registry", "face", "carrier", "unionpay", "bureau", "miniprogram", "development key"] {
                #expect(message.contains(service), "the refusal does not name \(service)")
            }
            #expect(!message.contains("the ocr provider"), "the OCR is a real engine, fit for production")
        }
        try await app.asyncShutdown()
    }

    @Test("DATABASE_URL must be an absolute sqlite path or a postgres URL")
    func databaseURLIsChecked() throws {
        #expect(throws: Never.self) { try AppConfigParsing.database("sqlite:///tmp/x.sqlite") }
        #expect(throws: ConfigurationError.self) { try AppConfigParsing.database("sqlite://relative.sqlite") }
        #expect(throws: ConfigurationError.self) { try AppConfigParsing.database("mysql://x") }
        #expect(try AppConfigParsing.database("postgres://u@h/db") == .postgres(url: "postgres://u@h/db"))
    }

    @Test("YIDAI_PUBLIC_URL, where managers' codes point, must be an http(s) address without query; a trailing slash is dropped")
    func publicURLIsChecked() throws {
        #expect(try AppConfig.publicBaseURL(nil) == "http://127.0.0.1:8080")
        #expect(try AppConfig.publicBaseURL("https://loan.example.com/") == "https://loan.example.com")
        #expect(try AppConfig.publicBaseURL("https://bank.example.com/h5") == "https://bank.example.com/h5")
        for bad in ["loan.example.com", "ftp://x.example.com", "https://x.example.com/?a=1", "https://", "javascript:alert(1)"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try AppConfig.publicBaseURL(bad) }
        }
    }

    @Test("YIDAI_OCR picks the real engine (default) or the sandbox table; anything else refuses to start")
    func ocrChoice() throws {
        #expect(try AppConfigParsing.ocr(nil) == .tesseract)
        #expect(try AppConfigParsing.ocr("") == .tesseract)
        #expect(try AppConfigParsing.ocr("tesseract") == .tesseract)
        #expect(try AppConfigParsing.ocr("SANDBOX") == .sandbox)
        #expect(throws: ConfigurationError.self) { try AppConfigParsing.ocr("tencent") }
    }
}
