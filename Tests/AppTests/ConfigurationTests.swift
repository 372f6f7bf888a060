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

    @Test("DATABASE_URL may reach PostgreSQL through its Unix socket; an address without a user, a path or a database is refused naming the part")
    func socketDatabaseURLIsChecked() throws {
        let url = "postgres+uds://yidai@localhost/var/run/postgresql/.s.PGSQL.5432#yidai"
        #expect(try AppConfigParsing.database(url) == .postgres(url: url))
        #expect(try AppConfigParsing.database("postgresql+uds://yidai:pw@/tmp/.s.PGSQL.5432#db") == .postgres(url: "postgresql+uds://yidai:pw@/tmp/.s.PGSQL.5432#db"))
        let refused: [(String, String)] = [
            ("postgres+uds://yidai@localhost/tmp/.s.PGSQL.5432", "needs the database after #"),
            ("postgres+uds://yidai@localhost/#yidai", "needs the socket's absolute path"),
            ("postgres+uds://yidai@db.example.com/tmp/.s.PGSQL.5432#yidai", "takes no host or port"),
            ("postgres+uds://yidai@localhost:5432/tmp/.s.PGSQL.5432#yidai", "takes no host or port"),
            ("postgres+uds://localhost/tmp/.s.PGSQL.5432#yidai", "names no user"),
        ]
        for (bad, named) in refused {
            do {
                _ = try AppConfigParsing.database(bad)
                Issue.record("\(bad) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.description.contains(named), "\(bad): \(error.description)")
            }
        }
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
