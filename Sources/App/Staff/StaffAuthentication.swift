import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// Who is asking, once the staff authenticator has checked the session.
struct StaffPrincipal: Sendable {
    let staffID: UUID
    let sessionID: UUID
    let login: String
    let name: String
    let role: StaffPermissions.Role
    let branchCode: String
    let managerCode: String?
    let enrolmentOnly: Bool

    var scopeFacts: StaffScopeFacts { StaffScopeFacts(managerCode: managerCode, branchCode: branchCode) }
}

/// Staff sign-in: login + password (bcrypt) + TOTP (RFC 6238), with the lockout counted in the database.
/// Every sign-in, failure and lock is in the audit trail; a wrong login, password or code all answer the same 401.
struct StaffSignIn {
    let db: Database
    let services: YidaiServices

    static let maxAttempts = 5
    static let lockDuration: TimeInterval = 15 * 60
    static let idleTimeout: TimeInterval = 30 * 60
    static let absoluteLifetime: TimeInterval = 12 * 3600
    static let demoTOTPSecret = "YIDAIDEMOTOTPSECRETYIDAIDEMO2345"
    static let issuer = "易贷"

    struct Result: Sendable {
        let token: String
        let session: StaffSession
        let member: StaffMember
        /// For a member without a second factor: the otpauth URI to enrol, shown this once.
        let enrolmentURI: String?
    }

    /// A bcrypt hash of nothing anyone types, checked when the login is unknown.
    static let decoyHash = (try? Bcrypt.hash(SecretHash.randomToken(), cost: 10)) ?? ""

    static let refused = APIError(
        .unauthorized, code: "sign_in_failed", message: "The login, password or one-time code is not correct.",
        messageZh: "账号、密码或动态验证码不正确。")

