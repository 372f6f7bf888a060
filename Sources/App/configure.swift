import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Leaf
import LendingCore
import Providers
import SQLKit
import Vapor

/// Configures Yidai. This is the only place that reads the environment (through AppConfig).
public func configure(_ app: Application) async throws {
    try await configure(app, providers: nil, clock: nil)
}

/// Tests pass their own providers, clock, PostgreSQL schema and policy folder.
func configure(
    _ app: Application, providers: ProviderSet?, clock: AppClock?, databaseSchema: String? = nil,
    database: AppConfig.DatabaseChoice? = nil, policyDirectory: String? = nil
) async throws {
    var config = try AppConfig.load(environment: app.environment, logger: app.logger)
    if let policyDirectory { config.policyDirectory = policyDirectory }
    if let database { config.database = database }
    let clock = clock ?? .system
    var providers = providers ?? ProviderSet.sandbox(clock: clock.now)
    if config.ocr == .sandbox, !(providers.ocr is SandboxIDCardOCR) {
        // YIDAI_OCR=sandbox: the shipped test cards' answers from a table instead of the engine.
        providers.ocr = SandboxIDCardOCR()
    }

    let metrics = AppMetrics()
    switch config.database {
    case .sqlite(let path):
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
        // Write-ahead logging: readers never wait for the writer, and the writer never waits for readers.
        try await (app.db as? any SQLDatabase)?.raw("PRAGMA journal_mode=WAL").run()
    case .sqliteInMemory:
        app.databases.use(.sqlite(.memory, sqlLogLevel: .debug), as: .sqlite)
    case .postgres(let url):
        var postgres = try SQLPostgresConfiguration(url: url)
        postgres.searchPath = databaseSchema.map { [$0] }
        let perLoop = config.databasePool.perLoop(eventLoops: System.coreCount)
        // Named in pg_stat_activity, so operators (and /metrics) see this instance's connections.
        let instance = "yidai-\(ProcessInfo.processInfo.hostName.prefix(30))-\(ProcessInfo.processInfo.processIdentifier)-\(RandomID.uuid().uuidString.prefix(4).lowercased())"
        postgres.coreConfiguration.options.additionalStartupParameters.append(("application_name", instance))
        app.databases.use(.postgres(configuration: postgres, maxConnectionsPerEventLoop: perLoop, sqlLogLevel: .debug), as: .psql)
        metrics.databasePool = .init(applicationName: instance, maxConnections: perLoop * System.coreCount)
        app.startupLock = StartupLock(configuration: postgres, schema: databaseSchema ?? "public")
    }
    // In their numbered order (Migrations/NNN_…).
    app.migrations.add(CreateApplication())
    app.migrations.add(CreateSecurityTables())
    app.migrations.add(CreateDecisionTables())
    app.migrations.add(CreateOrganization())
    app.migrations.add(CreateContract())
    app.migrations.add(CreateLoan())
    app.migrations.add(CreateLedger())
    app.migrations.add(CreatePayment())
    app.migrations.add(CreateBusinessDate())
    app.migrations.add(CreateSandboxPayments())
    app.migrations.add(AddConcurrencyGuards())
    app.migrations.add(CreateStaffWorkbench())
    app.migrations.add(CreateManagerTools())
    app.migrations.add(CreateJourneyFunnel())
    app.migrations.add(CreateLandingCounts())
    app.migrations.add(CreateConsents())
    app.migrations.add(CreatePolicyOperations())
    app.migrations.add(CreateReportIndexes())
    app.migrations.add(CreateSharedLimits())
    let cipher = FieldCipher(keys: config.encryptionKeys, activeKeyID: config.activeKeyID, indexSeed: config.indexSeed)
    app.migrations.add(CreatePrivacy())
    app.migrations.add(CreateContractDrafts())
    app.migrations.add(CreateAuditLanes())
    app.migrations.add(MovePersonDataToPersonKeys(cipher: cipher))
    app.migrations.add(CreateCodeSends())
    app.migrations.add(AddAuditSealing())
    app.migrations.add(IndexStaffManagerCode())

    _ = app.readiness  // created before any request can ask for it
    app.views.use(.leaf)
    app.leaf.cache.isEnabled = app.environment.isRelease
    app.routes.defaultMaxBodySize = "1mb"
    app.routes.caseInsensitive = false

    app.yidai = YidaiServices(
        config: config,
        cipher: cipher,
        providers: providers,
        clock: clock,
        limiter: RateLimiter(),
        policies: PolicyStore(),
        metrics: metrics)

    // Middleware order: everything below the error renderer answers in the one error shape.
    app.middleware = .init()
    app.middleware.use(RequestIDMiddleware())
    app.middleware.use(MetricsMiddleware(metrics: app.yidai.metrics))
    app.middleware.use(CompressionMiddleware())  // br or gzip when the client accepts it (outside everything that makes a body)
    let assets = try StaticAssets(publicDirectory: app.directory.publicDirectory, reloads: !app.environment.isRelease)
    app.leaf.tags["asset"] = AssetTag(assets: assets)
    app.leaf.tags["inlineStyle"] = InlineStyleTag(assets: assets)
    app.leaf.tags["keepTogether"] = KeepTogetherTag()
    // The server's gzip, for text streamed from files (CompressionMiddleware compresses answers held in memory); PDFs
    // and images stay as they are.
    app.http.server.configuration.responseCompression = .enabledForCompressibleTypes
    app.middleware.use(SecurityHeadersMiddleware(inlineStyleSource: { assets.inlineStyleSource }))  // outside the error renderer, so error pages get the headers too
    app.middleware.use(HashedAssetMiddleware(assets: assets))
    app.middleware.use(ErrorRenderingMiddleware())
    app.middleware.use(PublicFilesMiddleware(publicDirectory: app.directory.publicDirectory, assets: assets))

    try ProductionGuard.check(app: app, config: config, providers: providers)
    // The sandbox outbox lives in the database: every instance shows the same messages, and a restart keeps them.
    if let gateway = providers.sms as? SandboxSMSGateway { await gateway.attach(store: DatabaseSandboxOutbox(db: app.db, cipher: app.yidai.cipher)) }
    if let ocr = providers.ocr as? TesseractIDCardOCR, let problem = ocr.installationProblem() {
        app.logger.error("The ID card OCR cannot run, uploads will answer 503: \(problem)")
    }
    if providers.isSandbox {
        app.logger.warning("[SANDBOX] Outside services are simulated: \(providers.sandboxServices.joined(separator: ", ")). Never use this in production.")
    }

    try routes(app)
    app.asyncCommands.use(AuditCommand(), as: "audit")
    app.asyncCommands.use(DatabaseRoundTripsCommand(), as: "db-roundtrips")
    app.asyncCommands.use(SeedCommand(), as: "seed")
    app.asyncCommands.use(PrivacyCommand(), as: "privacy")
    app.asyncCommands.use(KeysCommand(), as: "keys")
    app.asyncCommands.use(PolicyDatabaseCommand(), as: "policy-db")
    app.asyncCommands.use(ContractCommand(), as: "contract")
    app.asyncCommands.use(EndOfDayCommand(), as: "eod")
    app.asyncCommands.use(LedgerCommand(), as: "ledger")
    app.asyncCommands.use(PaymentsCommand(), as: "payments")
    app.asyncCommands.use(JobsCommand(), as: "jobs")

    app.lifecycle.use(StartupTasks())
    // Handlers stop in the reverse order: the job worker first, then the sealer, which seals what the jobs wrote too.
    app.lifecycle.use(AuditSealingWorker())
    app.lifecycle.use(BackgroundWorker())
}

