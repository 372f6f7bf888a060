import Fluent
import Foundation
import LendingCore
@_spi(CMS) import X509

/// `yidai audit verify`: everything an auditor needs to trust the trail.
/// 1. The chain: sequences 1, 2, 3… without a gap, each entry pointing to its predecessor's hash, each hash the
///    HMAC of the entry under its key (plain SHA-256 only for entries written before keyed hashes existed).
/// 2. The head row agrees with the last entry.
/// 3. Every anchor (table and file) carries the bank's valid signature, its entry is still there with the same
///    hash, and the trail has not shrunk below the anchored count.
/// 4. Completeness: every application has its start and an entry for the state it is in, every loan its
///    disbursement, every finished payment its outcome.
struct AuditVerifier {
    let db: Database
    let services: YidaiServices

    struct Report: Sendable {
        var entries = 0
        var anchorsChecked = 0
        var firstBrokenSequence: Int?
        var problems: [String] = []
        var isIntact: Bool { problems.isEmpty }

        mutating func fail(_ sequence: Int?, _ problem: String) {
            if let sequence { firstBrokenSequence = min(firstBrokenSequence ?? sequence, sequence) }
            problems.append(problem)
        }
    }

    private struct Subject {
        var started = false
        var lastState: String?
        var lastSequence = 0
    }

