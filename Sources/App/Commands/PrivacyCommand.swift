import Fluent
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

/// `yidai keys rewrap`: after a new key joins the end of `YIDAI_KEYS`, re-wraps every person's data key under it,
/// so the old ring key can later be retired. Rows of personal data are not touched: that is what the per-person keys
/// are for. (Values sealed directly by the ring, such as staff TOTP secrets, are few and re-sealed here too.)
struct KeysCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "rewrap")
        var action: String
    }

    var help: String { "Key ring: re-wrap every person's data key under the active ring key (rewrap)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "rewrap" else {
            context.console.error("Unknown action \(signature.action): use `yidai keys rewrap`.")
            throw ExitCode(2)
        }
        let app = context.application
        try await app.autoMigrate()
        let count = try await KeyRewrap(db: app.db, cipher: app.yidai.cipher).run()
        context.console.print("Re-wrapped \(count.personKeys) person key(s) and \(count.staffSecrets) staff secret(s) under key \(app.yidai.cipher.activeKeyID).")
        try await AuditTrail(db: app.db, services: app.yidai).record(
            application: nil, actor: "operator", action: "keys.rewrapped",
            details: ["personKeys": String(count.personKeys), "staffSecrets": String(count.staffSecrets), "key": app.yidai.cipher.activeKeyID])
    }
}

struct KeyRewrap {
    let db: Database
    let cipher: FieldCipher

    func run() async throws -> (personKeys: Int, staffSecrets: Int) {
        let prefix = cipher.activeKeyID + ":"
        var keys = 0
        for row in try await PersonKey.query(on: db).all() where !row.wrapped.hasPrefix(prefix) {
            row.wrapped = try cipher.seal(try cipher.open(row.wrapped))
            try await row.save(on: db)
            keys += 1
        }
        var secrets = 0
        for member in try await StaffMember.query(on: db).filter(\.$totpSecretSealed != nil).all() {
            guard let sealed = member.totpSecretSealed, !sealed.hasPrefix(prefix) else { continue }
            member.totpSecretSealed = try cipher.seal(try cipher.open(sealed))
            try await member.save(on: db)
            secrets += 1
        }
        return (keys, secrets)
    }
}
