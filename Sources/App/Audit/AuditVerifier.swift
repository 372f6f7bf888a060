import Fluent
import Foundation
import LendingCore
@_spi(CMS) import X509

/// `yidai audit verify`: everything an auditor needs to trust the trail.
/// 1. The chain, lane by lane: positions 1, 2, 3… without a gap, each entry pointing to its lane predecessor's hash
///    (the first to the lane's genesis), each hash the HMAC of the entry under its key (plain SHA-256 only for entries
///    written before keyed hashes existed), and no entry outside the lanes.
/// 2. Every lane's head row agrees with the lane's last entry.
/// 3. Every anchor (table and file) carries the bank's valid signature, each lane head it signed is still there with
///    the same hash, and the trail has not shrunk below the anchored count.
/// 4. Completeness: every application has its start and an entry for the state it is in, every loan its
///    disbursement, every finished payment its outcome.
///
/// 5. Entries not sealed yet (PostgreSQL writes an entry with its change and chains it a moment later; the verifier seals
///    what is waiting first, so only entries written meanwhile remain): each one's content still matches the HMAC it
///    was written with; one that does not was changed after it was written, and is never sealed.
///
/// 6. No entry was deleted between its commit and its seal: the instance that wrote it watches it until it is sealed,
///    and records a deletion in the trail (`AuditWatch`), which is reported here.
///
/// A break is reported at an entry's sequence: the changed entry's own, or for a missing entry one after its lane
/// predecessor's (the first sequence it could have had).
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
        var lastStateSequence = 0
        var lastSequence = 0
    }

    /// What the walk of the lanes found, for the checks after it.
    private struct Walk {
        var entries: [String: (hash: String, sequence: Int)] = [:]  // by "lane:position"
        var lastOfLane: [Int: (position: Int, sequence: Int)] = [:]
        var applications: [UUID: Subject] = [:]
        var mentioned = Set<String>()  // loan and payment ids named by an entry's details
        var lastSequence = 0
    }

    func verify() async throws -> Report {
        var report = Report()
        var walk = Walk()
        try await AuditSealing(db: db, services: services).sealAll()
        let heads = try await AuditAnchoring.heads(on: db)
        let missing = Set(1...AuditTrail.laneCount).subtracting(heads.map(\.lane)).sorted()
        if !missing.isEmpty {
            report.fail(nil, "the head rows of lanes \(missing.map(String.init).joined(separator: ", ")) are missing: they were deleted")
        }
        for head in heads {
            try await walkLane(head, into: &walk, report: &report)
        }
        let outside = try await AuditEntry.query(on: db).filter(\.$lane !~ (heads.map(\.lane) + [0])).count()
        if outside > 0 {
            report.entries += outside
            report.fail(walk.lastSequence + 1, "\(outside) entries are in no lane of the chain: they were added outside the audit trail")
        }
        for entry in try await AuditSealing.unsealed(on: db) {
            report.entries += 1
            guard entry.isIntact(cipher: services.cipher) else {
                report.fail(entry.sequence, "entry \(entry.sequence) (not sealed yet) was changed after it was written")
                continue
            }
            Self.track(
                application: entry.applicationID, sequence: entry.sequence, action: entry.action, details: entry.details, into: &walk)
        }
        // Entries deleted before they were sealed, as the sealer of the instance that wrote them recorded it.
        for noted in try await AuditEntry.query(on: db).filter(\.$action == AuditWatch.deletedAction).sort(\.$sequence).all() {
            let details = (try? JSONDecoder().decode([String: String].self, from: Data(noted.details.utf8))) ?? [:]
            report.fail(
                noted.sequence,
                "entry \(details["entry"] ?? "?") (\(details["action"] ?? "?")) was deleted after it was written and before it was sealed "
                    + "(its instance recorded this as entry \(noted.sequence))")
        }
        await checkAnchors(walk: walk, count: report.entries, into: &report)
        try await checkCompleteness(walk: walk, into: &report)
        return report
    }

    /// Walks one lane's entries in order, checking every link, then the lane's head row.
    private func walkLane(_ head: AuditAnchoring.Head, into walk: inout Walk, report: inout Report) async throws {
        var previous = AuditTrail.genesis(lane: head.lane)
        var expected = 1
        var previousSequence = 0
        var broken = false
        let lane = head.lane
        while true {
            let page = try await AuditEntry.query(on: db).filter(\.$lane == lane).filter(\.$lanePosition >= expected)
                .sort(\.$lanePosition, .ascending).limit(2000).all()
            if page.isEmpty { break }
            for entry in page {
                report.entries += 1
                let place = "entry \(entry.sequence) (lane \(lane), position \(entry.lanePosition))"
                if !broken {
                    if entry.lanePosition != expected {
                        report.fail(
                            previousSequence + 1,
                            "position \(expected) of lane \(lane) is missing, after entry \(previousSequence) (the lane's next entry is \(place))")
                        broken = true
                    } else if entry.previousHash != previous {
                        report.fail(entry.sequence, "\(place) does not point to the hash of its lane's previous entry")
                        broken = true
                    } else if entry.keyID == nil && (lane != 1 || entry.lanePosition > head.legacyUntil) {
                        report.fail(entry.sequence, "\(place) has no key id (it was rewritten without the audit key)")
                        broken = true
                    } else if (try? AuditTrail.hash(of: entry, cipher: services.cipher)) != entry.entryHash {
                        report.fail(entry.sequence, "\(place) was changed after it was written")
                        broken = true
                    }
                }
                previous = entry.entryHash
                previousSequence = entry.sequence
                expected = entry.lanePosition + 1
                walk.entries["\(lane):\(entry.lanePosition)"] = (entry.entryHash, entry.sequence)
                Self.track(application: entry.applicationID, sequence: entry.sequence, action: entry.action, details: entry.details, into: &walk)
            }
        }
        let last = expected - 1
        walk.lastOfLane[lane] = (last, previousSequence)
        if head.position > last {
            report.fail(previousSequence + 1, "lane \(lane) ends at position \(last) but its head says \(head.position): entries were deleted")
        } else if head.position < last {
            report.fail(
                walk.entries["\(lane):\(head.position + 1)"]?.sequence,
                "lane \(lane) has entries after position \(head.position), added outside the audit trail")
        } else if last > 0, head.entryHash != previous {
            report.fail(previousSequence, "the head of lane \(lane) does not match its entry \(previousSequence)")
        }
    }

    /// Notes what an entry says for the completeness checks: its application's start and latest transition, and the
    /// loans and payments it names.
    private static func track(application: UUID?, sequence: Int, action: String, details: String, into walk: inout Walk) {
        walk.lastSequence = max(walk.lastSequence, sequence)
        let parsed = try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))
        if let id = application {
            var subject = walk.applications[id] ?? Subject()
            if action == "application.started" { subject.started = true }
            // Lanes interleave: the application's latest transition is the one with the highest sequence.
            if let state = state(after: action, details: parsed), sequence > subject.lastStateSequence {
                subject.lastState = state
                subject.lastStateSequence = sequence
            }
            subject.lastSequence = max(subject.lastSequence, sequence)
            walk.applications[id] = subject
        }
        for key in ["loan", "payment"] { if let value = parsed?[key] { walk.mentioned.insert(value.lowercased()) } }
    }

    /// The state an entry says the application entered, if it records a transition.
    private static func state(after action: String, details: [String: String]?) -> String? {
        switch action {
        case "application.started": return ApplicationState.started.rawValue
        case "application.cancelled": return ApplicationState.cancelled.rawValue
        case "application.expired": return ApplicationState.expired.rawValue
        default:
            if action == "decision.made", let decision = details?["decision"] { return decision }
            return details?["state"]
        }
    }

    private func checkAnchors(walk: Walk, count: Int, into report: inout Report) async {
        var anchors: [(source: String, sequence: Int, hash: String, count: Int, millis: Int64, signature: String, lanes: String?)] = []
        if let rows = try? await AuditAnchor.query(on: db).sort(\.$sequence).all() {
            for row in rows {
                let millis = Int64((row.anchoredAt.timeIntervalSince1970 * 1000).rounded())
                anchors.append(("anchor table", row.sequence, row.entryHash, row.entryCount, millis, row.signature, row.lanes))
            }
        }
        if let path = services.config.auditAnchorFile {
            do {
                let file = try AuditAnchoring.readFile(path)
                for bad in file.bad { report.fail(nil, "line \(bad) of the anchor file \(path) is not an anchor") }
                for line in file.lines {
                    anchors.append(("anchor file", line.sequence, line.entryHash, line.entryCount, line.anchoredAtMillis, line.signature, line.lanes))
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
                sequence: anchor.sequence, entryHash: anchor.hash, entryCount: anchor.count, anchoredAtMillis: anchor.millis, lanes: anchor.lanes)
            let signature = Data(base64Encoded: anchor.signature) ?? Data()
            let date = Date(timeIntervalSince1970: Double(anchor.millis) / 1000)
            if case .invalid(let why) = await DetachedSignatureVerifier.verify(
                content: statement, signature: signature, trustRoots: roots, now: date)
            {
                report.fail(anchor.sequence, "the \(anchor.source)'s anchor at entry \(anchor.sequence) is not signed by the bank: \(why)")
                continue
            }
            // An anchor from before lanes signed the one chain's head: lane 1, where position and sequence were one.
            let signed = anchor.lanes.map { AuditAnchoring.Lanes.parse($0) } ?? [(1, anchor.sequence, anchor.hash)]
            guard let signed, anchor.lanes.map({ AuditAnchoring.Lanes.digest($0) == anchor.hash }) ?? true else {
                report.fail(anchor.sequence, "the \(anchor.source)'s anchor at entry \(anchor.sequence) names no lane heads it can be checked against")
                continue
            }
            if count < anchor.count {
                report.fail(
                    walk.lastSequence + 1,
                    "the trail has \(count) entries, but the \(anchor.source) anchored \(anchor.count) up to entry \(anchor.sequence): the tail was cut")
            }
            for head in signed where head.position > 0 {
                let last = walk.lastOfLane[head.lane] ?? (0, 0)
                if head.position > last.position {
                    report.fail(
                        last.sequence + 1,
                        "lane \(head.lane) ends at position \(last.position), but the \(anchor.source) anchored it up to position \(head.position): the tail was cut")
                } else if let entry = walk.entries["\(head.lane):\(head.position)"], entry.hash != head.hash {
                    report.fail(
                        entry.sequence,
                        "position \(head.position) of lane \(head.lane) no longer has the hash the \(anchor.source) anchored")
                }
            }
        }
    }

    private func checkCompleteness(walk: Walk, into report: inout Report) async throws {
        let applications = walk.applications
        let mentioned = walk.mentioned
        let lastSequence = walk.lastSequence
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