    func signIn(login rawLogin: String?, password: String?, totp: String?) async throws -> Result {
        guard let rawLogin, !rawLogin.trimmingCharacters(in: .whitespaces).isEmpty else { throw APIError.missing("login") }
        guard let password, !password.isEmpty else { throw APIError.missing("password") }
        let login = rawLogin.trimmingCharacters(in: .whitespaces).lowercased()
        guard login.count <= 64 else { throw Self.refused }
        let now = services.clock.now()
        let key = services.cipher.blindIndex(login, purpose: "staff-login")
        let audit = AuditTrail(db: db, services: services)

        // Count the try before checking it: the sixth try is refused however many arrive at once.
        let counted = try await countAttempt(key: key, now: now)
        if case .locked(let until) = counted {
            try await audit.record(application: nil, actor: "staff:\(login)", action: "staff.sign_in_refused_locked", details: ["login": login])
            let wait = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
            throw APIError.tooManyRequests(
                retryAfter: wait, message: "Too many failed sign-ins: this login is locked for \(wait / 60 + 1) minutes.",
                zh: "登录失败次数过多，该账号已锁定，请\(wait / 60 + 1)分钟后再试。")
        }
        let member = try await StaffMember.query(on: db).filter(\.$login == login).first()
        var ok = false
        var enrolmentSecret: [UInt8]?
        var matchedStep: Int64?
        // An unknown or disabled login still costs one bcrypt check, so the answer's timing says nothing either.
        // bcrypt takes tens of milliseconds of CPU: on the thread pool, never on an event loop.
        let created = member?.passwordHash ?? Self.decoyHash
        let passwordMatches = (try? await NIOThreadPool.singleton.runIfActive { try Bcrypt.verify(password, created: created) }) == true
        if let member, member.active, passwordMatches {
            if member.totpEnrolledAt != nil, let sealed = member.totpSecretSealed {
                let secret = try Base32.decode(try services.cipher.open(sealed))
                if let code = totp, let step = TimeBasedOneTimePassword.standard.verify(
                    code: code, secret: secret, at: now, lastUsedStep: member.totpLastStep)
                {
                    matchedStep = step
                    ok = try await useStep(step, of: member)
                }
            } else {
                // No second factor yet: a fresh secret, shown once; the session may only confirm it.
                var bytes = [UInt8](repeating: 0, count: 20)
                var rng = SystemRandomNumberGenerator()
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                enrolmentSecret = bytes
                ok = true
            }
        }
        guard ok, let member else {
            try await recordFailure(key: key, login: login, now: now)
            throw Self.refused
        }
        let token = SecretHash.randomToken()
        let session = StaffSession()
        session.tokenHash = SecretHash.sha256Hex(token)
        session.staffID = try member.requireID()
        session.createdAt = now
        session.lastSeenAt = now
        session.expiresAt = now.addingTimeInterval(Self.absoluteLifetime)
        session.enrolmentOnly = enrolmentSecret != nil
        var uri: String?
        if let enrolmentSecret {
            let base32 = Base32.encode(enrolmentSecret)
            member.totpSecretSealed = try services.cipher.seal(base32)
            uri = TimeBasedOneTimePassword.standard.otpauthURI(secretBase32: base32, account: member.login, issuer: Self.issuer)
        }
        let services = services
        let (enrolling, step) = (enrolmentSecret != nil, matchedStep)
        try await db.writeTransaction { tx in
            try await StaffLoginGuard.query(on: tx).filter(\.$loginKey == key).set(\.$attempts, to: 0).set(\.$lockedUntil, to: nil)
                .set(\.$updatedAt, to: now).update()
            if enrolling { try await member.save(on: tx) }
            try await session.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:\(login)", action: enrolling ? "staff.enrolment_started" : "staff.signed_in",
                details: ["login": login, "role": member.role, "step": step.map(String.init) ?? "-"])
        }
        return Result(token: token, session: session, member: member, enrolmentURI: uri)
    }

    /// Confirms the second factor of an enrolment-only session with a code from the authenticator app.
    func confirmEnrolment(_ principal: StaffPrincipal, totp: String?) async throws {
        guard let totp, !totp.isEmpty else { throw APIError.missing("totp") }
        guard let member = try await StaffMember.find(principal.staffID, on: db), let sealed = member.totpSecretSealed else {
            throw APIError.unauthorized
        }
        let now = services.clock.now()
        let secret = try Base32.decode(try services.cipher.open(sealed))
        guard let step = TimeBasedOneTimePassword.standard.verify(code: totp, secret: secret, at: now, lastUsedStep: member.totpLastStep),
            try await useStep(step, of: member)
        else {
            throw APIError.invalid("totp", "The one-time code does not match the secret; check the authenticator app's time and try the next code.",
                                   zh: "动态验证码不正确，请核对后重试。")
        }
        let services = services
        try await db.writeTransaction { tx in
            try await StaffMember.query(on: tx).filter(\.$id == principal.staffID).set(\.$totpEnrolledAt, to: now).update()
            try await StaffSession.query(on: tx).filter(\.$id == principal.sessionID).set(\.$enrolmentOnly, to: false).update()
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:\(principal.login)", action: "staff.second_factor_enrolled", details: ["login": principal.login])
        }
    }

    /// Records the code's time step as used, if no later or equal step was used before (compare-and-set).
    private func useStep(_ step: Int64, of member: StaffMember) async throws -> Bool {
        let id = try member.requireID()
        let rows = try await db.writeTransaction { tx in
            try await (tx as! any SQLDatabase).raw(
                "UPDATE staff SET totp_last_step = \(bind: step) WHERE id = \(bind: id) AND (totp_last_step IS NULL OR totp_last_step < \(bind: step)) RETURNING id"
            ).all()
        }
        if !rows.isEmpty { member.totpLastStep = step }
        return !rows.isEmpty
    }

    private enum Counted {
        case counted
        case locked(until: Date)
    }

    private func countAttempt(key: String, now: Date) async throws -> Counted {
        try await db.writeTransaction { tx in
            try await tx.lock(name: "staff-login:" + key)
            let guardRow: StaffLoginGuard
            if let existing = try await StaffLoginGuard.query(on: tx).filter(\.$loginKey == key).first() {
                guardRow = existing
            } else {
                guardRow = StaffLoginGuard()
                guardRow.loginKey = key
                guardRow.attempts = 0
                guardRow.updatedAt = now
                try await guardRow.create(on: tx)
            }
            if let until = guardRow.lockedUntil {
                if until > now { return .locked(until: until) }
                guardRow.lockedUntil = nil
                guardRow.attempts = 0
            }
            if guardRow.attempts >= Self.maxAttempts {
                let until = now.addingTimeInterval(Self.lockDuration)
                guardRow.lockedUntil = until
                try await guardRow.save(on: tx)
                return .locked(until: until)
            }
            guardRow.attempts += 1
            guardRow.updatedAt = now
            try await guardRow.save(on: tx)
            return .counted
        }
    }

    private func recordFailure(key: String, login: String, now: Date) async throws {
        let services = services
        try await db.writeTransaction { tx in
            let guardRow = try await StaffLoginGuard.query(on: tx).filter(\.$loginKey == key).first()
            let audit = AuditTrail(db: tx, services: services)
            try await audit.record(application: nil, actor: "staff:\(login)", action: "staff.sign_in_failed",
                                   details: ["login": login, "attempt": String(guardRow?.attempts ?? 0)])
            if let guardRow, guardRow.attempts >= Self.maxAttempts, guardRow.lockedUntil == nil {
                guardRow.lockedUntil = now.addingTimeInterval(Self.lockDuration)
                try await guardRow.save(on: tx)
                try await audit.record(application: nil, actor: "system", action: "staff.locked",
                                       details: ["login": login, "until": ISO8601DateFormatter().string(from: guardRow.lockedUntil!)])
            }
        }
    }

    func signOut(_ principal: StaffPrincipal) async throws {
        let now = services.clock.now()
        let services = services
        try await db.writeTransaction { tx in
            try await StaffSession.query(on: tx).filter(\.$id == principal.sessionID).set(\.$revokedAt, to: now).update()
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "staff:\(principal.login)", action: "staff.signed_out", details: ["login": principal.login])
        }
    }
}

