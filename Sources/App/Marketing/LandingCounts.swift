import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// One day's landings for one manager code, channel and campaign. `manager_code`, `channel` and `campaign` are ""
/// when the link had none (so the unique key holds on SQLite and PostgreSQL alike, where NULLs never clash).
final class LandingCount: Model, @unchecked Sendable {
    static let schema = "landing_counts"
    @ID(key: .id) var id: UUID?
    /// The day in China Standard Time, `YYYY-MM-DD`.
    @Field(key: "day") var day: String
    @Field(key: "manager_code") var managerCode: String
    @Field(key: "channel") var channel: String
    @Field(key: "campaign") var campaign: String
    /// Landings from a scanned code (`ch=qr`).
    @Field(key: "scans") var scans: Int64
    /// Every landing with a `cm`, `ch` or `campaign` parameter (scans included).
    @Field(key: "visits") var visits: Int64

    init() {}
}

/// Counts landings on the applicant's first page (`/?cm=…&ch=…&campaign=…`). A landing is counted for a manager
/// only when `cm` is the code of an active customer manager; an unknown or disabled code is counted as unattributed
/// (manager ""), with its channel and campaign. Nothing personal is stored: no IP address, user agent or cookie.
struct LandingCounter {
    let db: Database
    let clock: AppClock

    /// The channel that means "scanned a QR code" (the code's URL carries `ch=qr`).
    static let scanChannel = "qr"

    struct Landing: Sendable, Equatable {
        var managerCode: String
        var channel: String
        var campaign: String
    }

    /// The cleaned parameters of a landing, or nil when the address carries none of them (a plain visit, not counted).
    static func landing(cm: String?, ch: String?, campaign: String?) -> Landing? {
        let parts = [cm, ch, campaign].map { ($0 ?? "").trimmingCharacters(in: .whitespaces) }
        guard parts.contains(where: { !$0.isEmpty }) else { return nil }
        return Landing(managerCode: clean(cm).uppercased(), channel: clean(ch).lowercased(), campaign: clean(campaign).lowercased())
    }

    /// Letters, digits, `-` and `_`, at most 32 (the same rule as the referral's channel).
    static func clean(_ raw: String?) -> String {
        String((raw ?? "").filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.prefix(32))
    }

    /// Adds one landing in one statement (an upsert that adds to the counters; SQLite ≥ 3.24 and PostgreSQL).
    func record(_ raw: Landing) async throws {
        var landing = raw
        if !landing.managerCode.isEmpty {
            let known = try await StaffMember.query(on: db).filter(\.$managerCode == landing.managerCode).filter(\.$active == true).first()
            if known == nil { landing.managerCode = "" }
        }
        let day = BusinessCalendar.civilDate(clock.now()).iso
        let scans: Int64 = landing.channel == Self.scanChannel ? 1 : 0
        let counted = landing
        // The house's write path (SQLite writers take turns; PostgreSQL reruns on a serialization failure); the
        // upsert itself is one statement, so two landings at once both count.
        try await db.writeTransaction { tx in
            try await (tx as! any SQLDatabase).raw("""
                INSERT INTO landing_counts (id, day, manager_code, channel, campaign, scans, visits)
                VALUES (\(bind: RandomID.uuid()), \(bind: day), \(bind: counted.managerCode), \(bind: counted.channel), \(bind: counted.campaign), \(bind: scans), 1)
                ON CONFLICT (day, manager_code, channel, campaign)
                DO UPDATE SET scans = landing_counts.scans + excluded.scans, visits = landing_counts.visits + excluded.visits
                """).run()
        }
    }

    /// A manager's counts from `from` to `to` (inclusive), oldest day first.
    func rows(manager: String, from: CivilDate, to: CivilDate) async throws -> [LandingCountRow] {
        try await LandingCount.query(on: db)
            .filter(\.$managerCode == manager)
            .filter(\.$day >= from.iso).filter(\.$day <= to.iso)
            .sort(\.$day).sort(\.$channel).sort(\.$campaign)
            .all()
            .map { LandingCountRow(date: $0.day, channel: $0.channel.isEmpty ? nil : $0.channel,
                                   campaign: $0.campaign.isEmpty ? nil : $0.campaign, scans: Int($0.scans), visits: Int($0.visits)) }
    }
}

struct LandingCountRow: Content, Equatable {
    let date: String
    /// nil when the link had no `ch`.
    let channel: String?
    /// nil when the link had no `campaign`.
    let campaign: String?
    let scans: Int
    let visits: Int

    enum CodingKeys: String, CodingKey { case date, channel, campaign, scans, visits }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(date, forKey: .date)
        try c.encode(channel, forKey: .channel)  // null, not absent
        try c.encode(campaign, forKey: .campaign)
        try c.encode(scans, forKey: .scans)
        try c.encode(visits, forKey: .visits)
    }
}

struct LandingCountsView: Content {
    let manager: String
    let from: String
    let to: String
    let rows: [LandingCountRow]
}
