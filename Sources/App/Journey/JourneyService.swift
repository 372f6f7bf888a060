import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// The applicant journey, shared by the JSON API and the H5 pages: every rule about order, limits,
/// outside checks, storage and the audit trail lives here once. The steps are in `JourneyService+SignIn` (1),
/// `+Identity` (2 to 4) and `+Decision` (5 to 7); what they share is here.
struct JourneyService: Sendable {
    let db: Database
    let services: YidaiServices
    let logger: Logger
    let client: ClientInfo
    /// A GET or HEAD: nothing may be written, so an application idle too long is shown as expired but not saved as
    /// such (the next change, or end of day, records the expiry).
    var readsOnly = false

    struct ClientInfo: Sendable {
        let address: String
        let device: String
    }

    static let sessionLifetime: TimeInterval = 24 * 3600
    static let faceMaxAttempts = 3
    static let faceLock: TimeInterval = 24 * 3600
    static let inactivityExpiry: TimeInterval = 30 * 86_400
    static let limitValidity: TimeInterval = 30 * 86_400
    static let lastTouchWindow: TimeInterval = 30 * 86_400

    var cipher: FieldCipher { services.cipher }
    /// Personal data under the person's own keys (PersonVault).
    var vault: PersonVault { PersonVault(db: db, services: services) }
    var now: Date { services.clock.now() }
    var audit: AuditTrail { AuditTrail(db: db, services: services) }
    var codes: OneTimeCodes { OneTimeCodes(db: db, services: services) }

    /// The same service on another database handle (a transaction).
    func on(_ tx: Database) -> JourneyService {
        JourneyService(db: tx, services: services, logger: logger, client: client, readsOnly: readsOnly)
    }

    var today: CivilDate { BusinessCalendar.civilDate(services.clock.now()) }

    func progress(_ application: LoanApplication) throws -> ApplicationProgress { try application.progress }

    /// 409 naming the step that comes next when a step is out of order; 409 when the journey was stopped.
    func require(_ step: JourneyStep, _ application: LoanApplication) throws {
        if let stop = application.stopStep {
            if stop == JourneyStep.face.rawValue, let until = application.faceLockedUntil {
                if until > now {
                    throw APIError(.locked, code: "face_locked", message: "Face verification failed 3 times; try again after \(Self.isoTime(until)).",
                                   messageZh: "人脸识别失败次数过多，请24小时后再试。")
                }
            } else {
                throw APIError(.conflict, code: "application_stopped", message: StopMessages.english(application.stopReason),
                               messageZh: StopMessages.chinese(application.stopReason))
            }
        }
        let progress = try progress(application)
        do {
            try ApplicationStateMachine.require(step, progress: progress)
        } catch {
            throw APIError(.conflict, code: error.code, message: error.message, messageZh: error.messageZh)
        }
    }

    /// A guarded transition; a refusal (two requests racing on one application) answers 409, never 500.
    static func transition(from: ApplicationState, to: ApplicationState) throws {
        do { try ApplicationStateMachine.transition(from: from, to: to) } catch {
            throw APIError(.conflict, code: error.code, message: error.message, messageZh: error.messageZh)
        }
    }

    struct Identity {
        let phone: MobileNumber
        let name: String
        let idNumber: ChineseIDNumber
    }

    func identity(of application: LoanApplication) async throws -> Identity {
        guard let name = try await vault.openOptional(application.nameSealed), let id = try await vault.openOptional(application.idNumberSealed) else {
            throw APIError(.conflict, code: "step_out_of_order", message: "Complete the ID card step first.", messageZh: "请先完成身份证识别。")
        }
        return Identity(phone: try MobileNumber(try await vault.open(application.phoneSealed)), name: name, idNumber: try ChineseIDNumber(id))
    }

    var store: ApplicationStore { ApplicationStore(db: db, services: services) }

    /// Saves the application, anything `also` writes and its audit entry in one transaction, as a compare-and-set
    /// on the application's version: a request that lost a race gets 409 and leaves nothing behind.
    func save(
        _ application: LoanApplication, action: String, details: [String: String], consuming proof: OneTimeCodes.Proof? = nil,
        also: (@Sendable (any Database) async throws -> Void)? = nil
    ) async throws {
        try await store.commit(application, actor: "applicant", action: action, details: details, consuming: proof, also: also)
    }

    /// Outside services fail; the applicant gets a clear retry message and nothing is changed.
    func providerCall<T>(_ provider: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await services.metrics.measure(provider: provider, body)
        } catch let error as APIError {
            throw error
        } catch let error as ProviderError {
            logger.warning("Outside service failed: \(error.code)")
            throw APIError(.serviceUnavailable, code: "service_unavailable", message: "A verification service is not available right now. Please try again.",
                           messageZh: "核验服务暂时不可用，请稍后再试。")
        }
    }

    static func phone(_ raw: String?) throws -> MobileNumber {
        guard let raw, !raw.isEmpty else { throw APIError.missing("phone") }
        do { return try MobileNumber(raw) } catch { throw APIError(error) }
    }

    /// The name rule is LendingCore's `PersonName` (2–30 Chinese characters, rare-character blocks, the middle dot).
    static func personName(_ raw: String?) throws -> String {
        guard let raw, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.missing("name") }
        do { return try PersonName(raw).value } catch { throw APIError(error) }
    }

    static func validUntil(_ raw: String?, today: CivilDate) throws -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { throw APIError.missing("validUntil") }
        if raw == "长期" || raw.lowercased() == "long-term" { return "长期" }
        guard let date = CivilDate(iso: raw) else {
            throw APIError.invalid("validUntil", "validUntil must be a date YYYY-MM-DD or 长期.", zh: "有效期格式应为YYYY-MM-DD或“长期”。")
        }
        guard date >= today else {
            throw APIError.invalid("validUntil", "The ID card expired on \(date.iso); an expired card cannot be used.", zh: "身份证已过期，请使用有效证件。")
        }
        return date.iso
    }

    static func isoTime(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: date)
    }
}
