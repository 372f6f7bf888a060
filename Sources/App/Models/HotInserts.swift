import Fluent
import Foundation
import PostgresNIO

// Rows that a journey's steps add, written by one prepared statement each (PostgreSQL; plain text on SQLite) instead
// of through Fluent's model reflection: the session a sign-in opens and the record of a decision. Each writes every
// column of its model, so a row reads back through the model exactly as `create` would have written it
// (`PreparedStatementTests`).

extension ApplicantSession {
    /// Adds the session as a new row with a new id (which it then has).
    func insert(on db: any Database) async throws {
        let id = self.id ?? RandomID.uuid()
        _ = try await PreparedStatements.all(
            Insert(values: [id, tokenHash, applicationID, phoneIndex, createdAt, expiresAt, revokedAt]), on: db)
        self.id = id
    }

    struct Insert: PreparedRowStatement {
        static let name = "ApplicantSession.Insert"
        static let sql = """
            INSERT INTO applicant_sessions (id, token_hash, application_id, phone_index, created_at, expires_at, revoked_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .text, .uuid, .text, .timestamptz, .timestamptz, .timestamptz]
        let values: [any StatementValue & Sendable]
    }
}

extension DecisionRecord {
    /// Adds the record as a new row with a new id (which it then has).
    func insert(on db: any Database) async throws {
        let id = self.id ?? RandomID.uuid()
        _ = try await PreparedStatements.all(
            Insert(values: [id, applicationID, policyVersion, policySHA256, inputJSON, outputJSON, traceJSON, decidedAt]), on: db)
        self.id = id
    }

    struct Insert: PreparedRowStatement {
        static let name = "DecisionRecord.Insert"
        static let sql = """
            INSERT INTO decision_records (id, application_id, policy_version, policy_sha256, input_json, output_json, trace_json, decided_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .text, .text, .text, .text, .text, .timestamptz]
        let values: [any StatementValue & Sendable]
    }
}
