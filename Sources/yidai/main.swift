import App
import CJemalloc
import Foundation
import Vapor

// Tesseract (the ID card OCR) runs its recognizer on OpenMP threads that spin while they wait: on a server whose
// cores serve requests, and on one core, that made a card's read 3.6 times slower (BENCHMARKS.md). OpenMP reads
// OMP_THREAD_LIMIT once, when the process loads it, so the process starts itself again with the limit set.
OCRThreads.limitToOne()

// `policy eval|bench|test` and `quote` are pure computations: they run without booting the server.
let arguments = Array(CommandLine.arguments.dropFirst())
if let status = OfflineCommands.run(arguments) {
    exit(status)
}

ServerRuntime.runConcurrencyOnEventLoops()
StructuredLogging.bootstrapFromEnvironment()  // LOG_FORMAT=json: one JSON object per line
var env = try Environment.detect(arguments: [CommandLine.arguments[0]] + OfflineCommands.serverArguments(arguments))
let app = try await Application.make(env)
// The allocator is jemalloc's (linked, see Package.swift); said once, so a build that lost it shows in the log.
app.logger.info("memory allocator: \(yidai_jemalloc_version().map { "jemalloc " + String(cString: $0) } ?? "the C library's malloc")")
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
