import Foundation
import Vapor

/// `yidai privacy run [--dry-run]`: the privacy job now (the server runs it hourly): accepted erasure requests
/// carried out, locked data whose retention ended destroyed, expired exports removed. `--dry-run` lists what it
/// would destroy or lock and changes nothing.
struct PrivacyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "run")
        var action: String
        @Flag(name: "dry-run", help: "List what would be destroyed or locked; change nothing.")
        var dryRun: Bool
    }

    var help: String { "Privacy (PIPL): run the erasure and retention job now (run [--dry-run])." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "run" else {
            context.console.error("Unknown action \(signature.action): use `yidai privacy run [--dry-run]`.")
            throw ExitCode(2)
        }
        let app = context.application
        try await app.autoMigrate()
        let report = try await PrivacyJob(db: app.db, services: app.yidai).run(dryRun: signature.dryRun)
        let formatter = ISO8601DateFormatter()
        for action in report.actions {
            context.console.print("\(signature.dryRun ? "would " : "")\(action.action) request \(action.request.uuidString.lowercased()) (\(action.phone))"
                + (action.keptUntil.map { ", kept until \(formatter.string(from: $0))" } ?? "") + ": \(action.detail)")
        }
        context.console.print("\(signature.dryRun ? "Dry run: " : "")\(report.actions.count) request(s), \(report.exportsRemoved) expired export(s)\(signature.dryRun ? " would be removed" : " removed").")
    }
}
