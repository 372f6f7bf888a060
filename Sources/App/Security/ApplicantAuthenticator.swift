import Fluent
import FluentPostgresDriver
import Foundation
import PostgresNIO
import SQLKit
import Vapor

/// Who is calling, once the applicant authenticator has found their session: the session, the application it was
/// opened for and the phone (blind index) that signed in. Every applicant route reads this, never the token.
struct SignedInApplicant: Authenticatable, Sendable {
    let sessionID: UUID
    let applicationID: UUID
    let phoneIndex: String
}

/// The one way an applicant is recognised: their session token, from `Authorization: Bearer` on the API or from the
/// `yd_session` cookie on the pages, each group reading only its own (the API takes no cookie, so a browser cannot
/// call it on its own and it needs no CSRF field). A missing, unknown, expired or revoked session signs nobody in;
/// the route group's guard decides what that means (401 on the API, the phone page on the pages). routes.swift
/// applies it to route groups.
struct ApplicantAuthenticator: AsyncRequestAuthenticator {
    enum Credential: Sendable {
        case bearer
        case sessionCookie
    }

    static let sessionCookie = "yd_session"
    /// The application's columns, as the authenticator's statement selects them beside the session's.
    static let applicationColumns = LoanApplication.columnNames.map { "a." + $0 }.joined(separator: ", ")

    let credential: Credential

    init(_ credential: Credential) {
        self.credential = credential
    }

