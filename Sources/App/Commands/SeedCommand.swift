import Vapor

/// `yidai seed`: migrate and load the demo organisation and the shipped policy (the server also does this on start).
struct SeedCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Migrate the database, seed the demo organisation and publish the shipped credit policy." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        try await DemoData.seed(on: app.db, logger: app.logger, clock: app.yidai.clock)
        if app.yidai.providers.isSandbox {
            try await DemoData.enrolDemoSecondFactor(on: app.db, cipher: app.yidai.cipher, clock: app.yidai.clock)
        }
        try await DemoData.publishShippedPolicy(app)
        context.console.print("Database ready.")
    }
}
