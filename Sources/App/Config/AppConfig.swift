import Foundation
import LendingCore
import Vapor

/// Everything Yidai reads from its environment, in one place (configure.swift is the only caller).
struct AppConfig: Sendable {
    enum DatabaseChoice: Sendable, Equatable {
        case sqlite(path: String)
        case sqliteInMemory
        case postgres(url: String)
    }

    var database: DatabaseChoice
    var dataDirectory: String
    /// Key ring for field encryption: id → 32-byte key. The newest id encrypts; all ids decrypt.
    var encryptionKeys: [String: Data]
    var activeKeyID: String
    /// Seed of the blind-index key; stable across rotations.
    var indexSeed: Data
    var usesDevelopmentKey: Bool
    var policyDirectory: String
    /// The bank's contract-signing key, certificate and CA (PEM); development ones are generated when none are set.
    var signing: SigningMaterial
    /// The write-once file outside the database that every audit anchor is also appended to
    /// (`YIDAI_AUDIT_ANCHOR_FILE`; the data folder's `audit-anchors.jsonl` by default; none in tests).
    var auditAnchorFile: String?
    /// The rules of a reviewer's decision; `YIDAI_SECOND_REVIEW_ABOVE` (yuan) sets the maker-checker threshold.
    var reviewPolicy: ManualReview.Policy
    /// The address people reach the site at (`YIDAI_PUBLIC_URL`, default `http://127.0.0.1:8080`, no trailing slash):
    /// customer managers' QR codes and posters point at `<this>/?cm=CODE&ch=qr`.
    var publicBaseURL: String = AppConfig.defaultPublicBaseURL
    /// The ID card OCR (`YIDAI_OCR`): `tesseract`, the real engine (the default, sandbox included), or `sandbox`,
    /// the table of the shipped test cards' answers (instant, reads nothing else).
    var ocr: OCRChoice = .tesseract
    /// The proxies whose forwarding headers are believed (`YIDAI_TRUSTED_PROXIES`); none by default.
    var trustedProxies: TrustedProxies = .none
    /// `Authorization: Bearer <this>` reads `/metrics` from anywhere (`YIDAI_METRICS_TOKEN`); without it only a
    /// loopback peer that sent no forwarding header does.
    var metricsToken: String?
    /// Database connections (`YIDAI_DB_POOL`): `N` in all, shared over the event loops, or `N/loop` per event loop.
    var databasePool: DatabasePool = .default

    enum OCRChoice: String, Sendable, Equatable {
        case tesseract
        case sandbox
    }

    /// Reads the environment. `DATABASE_URL` picks the database; `YIDAI_KEYS` ("id:base64,id:base64", newest last)
    /// holds field-encryption keys; without it a development key is generated once under the data folder.
    static func load(environment: Environment, logger: Logger) throws -> AppConfig {
        let env = ProcessInfo.processInfo.environment
        let dataDirectory = env["YIDAI_DATA_DIR"] ?? FileManager.default.currentDirectoryPath + "/data"
        let database: DatabaseChoice
        if let url = env["DATABASE_URL"], !url.isEmpty {
            database = try AppConfigParsing.database(url)
        } else if environment == .testing {
            database = .sqliteInMemory
        } else {
            database = .sqlite(path: dataDirectory + "/yidai.sqlite")
        }

        // Read once per process by `PreparedStatements`; a value that is neither on nor off refuses to start.
        if PreparedStatements.setting(env["YIDAI_PG_PREPARED"]) == nil {
            throw ConfigurationError("YIDAI_PG_PREPARED must be on or off (got \(env["YIDAI_PG_PREPARED"] ?? ""))")
        }

        var keys: [String: Data] = [:]
        var activeKeyID = ""
        var indexSeed: Data?
        var usesDevelopmentKey = false
        if let ring = env["YIDAI_KEYS"], !ring.isEmpty {
            for entry in ring.split(separator: ",") {
                let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let key = Data(base64Encoded: parts[1]), key.count == 32 else {
                    throw ConfigurationError("YIDAI_KEYS entries must be id:base64-of-32-bytes")
                }
                keys[parts[0]] = key
                activeKeyID = parts[0]
                if indexSeed == nil { indexSeed = key }
            }
        } else if environment == .testing {
            keys["test"] = Data(repeating: 7, count: 32)
            activeKeyID = "test"
            usesDevelopmentKey = true
        } else {
            let (id, key, created) = try DevelopmentKey.loadOrCreate(in: dataDirectory)
            keys[id] = key
            activeKeyID = id
            usesDevelopmentKey = true
            if created {
                logger.warning("Generated a local development key at \(dataDirectory)/dev-key (never use it in production; set YIDAI_KEYS).")
            } else {
                logger.notice("Using the local development key at \(dataDirectory)/dev-key (set YIDAI_KEYS in production).")
            }
        }
        if let raw = env["YIDAI_INDEX_KEY"], !raw.isEmpty {
            guard let key = Data(base64Encoded: raw), key.count == 32 else { throw ConfigurationError("YIDAI_INDEX_KEY must be base64 of 32 bytes") }
            indexSeed = key
        }
        let cwd = FileManager.default.currentDirectoryPath
        return AppConfig(
            database: database,
            dataDirectory: dataDirectory,
            encryptionKeys: keys,
            activeKeyID: activeKeyID,
            indexSeed: indexSeed ?? keys[activeKeyID] ?? Data(),
            usesDevelopmentKey: usesDevelopmentKey,
            policyDirectory: env["YIDAI_POLICY_DIR"] ?? cwd + "/Policies/credit",
            signing: try SigningMaterial.load(
                environment: env, dataDirectory: dataDirectory, isTesting: environment == .testing,
                log: { generated, message in generated ? logger.warning("\(message)") : logger.notice("\(message)") }),
            auditAnchorFile: env["YIDAI_AUDIT_ANCHOR_FILE"].flatMap { $0.isEmpty ? nil : $0 }
                ?? (environment == .testing ? nil : dataDirectory + "/audit-anchors.jsonl"),
            reviewPolicy: try reviewPolicy(env["YIDAI_SECOND_REVIEW_ABOVE"]),
            publicBaseURL: try publicBaseURL(env["YIDAI_PUBLIC_URL"]),
            ocr: try AppConfigParsing.ocr(env["YIDAI_OCR"]),
            trustedProxies: try TrustedProxies.parse(env["YIDAI_TRUSTED_PROXIES"]),
            metricsToken: env["YIDAI_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
            databasePool: try DatabasePool.parse(env["YIDAI_DB_POOL"])
        )
    }
}

extension AppConfig {
    static let defaultPublicBaseURL = "http://127.0.0.1:8080"