/// Migrations, demo data and the shipped policy run when the server starts (idempotent). Other commands
/// (publish, replay, audit) migrate for themselves and must not publish the shipped policy behind the risk team's back.
struct StartupTasks: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        guard application.environment != .testing else { return }
        let command = application.environment.arguments.dropFirst().first
        guard command == nil || command == "serve" || command?.hasPrefix("-") == true else { return }
        // Not ready for traffic until done; instances started together take turns (PostgreSQL advisory lock).
        application.readiness.setStarting(true)
        try await application.startupLock.run(on: application.eventLoopGroup.any(), logger: application.logger) {
            try await application.autoMigrate()
            try await KeyRingCheck.verify(on: application.db, cipher: application.yidai.cipher, now: application.yidai.clock.now())
            try await DemoData.seed(on: application.db, logger: application.logger, clock: application.yidai.clock)
            if application.yidai.providers.isSandbox {
                try await DemoData.enrolDemoSecondFactor(on: application.db, cipher: application.yidai.cipher, clock: application.yidai.clock)
            }
            try await ProductionGuard.checkStaff(application)
            try await DemoData.publishShippedPolicy(application)
        }
        try await PendingPaymentRecovery.run(application)
        application.readiness.setStarting(false)
    }
}

/// `--env production` refuses to start with any sandbox provider or the development key.
enum ProductionGuard {
    /// Production refuses to start while any member of staff still signs in with the demo TOTP secret.
    static func checkStaff(_ app: Application) async throws {
        guard app.environment == .production else { return }
        try await checkStaff(on: app.db, cipher: app.yidai.cipher)
    }

    static func checkStaff(on db: Database, cipher: FieldCipher) async throws {
        let demo = try await StaffMember.query(on: db).filter(\.$totpSecretSealed != nil).all()
            .filter { (try? cipher.open($0.totpSecretSealed!)) == StaffSignIn.demoTOTPSecret }.map(\.login)
        if !demo.isEmpty {
            throw ConfigurationError(
                "Refusing to start in production: staff \(demo.joined(separator: ", ")) still use the demo TOTP secret (reset their second factor).")
        }
    }

    static func check(app: Application, config: AppConfig, providers: ProviderSet) throws {
        guard app.environment == .production else { return }
        var problems: [String] = providers.sandboxServices.map { "the \($0) provider is the sandbox simulator" }
        if config.usesDevelopmentKey { problems.append("field encryption uses the local development key (set YIDAI_KEYS)") }
        if config.signing.isDevelopment { problems.append("contracts would be signed with the development CA and key (set YIDAI_SIGNING_KEY and YIDAI_SIGNING_CERT)") }
        if case .sqlite = config.database { app.logger.notice("Production on SQLite: fine for a pilot; use PostgreSQL for a bank.") }
        if config.trustedProxies.ranges.isEmpty {
            app.logger.notice("YIDAI_TRUSTED_PROXIES is empty: behind a proxy or load balancer every applicant would share its address and its limits.")
        }
        if !problems.isEmpty {
            throw ConfigurationError("Refusing to start in production:\n" + problems.map { "  - " + $0 }.joined(separator: "\n"))
        }
    }
}