    /// Authenticates, then answers with the signed-in person's data keys (read with the session) at hand for the
    /// vault, for the rest of the request (`PersonVault.requestKeys`).
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try await authenticate(request: request)
        guard let keys = request.storage[PreloadedPersonKeys.self] else { return try await next.respond(to: request) }
        request.storage[PreloadedPersonKeys.self] = nil
        return try await PersonVault.$requestKeys.withValue(keys) { try await next.respond(to: request) }
    }

    func authenticate(request: Request) async throws {
        guard let token = token(in: request) else { return }
        let now = request.yidai.clock.now()
        // Every applicant request asks this, and nearly every one then reads the session's application: one plain
        // statement (prepared on PostgreSQL) reads both, not the models, and the application is kept for the request
        // (`signedInApplication`).
        let session = Session(tokenHash: SecretHash.sha256Hex(token), now: now)
        guard let sql = request.db as? any SQLDatabase else { throw AuditError("\(Session.self) needs an SQL database") }
        guard let found = try await PreparedStatements.decoded(session, as: SignedIn.self, on: sql).first else { return }
        if let application = found.application {
            request.storage[PreloadedApplication.self] = application
            if !found.keys.isEmpty {
                request.storage[PreloadedPersonKeys.self] = PersonVault.RequestKeys(phoneIndex: application.phoneIndex, keys: found.keys)
            }
        }
        request.auth.login(found.applicant)
    }

    /// What `Session` read: the applicant, their application (nil when it no longer exists) and the person's keys
    /// as committed when the request began (the statement runs in no transaction).
    struct SignedIn: ColumnsDecodable {
        let applicant: SignedInApplicant
        let application: LoanApplication?
        let keys: [PersonVault.DataClass: PersonVault.RequestKeys.Key]

        init<Row: RowColumns>(_ row: Row) throws {
            applicant = SignedInApplicant(
                sessionID: try row.column("session_id", as: UUID.self),
                applicationID: try row.column("session_application_id", as: UUID.self),
                phoneIndex: try row.column("session_phone_index", as: String.self))
            var keys: [PersonVault.DataClass: PersonVault.RequestKeys.Key] = [:]
            if try row.column("id", as: UUID?.self) != nil {
                application = try LoanApplication.decoded(row)
                for (dataClass, prefix) in [(PersonVault.DataClass.kept, "kept"), (.general, "general")] {
                    if let id = try row.column(prefix + "_key_id", as: UUID?.self) {
                        keys[dataClass] = .init(id: id, wrapped: try row.column(prefix + "_key_wrapped", as: String.self))
                    }
                }
            } else {
                application = nil
            }
            self.keys = keys
        }

        static func decoded<Row: RowColumns>(_ row: Row) throws -> SignedIn { try SignedIn(row) }
    }

    /// The session of a token hash, if it is neither revoked nor expired at `now`, with its application and the
    /// person's two data keys.
    struct Session: PreparedRowStatement {
        static let name = "ApplicantAuthenticator.Session"
        static let sql = """
            SELECT s.id AS session_id, s.application_id AS session_application_id, s.phone_index AS session_phone_index,
                \(applicationColumns),
                kk.id AS kept_key_id, kk.wrapped AS kept_key_wrapped, kg.id AS general_key_id, kg.wrapped AS general_key_wrapped
            FROM applicant_sessions s LEFT JOIN applications a ON a.id = s.application_id
                LEFT JOIN person_keys kk ON kk.phone_index = a.phone_index AND kk.data_class = 'kept'
                LEFT JOIN person_keys kg ON kg.phone_index = a.phone_index AND kg.data_class = 'general'
            WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .timestamptz]
        let tokenHash: String
        let now: Date

        var values: [any StatementValue & Sendable] { [tokenHash, now] }
    }

    func token(in request: Request) -> String? {
        switch credential {
        case .bearer:
            guard let token = request.headers.bearerAuthorization?.token, !token.isEmpty else { return nil }
            return token
        case .sessionCookie:
            guard let token = request.cookies[Self.sessionCookie]?.string, !token.isEmpty, token.count <= 200 else {
                return nil
            }
            return token
        }
    }
}

extension SignedInApplicant {
    /// For API route groups: no applicant answers 401 in the error shape.
    static var required: any Middleware { guardMiddleware(throwing: APIError.unauthorized) }
}

/// The signed-in person's data keys as the authenticator read them with the session, until `respond` hands them on.
struct PreloadedPersonKeys: StorageKey {
    typealias Value = PersonVault.RequestKeys
}

/// The signed-in applicant's application as the authenticator read it with the session; taken by the first reader.
struct PreloadedApplication: StorageKey {
    typealias Value = LoanApplication
}

extension Request {
    /// The signed-in applicant's application (expired first when idle too long), or nil when it no longer exists:
    /// the copy the authenticator read with the session the first time it is asked for, read afresh after that (a
    /// handler that saved it and reads it again sees what it saved).
    func signedInApplication(_ applicant: SignedInApplicant) async throws -> LoanApplication? {
        let preloaded = storage[PreloadedApplication.self]
        storage[PreloadedApplication.self] = nil
        return try await journey.application(of: applicant, preloaded: preloaded)
    }

    /// The applicant the authenticator signed in; 401 when there is none.
    var applicant: SignedInApplicant {
        get throws {
            guard let applicant = auth.get(SignedInApplicant.self) else { throw APIError.unauthorized }
            return applicant
        }
    }

    /// The signed-in applicant's application, which must be the one in the path: another applicant's id answers 404
    /// exactly like an id that does not exist.
    func ownedApplication() async throws -> LoanApplication {
        guard let application = try await signedInApplication(try applicant) else { throw APIError.unauthorized }
        guard let raw = parameters.get("applicationID"), let id = UUID(uuidString: raw), id == application.id else {
            throw APIError.notFound("application")
        }
        return application
    }

    /// The loan in the path if it belongs to the signed-in phone; 404 otherwise (exactly like a loan that does not
    /// exist).
    func ownedLoan(_ servicing: ServicingContext) async throws -> Loan {
        let phoneIndex = try applicant.phoneIndex
        guard let raw = parameters.get("loanID"), let id = UUID(uuidString: raw) else {
            throw APIError.notFound("loan")
        }
        return try await servicing.loans.ownedLoan(id, phoneIndex: phoneIndex)
    }
}