    /// `http(s)://host[:port][/path]` without query or fragment; a trailing slash is dropped.
    static func publicBaseURL(_ raw: String?) throws -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return defaultPublicBaseURL }
        var text = raw
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, !text.contains(" ")
        else {
            throw ConfigurationError("YIDAI_PUBLIC_URL must be an http:// or https:// address without query, like https://loan.example.com (got \(raw))")
        }
        return text
    }

    static func reviewPolicy(_ raw: String?) throws -> ManualReview.Policy {
        var policy = ManualReview.Policy.standard
        guard let raw, !raw.isEmpty else { return policy }
        guard let yuan = Money.parse(raw), let fen = Money.fen(exactly: yuan), fen > 0, fen <= policy.maximumLimitFen else {
            throw ConfigurationError("YIDAI_SECOND_REVIEW_ABOVE must be an amount in yuan between 0.01 and 200000 (got \(raw))")
        }
        policy.secondReviewAboveFen = fen
        return policy
    }
}

enum AppConfigParsing {
    /// `YIDAI_OCR`: unset or empty is `tesseract`.
    static func ocr(_ raw: String?) throws -> AppConfig.OCRChoice {
        guard let raw, !raw.isEmpty else { return .tesseract }
        guard let choice = AppConfig.OCRChoice(rawValue: raw.lowercased()) else {
            throw ConfigurationError("YIDAI_OCR must be tesseract or sandbox (got \(raw))")
        }
        return choice
    }

    static func database(_ url: String) throws -> AppConfig.DatabaseChoice {
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard path.hasPrefix("/") else {
                throw ConfigurationError("DATABASE_URL must be sqlite:///absolute/path/yidai.sqlite (got a relative path)")
            }
            return .sqlite(path: path)
        }
        if url == "sqlite::memory:" { return .sqliteInMemory }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url: url) }
        if url.hasPrefix("postgres+uds://") || url.hasPrefix("postgresql+uds://") { return try postgresSocket(url) }
        throw ConfigurationError("DATABASE_URL must start with sqlite:///, postgres:// or postgres+uds:// (got \(url.prefix(12))…)")
    }

    /// PostgreSQL on this machine through its Unix-domain socket (PostgresKit's form):
    /// `postgres+uds://user[:password]@localhost/path/to/.s.PGSQL.5432#database`, for a database, or a pooler, on the
    /// same host. It skips the kernel's loopback TCP; what that saves is measured in BENCHMARKS.md (session 16: inside
    /// that machine's noise).
    static func postgresSocket(_ url: String) throws -> AppConfig.DatabaseChoice {
        let example = "postgres+uds://user@localhost/var/run/postgresql/.s.PGSQL.5432#database"
        guard let parts = URLComponents(string: url), let user = parts.user, !user.isEmpty else {
            throw ConfigurationError("DATABASE_URL names no user before @ (expected \(example))")
        }
        guard parts.port == nil, parts.host.map({ $0.isEmpty || $0 == "localhost" }) ?? true else {
            throw ConfigurationError("DATABASE_URL with postgres+uds:// takes no host or port but a socket's path (expected \(example))")
        }
        guard parts.path.hasPrefix("/"), parts.path.count > 1 else {
            throw ConfigurationError("DATABASE_URL with postgres+uds:// needs the socket's absolute path (expected \(example))")
        }
        guard let database = parts.fragment, !database.isEmpty else {
            throw ConfigurationError("DATABASE_URL with postgres+uds:// needs the database after # (expected \(example))")
        }
        return .postgres(url: url)
    }
}

struct ConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A per-installation key for development and demos, created on first start.
enum DevelopmentKey {
    static func loadOrCreate(in directory: String) throws -> (id: String, key: Data, created: Bool) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/dev-key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, let key = Data(base64Encoded: parts[1]), key.count == 32 {
                return (parts[0], key, false)
            }
            throw ConfigurationError("\(path) is not a valid development key file; delete it to generate a new one")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let key = Data(bytes)
        let id = "dev1"
        try "\(id):\(key.base64EncodedString())\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = chmod(path, 0o600)
        return (id, key, true)
    }
}
