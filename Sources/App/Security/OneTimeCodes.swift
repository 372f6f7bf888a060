import Fluent
import FluentPostgresDriver
import Foundation
import LendingCore
import PostgresNIO
import Providers
import SQLKit
import Vapor

/// SMS one-time codes: 6 digits, valid 5 minutes, 5 tries per code (however many arrive at once), at most one
/// send per phone and purpose per 60 s and 10 per day per phone (domain.md). Codes are stored as salted HMACs.
/// (`failed_attempts` counts every try, the right one included: it is raised before the comparison.)
struct OneTimeCodes {
    enum Purpose: String, Sendable {
        case signIn = "sign_in"
        case bankCard = "bank_card"
        case creditAuthorization = "credit_authorization"
        case contract = "contract"
        /// Proves the phone on the lead page (a person asking to be called back).
        case lead = "lead"
        /// Step-up into the privacy centre (个人信息保护), which shows personal data unmasked.
        case privacy = "privacy"

        var smsText: String {
            switch self {
            case .signIn: "登录验证码"
            case .bankCard: "银行卡验证码"
            case .creditAuthorization: "征信授权签署验证码"
            case .contract: "借款合同签署验证码"
            case .lead: "预约客户经理验证码"
            case .privacy: "个人信息查询验证码"
            }
        }
    }

    static let validity: TimeInterval = 300
    static let resendInterval: TimeInterval = 60
    static let dailyLimit = 10
    static let maxFailedAttempts = 5

    let db: Database
    let services: YidaiServices

    struct Sent: Content {
        let sentTo: String
        let expiresInSeconds: Int
        let resendAfterSeconds: Int
    }

    /// Sends a code. The phone's sends of the last day are one row (`PhoneSends`): the limits are checked against it
    /// and the code recorded with a compare-and-set on it, so two requests at the same moment cannot both slip under
    /// them (the one that loses reads the row again and is checked again); an SMS that could not be sent is taken
    /// off the row again and does not count.
    func send(to phone: MobileNumber, purpose: Purpose, applicationID: UUID?, clientAddress: String) async throws -> Sent {
        let now = services.clock.now()
        let phoneIndex = services.cipher.blindIndex(phone.value, purpose: "phone")
        let clientIndex = services.cipher.blindIndex(clientAddress, purpose: "client")
        if let wait = try await services.limiter.attempt("sms:" + clientIndex, rule: RateRules.smsPerClientPerHour, now: now, on: db) {
            throw APIError.tooManyRequests(
                retryAfter: wait, message: "Too many SMS codes requested from this address. Try again in \(wait) seconds.",
                zh: "发送过于频繁，请\(wait)秒后再试。")
        }
        let code = SecretHash.randomDigits(6)
        let salt = SecretHash.randomToken(bytes: 16)
        let (id, codeHash, expiresAt) = (RandomID.uuid(), SecretHash.otp(code, salt: salt), now.addingTimeInterval(Self.validity))
        let insert = Insert(
            id: id, phoneIndex: phoneIndex, purpose: purpose.rawValue, applicationID: applicationID, codeHash: codeHash, salt: salt,
            expiresAt: expiresAt, sentAt: now, clientIndex: clientIndex)
        try await PhoneSends.change(phoneIndex, now: now, recording: insert, on: db) { recent in
            try Self.check(recent, purpose: purpose, now: now)
            return [PhoneSends.Send(id: id, purpose: purpose.rawValue, at: now)] + recent
        }
        do {
            let (sms, text) = (services.providers.sms, "【易贷】您的\(purpose.smsText)为\(code)，5分钟内有效。请勿告诉他人。")
            try await services.metrics.measure(provider: "sms") { try await sms.send(to: phone, text: text) }
        } catch {
            // Not sent, so not counted against the phone's limits either.
            try? await PhoneSends.change(phoneIndex, now: now, recording: nil, on: db) { recent in recent.filter { $0.id != id } }
            try? await db.writeStatement { sql in try await sql.raw("DELETE FROM one_time_codes WHERE id = \(bind: id)").run() }
            throw APIError(.serviceUnavailable, code: "service_unavailable", message: "The SMS service is not available right now. Please try again.",
                           messageZh: "短信服务暂时不可用，请稍后再试。")
        }
        return Sent(sentTo: phone.masked, expiresInSeconds: Int(Self.validity), resendAfterSeconds: Int(Self.resendInterval))
    }

