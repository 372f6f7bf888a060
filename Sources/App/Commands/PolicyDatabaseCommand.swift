import Fluent
import LendingCore
import Vapor
import ZenEngine

/// `yidai policy publish DIR [--by NAME]` and `yidai policy replay APPLICATION_ID`: the policy commands
/// that need the database. (`policy eval|bench|test` run without booting the server; see main.swift.)
struct PolicyDatabaseCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "publish | replay | list")
        var action: String
        @Argument(name: "target", help: "policy folder (publish) or application id (replay); `all` for list")
        var target: String
        @Option(name: "by", help: "who publishes (recorded with the version)")
        var by: String?
    }

    var help: String { "Publish a credit policy version (runs its cases first) or replay a stored decision." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        let store = app.yidai.policies
        switch signature.action {
        case "publish":
            let publisher = signature.by ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            do {
                let version = try await store.publish(folderPath: signature.target, by: publisher, on: app.db, now: app.yidai.clock.now())
                context.console.print("Published \(PolicyStore.label(version)) sha256 \(version.sha256) by \(version.publishedBy); it is now active.")
            } catch let error as PolicyStore.PublishError {
                context.console.error(error.description)
                throw ExitCode(1)
            }
        case "list":
            for version in try await PolicyVersion.query(on: app.db).sort(\.$publishedAt).all() {
                context.console.print("\(version.active ? "*" : " ") \(PolicyStore.label(version))  \(version.sha256)  \(version.publishedBy)  \(version.publishedAt)")
            }
        case "replay":
            guard let id = UUID(uuidString: signature.target) else {
                context.console.error("replay needs an application id (a UUID)")
                throw ExitCode(2)
            }
            guard let record = try await DecisionRecord.query(on: app.db).filter(\.$applicationID == id).sort(\.$decidedAt, .descending).first() else {
                context.console.error("no stored decision for application \(id)")
                throw ExitCode(1)
            }
            let parts = record.policyVersion.split(separator: "@")
            guard parts.count == 2, let number = Int(parts[1].dropFirst()),
                  let version = try await PolicyVersion.query(on: app.db).filter(\.$name == String(parts[0])).filter(\.$version == number).first()
            else {
                context.console.error("policy version \(record.policyVersion) is not in the database")
                throw ExitCode(1)
            }
            guard version.sha256 == record.policySHA256 else {
                context.console.error("policy \(record.policyVersion) has sha256 \(version.sha256) but the decision was made with \(record.policySHA256)")
                throw ExitCode(1)
            }
            let input = CreditDecisionInput(value: try ZenJSON.parse(Data(record.inputJSON.utf8)))
            let outcome = try await store.evaluate(input, version: version)
            let same = try ZenJSON.parse(Data(outcome.outputJSON.utf8)) == ZenJSON.parse(Data(record.outputJSON.utf8))
            context.console.print("Application \(id), decided \(record.decidedAt) by \(record.policyVersion) (sha256 \(record.policySHA256.prefix(12))…)")
            context.console.print("input:    \(record.inputJSON)")
            context.console.print("stored:   \(record.outputJSON)")
            context.console.print("replayed: \(outcome.outputJSON)")
            context.console.print(same ? "SAME: the replay gives the stored decision." : "DIFFERENT: the replay does not match the stored decision!")
            if !same { throw ExitCode(1) }
        default:
            context.console.error("unknown policy action \(signature.action); use publish, replay or list")
            throw ExitCode(2)
        }
    }
}