    func verify() async throws -> Report {
        var report = Report()
        var previous = AuditTrail.genesis
        var expected = 1
        let legacyUntil = try await AuditAnchoring.head(on: db).legacyUntil
        var hashes: [Int: String] = [:]
        var applications: [UUID: Subject] = [:]
        var mentioned = Set<String>()  // loan and payment ids named by an entry's details
        var broken = false
        var lastSequence = 0
        while true {
            let page = try await AuditEntry.query(on: db).filter(\.$sequence >= expected).sort(\.$sequence, .ascending).limit(2000).all()
            if page.isEmpty { break }
            for entry in page {
                report.entries += 1
                lastSequence = entry.sequence
                if !broken {
                    if entry.sequence != expected {
                        report.fail(expected, "entry \(expected) is missing (the next entry is \(entry.sequence))")
                        broken = true
                    } else if entry.previousHash != previous {
                        report.fail(entry.sequence, "entry \(entry.sequence) does not point to the hash of entry \(entry.sequence - 1)")
                        broken = true
                    } else if entry.keyID == nil && entry.sequence > legacyUntil {
                        report.fail(entry.sequence, "entry \(entry.sequence) has no key id (it was rewritten without the audit key)")
                        broken = true
                    } else if (try? AuditTrail.hash(of: entry, cipher: services.cipher)) != entry.entryHash {
                        report.fail(entry.sequence, "entry \(entry.sequence) was changed after it was written")
                        broken = true
                    }
                }
                previous = entry.entryHash
                expected = entry.sequence + 1
                hashes[entry.sequence] = entry.entryHash
                if let id = entry.applicationID {
                    var subject = applications[id] ?? Subject()
                    if entry.action == "application.started" { subject.started = true }
                    if let state = Self.state(after: entry) { subject.lastState = state }
                    subject.lastSequence = entry.sequence
                    applications[id] = subject
                }
                if let details = try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8)) {
                    for key in ["loan", "payment"] { if let value = details[key] { mentioned.insert(value.lowercased()) } }
                }
            }
        }
        try await checkHead(lastSequence: lastSequence, lastHash: hashes[lastSequence], into: &report)
        await checkAnchors(hashes: hashes, count: report.entries, lastSequence: lastSequence, into: &report)
        try await checkCompleteness(applications: applications, mentioned: mentioned, lastSequence: lastSequence, into: &report)
        return report
    }

    /// The state an entry says the application entered, if it records a transition.
    static func state(after entry: AuditEntry) -> String? {
        switch entry.action {
        case "application.started": return ApplicationState.started.rawValue
        case "application.cancelled": return ApplicationState.cancelled.rawValue
        case "application.expired": return ApplicationState.expired.rawValue
        default:
            let details = try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8))
            if entry.action == "decision.made", let decision = details?["decision"] { return decision }
            return details?["state"]
        }
    }

    private func checkHead(lastSequence: Int, lastHash: String?, into report: inout Report) async throws {
        let head = try await AuditAnchoring.head(on: db)
        if head.sequence > lastSequence {
            report.fail(lastSequence + 1, "the trail ends at entry \(lastSequence) but its head says \(head.sequence): entries were deleted")
        } else if head.sequence < lastSequence {
            report.fail(head.sequence + 1, "entries after \(head.sequence) were added outside the audit trail")
        } else if lastSequence > 0, head.entryHash != lastHash {
            report.fail(lastSequence, "the head's hash does not match entry \(lastSequence)")
        }
    }

    private func checkAnchors(hashes: [Int: String], count: Int, lastSequence: Int, into report: inout Report) async {
        var anchors: [(source: String, sequence: Int, hash: String, count: Int, millis: Int64, signature: String)] = []
        if let rows = try? await AuditAnchor.query(on: db).sort(\.$sequence).all() {
            for row in rows {
                let millis = Int64((row.anchoredAt.timeIntervalSince1970 * 1000).rounded())
                anchors.append(("anchor table", row.sequence, row.entryHash, row.entryCount, millis, row.signature))
            }
        }
        if let path = services.config.auditAnchorFile {
            do {
                let file = try AuditAnchoring.readFile(path)
                for bad in file.bad { report.fail(nil, "line \(bad) of the anchor file \(path) is not an anchor") }
                for line in file.lines {
                    anchors.append(("anchor file", line.sequence, line.entryHash, line.entryCount, line.anchoredAtMillis, line.signature))
                }
            } catch {
                report.fail(nil, "the anchor file \(path) cannot be read")
            }
        }
        let roots = (try? PEMCertificates.parse(services.config.signing.caPEM)) ?? []
        var seen = Set<String>()
        for anchor in anchors {
            let key = "\(anchor.sequence)|\(anchor.hash)|\(anchor.millis)"
            if !seen.insert(key).inserted { continue }
            report.anchorsChecked += 1
            let statement = AuditAnchoring.statement(
                sequence: anchor.sequence, entryHash: anchor.hash, entryCount: anchor.count, anchoredAtMillis: anchor.millis)
            let signature = Data(base64Encoded: anchor.signature) ?? Data()
            let date = Date(timeIntervalSince1970: Double(anchor.millis) / 1000)
            if case .invalid(let why) = await DetachedSignatureVerifier.verify(
                content: statement, signature: signature, trustRoots: roots, now: date)
            {
                report.fail(anchor.sequence, "the \(anchor.source)'s anchor at entry \(anchor.sequence) is not signed by the bank: \(why)")
                continue
            }
            if anchor.sequence > lastSequence || count < anchor.count {
                report.fail(
                    lastSequence + 1,
                    "the trail has \(count) entries up to \(lastSequence), but the \(anchor.source) anchored \(anchor.count) up to entry \(anchor.sequence): the tail was cut")
            } else if anchor.sequence > 0, hashes[anchor.sequence] != anchor.hash {
                report.fail(anchor.sequence, "entry \(anchor.sequence) no longer has the hash the \(anchor.source) anchored")
            }
        }
    }

    private func checkCompleteness(
        applications: [UUID: Subject], mentioned: Set<String>, lastSequence: Int, into report: inout Report
    ) async throws {
        for application in try await LoanApplication.query(on: db).all() {
            guard let id = application.id else { continue }
            guard let subject = applications[id], subject.started else {
                report.fail(lastSequence + 1, "application \(id) has no application.started entry")
                continue
            }
            if subject.lastState != application.state {
                report.fail(
                    subject.lastSequence + 1,
                    "application \(id) is \(application.state) but its last recorded transition is \(subject.lastState ?? "none")")
            }
        }
        for loan in try await Loan.query(on: db).all() where !mentioned.contains(loan.id?.uuidString.lowercased() ?? "") {
            report.fail(lastSequence + 1, "loan \(loan.id?.uuidString ?? "?") has no entry in the audit trail")
        }
        for payment in try await Payment.query(on: db).all() where !mentioned.contains(payment.id?.uuidString.lowercased() ?? "") {
            report.fail(lastSequence + 1, "payment \(payment.id?.uuidString ?? "?") (\(payment.kind), \(payment.state)) has no entry in the audit trail")
        }
    }
}