    /// The phone's limits against its sends of the last day, the newest first: one send per purpose per 60 s (the
    /// bank-card code may follow the sign-in code at once), and 10 a day of every purpose.
    static func check(_ recent: [PhoneSends.Send], purpose: Purpose, now: Date) throws {
        if let last = recent.first(where: { $0.purpose == purpose.rawValue }), now.timeIntervalSince(last.at) < resendInterval {
            let wait = max(1, Int((resendInterval - now.timeIntervalSince(last.at)).rounded(.up)))
            throw APIError.tooManyRequests(
                retryAfter: wait, message: "A code for this step was sent to this phone less than 60 seconds ago. Try again in \(wait) seconds.",
                zh: "验证码已发送，请\(wait)秒后再试。")
        }
        if recent.count >= dailyLimit, let oldest = recent.last {
            let wait = max(1, Int((86_400 - now.timeIntervalSince(oldest.at)).rounded(.up)))
            throw APIError.tooManyRequests(
                retryAfter: wait, message: "This phone has reached the limit of 10 codes a day.",
                zh: "该手机号今日验证码次数已达上限，请明天再试。")
        }
    }

    /// A code that matched: consume it with `consume(_:on:)` in the transaction of the step it proves.
    struct Proof: Sendable {
        let id: UUID
    }

    /// Checks the newest live code for this phone and purpose without consuming it. Every try counts: the
    /// attempt counter is raised and checked in one statement before the comparison, so the sixth try is refused
    /// however many arrive at once, and a code for one purpose is never looked at for another.
    func check(_ code: String, phone: MobileNumber, purpose: Purpose, field: String = "code") async throws -> Proof {
        let trimmed = code.trimmingCharacters(in: .whitespaces)
        guard trimmed.count == 6, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else {
            throw APIError(.unprocessableEntity, code: "invalid_code_format", message: "The SMS code must be 6 digits.", messageZh: "请输入6位数字验证码。", field: field)
        }
        let now = services.clock.now()
        let phoneIndex = services.cipher.blindIndex(phone.value, purpose: "phone")
        guard db is any SQLDatabase else { throw AuditError("codes need an SQL database") }
        let max = Self.maxFailedAttempts
        // One statement counts the try against the phone's newest unused code for this purpose, if that code is
        // still valid and not locked, and returns it; only when it does not is the code read again, to say why.
        let counted = try await db.writeStatement { sql in
            try await PreparedStatements.all(CountTry(phoneIndex: phoneIndex, purpose: purpose.rawValue, max: max, now: now), on: sql).first
        }
        guard let row = counted else {
            throw try await Self.refusal(phoneIndex: phoneIndex, purpose: purpose, now: now, field: field, on: db)
        }
        let id = try row.decode(column: "id", as: UUID.self)
        let record = (codeHash: try row.decode(column: "code_hash", as: String.self), salt: try row.decode(column: "salt", as: String.self))
        let attempts = try row.decode(column: "failed_attempts", as: Int.self)
        guard SecretHash.otp(trimmed, salt: record.salt) == record.codeHash else {
            let left = max - attempts
            if left <= 0 {
                throw APIError(.unprocessableEntity, code: "code_locked", message: "Too many wrong tries: request a new SMS code.", messageZh: "验证码错误次数过多，请重新获取。", field: field)
            }
            throw APIError(.unprocessableEntity, code: "code_incorrect", message: "The SMS code is not correct (\(left) tries left).", messageZh: "验证码不正确，还可尝试\(left)次。", field: field)
        }
        return Proof(id: id)
    }

    /// Why no try could be counted: no unused code, an expired one, or one with no tries left.
    static func refusal(phoneIndex: String, purpose: Purpose, now: Date, field: String, on db: any Database) async throws -> APIError {
        guard let sql = db as? any SQLDatabase else { throw AuditError("codes need an SQL database") }
        guard let row = try await sql.raw("""
                SELECT expires_at FROM one_time_codes
                WHERE phone_index = \(bind: phoneIndex) AND purpose = \(bind: purpose.rawValue) AND consumed_at IS NULL
                ORDER BY sent_at DESC LIMIT 1
                """).first()
        else {
            return APIError(.unprocessableEntity, code: "code_not_requested", message: "Request an SMS code first.", messageZh: "请先获取验证码。", field: field)
        }
        if try row.decode(column: "expires_at", as: Date.self) <= now {
            return APIError(.unprocessableEntity, code: "code_expired", message: "The SMS code has expired: request a new one.", messageZh: "验证码已过期，请重新获取。", field: field)
        }
        return APIError(.unprocessableEntity, code: "code_locked", message: "Too many wrong tries: request a new SMS code.", messageZh: "验证码错误次数过多，请重新获取。", field: field)
    }

