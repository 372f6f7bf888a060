import App
import Foundation
import Vapor

// `policy eval|bench|test` and `quote` are pure computations: they run without booting the server.
let arguments = Array(CommandLine.arguments.dropFirst())
if let status = OfflineCommands.run(arguments) {
    exit(status)
}

ServerRuntime.runConcurrencyOnEventLoops()
StructuredLogging.bootstrapFromEnvironment()  // LOG_FORMAT=json: one JSON object per line
var env = try Environment.detect(arguments: [CommandLine.arguments[0]] + OfflineCommands.serverArguments(arguments))
let app = try await Application.make(env)
do {
    try await configure(app)
    try await app.execute()
} catch let exit as ExitCode {
    try? await app.asyncShutdown()
    Foundation.exit(exit.code)
} catch {
    app.logger.critical("\(error)")
    try? await app.asyncShutdown()
    exit(1)
}
try await app.asyncShutdown()
