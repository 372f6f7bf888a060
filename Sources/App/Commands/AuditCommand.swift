import Fluent
import Vapor

/// `yidai audit verify` checks the chain, its anchors and its completeness; `yidai audit anchor` checkpoints every lane's head now.
struct AuditCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify | anchor")
        var action: String
    }

    var help: String { "Audit trail tools: `audit verify` checks chain, anchors and completeness; `audit anchor` signs every lane's head now." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        switch signature.action {
        case "verify":
            let report = try await AuditVerifier(db: app.db, services: app.yidai).verify()
            guard report.isIntact else {
                context.console.error("Audit trail BROKEN at entry \(report.firstBrokenSequence.map(String.init) ?? "?"):")
                for problem in report.problems.prefix(20) { context.console.error("  - \(problem)") }
                if report.problems.count > 20 { context.console.error("  … and \(report.problems.count - 20) more") }
                throw ExitCode(1)
            }
            context.console.print(
                "Audit trail intact: \(report.entries) entries, every link verified, \(report.anchorsChecked) signed anchors agree, every application, loan and payment has its entries.")
        case "anchor":
            let anchor = try await AuditAnchoring(db: app.db, services: app.yidai).checkpoint(reason: "manual", force: true)
            let lanes = anchor?.lanes.flatMap { AuditAnchoring.Lanes.parse($0) }?.count ?? 0
            context.console.print(
                "Anchored \(anchor?.entryCount ?? 0) entries up to entry \(anchor?.sequence ?? 0), the heads of \(lanes) lanes (\(anchor?.entryHash.prefix(16) ?? "")…).")
        default:
            throw ConfigurationError("unknown audit action \(signature.action); use `audit verify` or `audit anchor`")
        }
    }
}