    /// Uses up a checked code inside the transaction of its step: if the step rolls back, the code stays usable;
    /// if another request used it first, this one gets 409.
    func consume(_ proof: Proof, on tx: any Database) async throws {
        let now = services.clock.now()
        guard let sql = tx as? any SQLDatabase else { return }
        let rows = try await PreparedStatements.all(Consume(id: proof.id, now: now), on: sql)
        guard !rows.isEmpty else { throw Self.alreadyUsed }
    }

    /// A checked code that another request used first.
    static let alreadyUsed = APIError(
        .conflict, code: "code_already_used", message: "This SMS code has just been used by another request.",
        messageZh: "该验证码已被使用，请重新获取。", field: "code")
}

// The codes' statements: every journey sends and checks several codes (prepared on PostgreSQL, `PreparedStatements`).
extension OneTimeCodes {
    /// A phone's SMS codes of the last day (`code_sends`): the row every send checks and changes.
    enum PhoneSends {
        struct Send: Codable, Equatable, Sendable {
            let id: UUID
            let purpose: String
            let at: Date
        }

        /// How many times a send reads the row again after another request changed it first.
        static let tries = 8

        /// The row's sends as stored: JSON, times as milliseconds since 1970.
        static func encoded(_ sends: [Send]) throws -> String {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .millisecondsSince1970
            return String(decoding: try encoder.encode(sends), as: UTF8.self)
        }

        static func decoded(_ text: String) throws -> [Send] {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            return try decoder.decode([Send].self, from: Data(text.utf8))
        }

        /// Changes the phone's sends of the last day (the newest first) with `change`, which may refuse by throwing,
        /// and records `code` with the change: a compare-and-set on the row's version (a phone without a row has
        /// version 0), read again and changed again when another request changed it first.
        static func change(
            _ phoneIndex: String, now: Date, recording code: Insert?, on db: any Database,
            _ change: @Sendable ([Send]) throws -> [Send]
        ) async throws {
            guard let sql = db as? any SQLDatabase else { throw AuditError("codes need an SQL database") }
            let dayAgo = now.addingTimeInterval(-86_400)
            // On PostgreSQL a send first assumes the phone has no row yet (a new applicant's first code): one statement
            // claims and records the code, or, when the phone has a row after all, returns it, and the send is checked
            // and tried again against that row. Elsewhere every try reads the row first.
            var seen: (version: Int, sends: String)? = code != nil && !db.isSQLite && PreparedStatements.enabled ? (0, "[]") : nil
            for _ in 0..<tries {
                let version: Int, stored: String
                if let known = seen {
                    (version, stored) = known
                } else {
                    let row = try await PreparedStatements.all(Read(phoneIndex: phoneIndex), on: sql).first
                    version = try row?.decode(column: "version", as: Int.self) ?? 0
                    stored = try row?.decode(column: "sends", as: String.self) ?? "[]"
                }
                let recent = try decoded(stored).filter { $0.at > dayAgo }
                let claim = Claim(phoneIndex: phoneIndex, sends: try encoded(try change(recent)), now: now, version: version)
                switch try await claimed(claim, recording: code, on: db) {
                case .claimed: return
                case .changedBefore(let row): seen = row
                case .notClaimed: seen = nil
                }
            }
            throw APIError(.serviceUnavailable, code: "service_unavailable", message: "Too many requests for this phone at the same moment. Please try again.",
                           messageZh: "该手机号同时请求过多，请稍后再试。")
        }

        enum Claimed {
            case claimed
            /// Not claimed: the row had changed; this is the row as the statement saw it.
            case changedBefore((version: Int, sends: String))
            /// Not claimed, and the row is to be read again.
            case notClaimed
        }

        /// Writes the claim and, if it matched, the code: in one statement on PostgreSQL (which returns the phone's
        /// row when the claim did not match), in one transaction on SQLite.
        private static func claimed(_ claim: Claim, recording code: Insert?, on db: any Database) async throws -> Claimed {
            guard let code else { return try await PreparedStatements.all(claim, on: db).isEmpty ? .notClaimed : .claimed }
            if db.isSQLite {
                return try await db.writeTransaction { tx in
                    guard try await !PreparedStatements.all(claim, on: tx).isEmpty else { return .notClaimed }
                    _ = try await PreparedStatements.all(code, on: tx)
                    return .claimed
                }
            }
            guard let row = try await PreparedStatements.all(ClaimRecording(values: claim.values + code.values), on: db).first else {
                return .notClaimed  // no row in this statement's snapshot: another request added it a moment ago
            }
            if try row.decode(column: "claimed", as: Bool.self) { return .claimed }
            return .changedBefore((try row.decode(column: "version", as: Int.self), try row.decode(column: "sends", as: String.self)))
        }