/// The one place a staff caller is recognised: the bearer token (API) or the `yd_staff` cookie (pages), a live
/// session (not revoked, used within 30 minutes, at most 12 hours old) of an active member. Pages without a
/// session go to the sign-in page; the API answers 401.
struct StaffAuthenticator: AsyncMiddleware {
    static let cookieName = "yd_staff"
    /// Routes an enrolment-only session may use.
    static let enrolmentPaths: Set<String> = ["/api/v1/staff/enrolment", "/console/enrol", "/api/v1/staff/sessions/current", "/console/sign-out"]

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let isPage = !request.path.hasPrefix("/api/")
        guard let principal = try await Self.principal(for: request) else {
            if isPage { return request.redirect(to: ConsolePaths.signIn, redirectType: .normal) }
            throw Self.unauthorized
        }
        if principal.enrolmentOnly && !Self.enrolmentPaths.contains(request.path) {
            if isPage { return request.redirect(to: ConsolePaths.enrol, redirectType: .normal) }
            throw APIError(.forbidden, code: "enrolment_required", message: "Confirm your second factor first (POST /api/v1/staff/enrolment).",
                           messageZh: "请先完成动态验证码绑定。")
        }
        request.storage[StaffPrincipalKey.self] = principal
        return try await next.respond(to: request)
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", message: "Sign in as staff first (POST /api/v1/staff/sessions); the session may have ended.",
        messageZh: "请先登录员工工作台。")

    static func token(of request: Request) -> String? {
        if let bearer = request.headers.bearerAuthorization?.token, !bearer.isEmpty { return bearer }
        if !request.path.hasPrefix("/api/"), let cookie = request.cookies[cookieName]?.string, !cookie.isEmpty { return cookie }
        return nil
    }

    static func principal(for request: Request) async throws -> StaffPrincipal? {
        guard let token = token(of: request) else { return nil }
        let db = request.db
        let now = request.yidai.clock.now()
        guard let session = try await StaffSession.query(on: db).filter(\.$tokenHash == SecretHash.sha256Hex(token)).first(),
            session.revokedAt == nil, session.expiresAt > now, now.timeIntervalSince(session.lastSeenAt) < StaffSignIn.idleTimeout,
            let member = try await StaffMember.find(session.staffID, on: db), member.active,
            let role = StaffPermissions.Role(rawValue: member.role)
        else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= 30 {
            try await db.writeTransaction { tx in
                try await StaffSession.query(on: tx).filter(\.$id == session.id!).set(\.$lastSeenAt, to: now).update()
            }
        }
        return StaffPrincipal(
            staffID: member.id!, sessionID: session.id!, login: member.login, name: member.displayName, role: role,
            branchCode: member.branchCode, managerCode: member.managerCode, enrolmentOnly: session.enrolmentOnly)
    }
}

struct StaffPrincipalKey: StorageKey { typealias Value = StaffPrincipal }

/// A group of staff routes that needs `action`: a role without it gets 404, exactly like something that does not exist.
struct StaffPermissionGate: AsyncMiddleware {
    let action: StaffPermissions.Action

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        guard let principal = request.storage[StaffPrincipalKey.self] else { throw APIError.unauthorized }
        // A route outside the role answers as a route that does not exist.
        guard StaffPermissions.scope(for: principal.role, action: action) != StaffPermissions.Scope.none else {
            throw APIError.notFound("route")
        }
        return try await next.respond(to: request)
    }
}

extension Request {
    var staff: StaffPrincipal {
        get throws {
            guard let principal = storage[StaffPrincipalKey.self] else { throw APIError.unauthorized }
            return principal
        }
    }
}

extension RoutesBuilder {
    /// Routes that need `action` of the role table.
    func requiring(_ action: StaffPermissions.Action) -> RoutesBuilder { grouped(StaffPermissionGate(action: action)) }
}
