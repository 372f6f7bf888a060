import Fluent
import Vapor

/// `yidai audit verify`: walks the hash chain and reports the first broken link.
struct AuditCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify")
        var action: String
    }

    var help: String { "Audit trail tools: `audit verify` checks the hash chain." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "verify" else {
            throw ConfigurationError("unknown audit action \(signature.action); use `audit verify`")
        }
        let app = context.application
        try await app.autoMigrate()
        let result = try await AuditTrail(db: app.db, clock: app.yidai.clock).verify()
        if let broken = result.firstBrokenSequence {
            context.console.error("Audit trail BROKEN at entry \(broken): \(result.problem ?? "")")
            throw ExitCode(1)
        }
        context.console.print("Audit trail intact: \(result.entries) entries, every link verified.")
    }
}

/// Thrown by a command that has already said what went wrong: the process exits with `code`, nothing more is logged.
public struct ExitCode: Error, CustomStringConvertible {
    public let code: Int32
    init(_ code: Int32) { self.code = code }
    public var description: String { "exit \(code)" }
}

/// `yidai seed`: migrate and load the demo organisation and the shipped policy (the server also does this on start).
struct SeedCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Migrate the database, seed the demo organisation and publish the shipped credit policy." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        try await DemoData.seed(on: app.db, logger: app.logger, clock: app.yidai.clock)
        try await DemoData.publishShippedPolicy(app)
        context.console.print("Database ready.")
    }
}