        struct Read: PreparedRowStatement {
            static let name = "OneTimeCodes.PhoneSends.Read"
            static let sql = "SELECT sends, version FROM code_sends WHERE phone_index = $1"
            static let bindingDataTypes: [PostgresDataType] = [.text]
            let phoneIndex: String
            var values: [any StatementValue & Sendable] { [phoneIndex] }
        }

        /// The row's new sends if its version is still `version` (or it has no row), returning the phone when written.
        struct Claim: PreparedRowStatement {
            static let name = "OneTimeCodes.PhoneSends.Claim"
            static let sql = """
                INSERT INTO code_sends AS c (phone_index, sends, version, updated_at) VALUES ($1, $2, 1, $3) \
                ON CONFLICT (phone_index) DO UPDATE SET sends = excluded.sends, version = c.version + 1, updated_at = excluded.updated_at \
                WHERE c.version = $4 RETURNING phone_index
                """
            static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .int8]
            let phoneIndex, sends: String
            let now: Date
            let version: Int
            var values: [any StatementValue & Sendable] { [phoneIndex, sends, Int(now.timeIntervalSince1970), version] }
        }

        /// `Claim`, and the code (`Insert`'s values from `$5`) only when the claim was written: one row, `claimed` true;
        /// otherwise the phone's row as this statement saw it (`claimed` false, its `sends` and `version`), or no row.
        struct ClaimRecording: PreparedRowStatement {
            static let name = "OneTimeCodes.PhoneSends.ClaimRecording"
            static let sql = "WITH claim AS (\(Claim.sql)), code AS ("
                + Insert.statement(first: Claim.bindingDataTypes.count + 1, when: "EXISTS (SELECT 1 FROM claim)") + " RETURNING id) "
                + "SELECT true AS claimed, '' AS sends, 0::bigint AS version FROM code UNION ALL "
                + "SELECT false, sends, version::bigint FROM code_sends WHERE phone_index = $1 AND NOT EXISTS (SELECT 1 FROM claim)"
            static let bindingDataTypes = Claim.bindingDataTypes + Insert.bindingDataTypes
            let values: [any StatementValue & Sendable]
        }
    }

    /// A new code, no try counted yet.
    struct Insert: PreparedRowStatement {
        static let name = "OneTimeCodes.Insert"
        static let sql = statement(first: 1, when: nil)
        /// The insert with its values from `$<first>` on, made only `when` (SQL) holds.
        static func statement(first n: Int, when condition: String?) -> String {
            "INSERT INTO one_time_codes (id, phone_index, purpose, application_id, code_hash, salt, failed_attempts, expires_at, sent_at, client_index) "
                + (condition == nil ? "VALUES (" : "SELECT ")
                + "$\(n), $\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5), 0, $\(n + 6), $\(n + 7), $\(n + 8)"
                + (condition.map { " WHERE \($0)" } ?? ")")
        }
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .text, .text, .uuid, .text, .text, .timestamptz, .timestamptz, .text]
        let id: UUID
        let phoneIndex, purpose: String
        let applicationID: UUID?
        let codeHash, salt: String
        let expiresAt, sentAt: Date
        let clientIndex: String?
        var values: [any StatementValue & Sendable] { [id, phoneIndex, purpose, applicationID, codeHash, salt, expiresAt, sentAt, clientIndex] }
    }

    /// Counts a try against the phone's newest unused code for the purpose, if it is valid and not locked, and
    /// returns that code.
    struct CountTry: PreparedRowStatement {
        static let name = "OneTimeCodes.CountTry"
        static let sql = """
            UPDATE one_time_codes SET failed_attempts = failed_attempts + 1
            WHERE id = (SELECT id FROM one_time_codes
                        WHERE phone_index = $1 AND purpose = $2 AND consumed_at IS NULL
                        ORDER BY sent_at DESC LIMIT 1)
              AND failed_attempts < $3 AND consumed_at IS NULL AND expires_at > $4
            RETURNING id, code_hash, salt, failed_attempts
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .timestamptz]
        let phoneIndex, purpose: String
        let max: Int
        let now: Date
        var values: [any StatementValue & Sendable] { [phoneIndex, purpose, max, now] }
    }

    /// Uses the code up, unless it was used already.
    struct Consume: PreparedRowStatement {
        static let name = "OneTimeCodes.Consume"
        static let sql = "UPDATE one_time_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL RETURNING id"
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .timestamptz]
        let id: UUID
        let now: Date
        var values: [any StatementValue & Sendable] { [id, now] }
    }
}
