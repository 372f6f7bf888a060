import Fluent
import Foundation
import SQLKit

/// The privacy centre's tables (PIPL arts. 44–47): per-person data keys (`person_keys`, see `PersonVault`), step-up
/// sessions, exports, erasure requests; applications and leads learn whether their person's data is locked or erased.
struct CreatePrivacy: AsyncMigration {
    func prepare(on database: Database) async throws {
        try await database.schema(PersonKey.schema)
            .id()
            .field("phone_index", .string, .required)
            .field("data_class", .string, .required)
            .field("wrapped", .string, .required)
            .field("created_at", .datetime, .required)
            .field("destroy_after", .datetime)
            .unique(on: "phone_index", "data_class")
            .create()
        try await database.schema(PrivacySession.schema)
            .id()
            .field("token_hash", .string, .required)
            .field("phone_index", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
        try await database.schema(PrivacyExport.schema)
            .id()
            .field("phone_index", .string, .required)
            .field("json_sealed", .string, .required)
            .field("pdf_sealed", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .create()
        try await database.createPlainIndex("privacy_exports_phone", on: PrivacyExport.schema, columns: ["phone_index"])
        try await database.schema(ErasureRequest.schema)
            .id()
            .field("phone_index", .string, .required)
            .field("phone_masked", .string, .required)
            .field("state", .string, .required)
            .field("received_at", .datetime, .required)
            .field("deadline", .datetime, .required)
            .field("carried_out_at", .datetime)
            .field("outcome", .string)
            .field("kept_until", .datetime)
            .field("version", .int, .required)
            .create()
        try await database.createPlainIndex("erasure_requests_state", on: ErasureRequest.schema, columns: ["state", "deadline"])
        try await database.schema(LoanApplication.schema).field("privacy_state", .string).update()
        try await database.schema(Consent.schema).field("withdrawn_at", .datetime).update()
    }

    func revert(on database: Database) async throws {
        try await database.schema(Consent.schema).deleteField("withdrawn_at").update()
        try await database.schema(LoanApplication.schema).deleteField("privacy_state").update()
        for schema in [ErasureRequest.schema, PrivacyExport.schema, PrivacySession.schema, PersonKey.schema] {
            try await database.schema(schema).delete()
        }
    }
}

/// Moves every person's data sealed by the key ring to their own data keys (`PersonVault`), row by row, without
/// loss: a value is re-sealed only after it opened, and a value already under a person key is left as it is, so the
/// migration can run again (and a test runs it on data written the old way).
struct MovePersonDataToPersonKeys: AsyncMigration {
    let cipher: FieldCipher

    func prepare(on database: Database) async throws {
        try await PersonDataMigration(db: database, cipher: cipher).run()
    }

    func revert(on database: Database) async throws {}
}

/// The conversion itself, callable from the migration and from its test.
struct PersonDataMigration {
    let db: Database
    let cipher: FieldCipher

    struct Target {
        let table: String
        /// SQL giving each row's id, its person's phone index and the sealed columns.
        let phoneIndex: String
        let columns: [(String, PersonVault.DataClass)]
    }

    static let targets: [Target] = [
        Target(table: "applications", phoneIndex: "t.phone_index", columns: [
            ("phone_sealed", .kept), ("name_sealed", .kept), ("id_number_sealed", .kept), ("address_sealed", .kept), ("card_sealed", .kept),
            ("pending_card_sealed", .general), ("ocr_sealed", .general), ("bureau_report_sealed", .general), ("about_you_sealed", .general),
        ]),
        Target(table: "contracts", phoneIndex: "(SELECT a.phone_index FROM applications a WHERE a.id = t.application_id)", columns: [
            ("content_sealed", .kept), ("pdf_sealed", .kept), ("evidence_sealed", .kept),
        ]),
        Target(table: "leads", phoneIndex: "t.phone_index", columns: [("phone_sealed", .general), ("name_sealed", .general)]),
        Target(table: "lead_events", phoneIndex: "(SELECT l.phone_index FROM leads l WHERE l.id = t.lead_id)", columns: [("note_sealed", .general)]),
        Target(table: "conversation_messages", phoneIndex: "(SELECT a.phone_index FROM applications a WHERE a.id = t.application_id)", columns: [("text_sealed", .general)]),
        Target(table: "notifications", phoneIndex: "(SELECT a.phone_index FROM applications a WHERE a.id = t.application_id)", columns: [("text_sealed", .general)]),
        Target(table: "sandbox_sms", phoneIndex: "t.phone_index", columns: [("phone_sealed", .general), ("text_sealed", .general)]),
    ]

    @discardableResult
    func run() async throws -> Int {
        guard let sql = db as? any SQLDatabase else { return 0 }
        let vault = PersonVault(db: db, cipher: cipher)
        var moved = 0
        for target in Self.targets {
            let columns = target.columns.map { "t." + $0.0 }.joined(separator: ", ")
            var after = ""
            while true {
                // Pages by id so a large table is never read whole.
                let rows = try await sql.raw("""
                    SELECT t.id AS id, \(unsafeRaw: target.phoneIndex) AS person, \(unsafeRaw: columns) FROM \(unsafeRaw: target.table) t
                    WHERE CAST(t.id AS TEXT) > \(bind: after) ORDER BY CAST(t.id AS TEXT) LIMIT 500
                    """).all()
                guard !rows.isEmpty else { break }
                for row in rows {
                    let id = try row.decode(column: "id", as: UUID.self)
                    after = id.uuidString.lowercased()
                    guard let person = try row.decode(column: "person", as: String?.self) else { continue }
                    for (column, dataClass) in target.columns {
                        guard let sealed = try row.decode(column: column, as: String?.self), !sealed.hasPrefix(PersonVault.prefix + ":") else { continue }
                        let plain = try cipher.open(sealed)
                        let resealed = try await vault.seal(plain, phoneIndex: person, as: dataClass)
                        try await sql.raw("UPDATE \(unsafeRaw: target.table) SET \(unsafeRaw: column) = \(bind: resealed) WHERE id = \(bind: id)").run()
                        moved += 1
                    }
                }
            }
        }
        return moved
    }
}
