import Fluent
import FluentPostgresDriver
import Foundation
import PostgresNIO
import SQLKit

/// An application's row read and written with plain statements, for the journey's hot path (every applicant request
/// reads the application and every step saves it): Fluent finds a model's fields by reflection, on every query and
/// every row, and for this 55-field model that cost more than the database's work. `LoanApplication` stays the one
/// model; `ApplicationRowTests` fails when a field is added to it and not here, so no column can be skipped.
extension LoanApplication: ColumnsDecodable {
    /// Every column, in the model's order.
    static let columnNames = [
        "id", "phone_index", "phone_sealed", "state", "version", "stop_step", "stop_reason", "cm_first",
        "channel_first", "cm_last", "channel_last", "cm_last_at", "campaign", "privacy_state", "ocr_sealed",
        "name_sealed", "id_number_sealed", "id_number_index", "address_sealed", "id_valid_until", "registry_photo_ref",
        "id_confirmed_at", "face_attempts", "face_locked_until", "face_score", "face_verified_at",
        "pending_card_sealed", "card_sealed", "card_index", "card_masked", "card_bank", "carrier_verified_at",
        "card_verified_at", "authorization_version", "authorization_sha256", "authorization_signed_at",
        "authorization_client", "authorization_device", "authorization_sms_proof", "bureau_report_sealed",
        "about_you_sealed", "info_completed_at", "decision", "credit_limit", "annual_rate", "apr", "decision_reasons",
        "decided_at", "limit_expires_at", "policy_version", "loan_amount", "loan_term_months", "loan_method",
        "loan_purpose", "loan_requested_at", "last_activity_at", "created_at", "updated_at"
    ]
    static let selectList = columnNames.joined(separator: ", ")

    /// The application with this id, or nil.
    static func load(_ id: UUID, on db: any Database) async throws -> LoanApplication? {
        guard let sql = db as? any SQLDatabase else { return try await find(id, on: db) }
        guard let row = try await sql.raw("SELECT \(unsafeRaw: selectList) FROM applications WHERE id = \(bind: id)").first() else {
            return nil
        }
        return try decoded(row)
    }

    /// The applications of a phone, the most recently active first.
    static func load(phoneIndex: String, on db: any Database) async throws -> [LoanApplication] {
        guard let sql = db as? any SQLDatabase else {
            return try await query(on: db).filter(\.$phoneIndex == phoneIndex).sort(\.$lastActivityAt, .descending).all()
        }
        return try await PreparedStatements.decoded(OfPhone(phoneIndex: phoneIndex), as: LoanApplication.self, on: sql)
    }

    /// `load(phoneIndex:)`'s statement (the sign-in's).
    struct OfPhone: PreparedRowStatement {
        static let name = "LoanApplication.OfPhone"
        static let sql = "SELECT \(selectList) FROM applications WHERE phone_index = $1 ORDER BY last_activity_at DESC"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let phoneIndex: String

        var values: [any StatementValue & Sendable] { [phoneIndex] }
    }

    /// Inserts this new application's row, every column, as Fluent's `create` would (an id if it has none, both
    /// timestamps from the system clock); it then saves as an update.
    func insertRow(on sql: any SQLDatabase) async throws {
        if id == nil { id = RandomID.uuid() }
        let stamp = Date()
        createdAt = stamp
        updatedAt = stamp
        _ = try await PreparedStatements.all(Insert(values: [id, createdAt] + savedColumns.map(\.value)), on: sql)
        $id.exists = true
    }

    /// `insertRow`'s statement: the id, the creation time, then every saved column (`Write`'s, in its order).
    struct Insert: PreparedRowStatement {
        static let name = "LoanApplication.Insert"
        static let sql = "INSERT INTO applications (id, created_at, " + Write.columnNames.joined(separator: ", ") + ") VALUES ("
            + (1...(Write.columnNames.count + 2)).map { "$\($0)" }.joined(separator: ", ") + ")"
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .timestamptz] + Write.bindingDataTypes.dropLast(2)

        let values: [any StatementValue & Sendable]
    }

    /// A model from a row holding every column (as `load` selects them); it saves as an update.
    static func decoded(_ row: any SQLRow) throws -> LoanApplication { try decoded(SQLRowColumns(row: row)) }

    /// `decoded`, from PostgreSQL's own row (`RowColumns`: each column decoded for its type, by no dynamic cast).
    static func decoded<Row: RowColumns>(_ row: Row) throws -> LoanApplication {
        let application = LoanApplication()
        application.id = try row.column("id", as: UUID?.self)
        application.phoneIndex = try row.column("phone_index", as: String.self)
        application.phoneSealed = try row.column("phone_sealed", as: String.self)
        application.state = try row.column("state", as: String.self)
        application.version = try row.column("version", as: Int.self)
        application.stopStep = try row.column("stop_step", as: String?.self)
        application.stopReason = try row.column("stop_reason", as: String?.self)
        application.cmFirst = try row.column("cm_first", as: String?.self)
        application.channelFirst = try row.column("channel_first", as: String?.self)
        application.cmLast = try row.column("cm_last", as: String?.self)
        application.channelLast = try row.column("channel_last", as: String?.self)
        application.cmLastAt = try row.column("cm_last_at", as: Date?.self)
        application.campaign = try row.column("campaign", as: String?.self)
        application.privacyState = try row.column("privacy_state", as: String?.self)
        application.ocrSealed = try row.column("ocr_sealed", as: String?.self)
        application.nameSealed = try row.column("name_sealed", as: String?.self)
        application.idNumberSealed = try row.column("id_number_sealed", as: String?.self)
        application.idNumberIndex = try row.column("id_number_index", as: String?.self)
        application.addressSealed = try row.column("address_sealed", as: String?.self)
        application.idValidUntil = try row.column("id_valid_until", as: String?.self)
        application.registryPhotoRef = try row.column("registry_photo_ref", as: String?.self)
        application.idConfirmedAt = try row.column("id_confirmed_at", as: Date?.self)
        application.faceAttempts = try row.column("face_attempts", as: Int.self)
        application.faceLockedUntil = try row.column("face_locked_until", as: Date?.self)
        application.faceScore = try row.column("face_score", as: String?.self)
        application.faceVerifiedAt = try row.column("face_verified_at", as: Date?.self)
        application.pendingCardSealed = try row.column("pending_card_sealed", as: String?.self)
        application.cardSealed = try row.column("card_sealed", as: String?.self)
        application.cardIndex = try row.column("card_index", as: String?.self)
        application.cardMasked = try row.column("card_masked", as: String?.self)
        application.cardBank = try row.column("card_bank", as: String?.self)
        application.carrierVerifiedAt = try row.column("carrier_verified_at", as: Date?.self)
        application.cardVerifiedAt = try row.column("card_verified_at", as: Date?.self)
        application.authorizationVersion = try row.column("authorization_version", as: String?.self)
        application.authorizationSHA256 = try row.column("authorization_sha256", as: String?.self)
        application.authorizationSignedAt = try row.column("authorization_signed_at", as: Date?.self)
        application.authorizationClient = try row.column("authorization_client", as: String?.self)
        application.authorizationDevice = try row.column("authorization_device", as: String?.self)
        application.authorizationSMSProof = try row.column("authorization_sms_proof", as: String?.self)
        application.bureauReportSealed = try row.column("bureau_report_sealed", as: String?.self)
        application.aboutYouSealed = try row.column("about_you_sealed", as: String?.self)
        application.infoCompletedAt = try row.column("info_completed_at", as: Date?.self)
        application.decision = try row.column("decision", as: String?.self)
        application.creditLimit = try row.column("credit_limit", as: String?.self)
        application.annualRate = try row.column("annual_rate", as: String?.self)
        application.apr = try row.column("apr", as: String?.self)
        application.decisionReasons = try row.column("decision_reasons", as: String?.self)
        application.decidedAt = try row.column("decided_at", as: Date?.self)
        application.limitExpiresAt = try row.column("limit_expires_at", as: Date?.self)
        application.policyVersion = try row.column("policy_version", as: String?.self)
        application.loanAmount = try row.column("loan_amount", as: String?.self)
        application.loanTermMonths = try row.column("loan_term_months", as: Int?.self)
        application.loanMethod = try row.column("loan_method", as: String?.self)
        application.loanPurpose = try row.column("loan_purpose", as: String?.self)
        application.loanRequestedAt = try row.column("loan_requested_at", as: Date?.self)
        application.lastActivityAt = try row.column("last_activity_at", as: Date.self)
        application.createdAt = try row.column("created_at", as: Date?.self)
        application.updatedAt = try row.column("updated_at", as: Date?.self)
        application.$id.exists = true
        application.loadedState = application.state
        application.loadedFunnel = try? JourneyFunnel.position(application)
        return application
    }

    /// Every column a save writes, with its value: all but the id and the creation time. One list for the statement
    /// and for `ApplicationRowTests`, which checks it against `columnNames`, so a column cannot be read and never saved.
    var savedColumns: [(name: String, value: any StatementValue & Sendable)] {
        [
                ("phone_index", phoneIndex),
                ("phone_sealed", phoneSealed),
                ("state", state),
                ("stop_step", stopStep),
                ("stop_reason", stopReason),
                ("cm_first", cmFirst),
                ("channel_first", channelFirst),
                ("cm_last", cmLast),
                ("channel_last", channelLast),
                ("cm_last_at", cmLastAt),
                ("campaign", campaign),
                ("privacy_state", privacyState),
                ("ocr_sealed", ocrSealed),
                ("name_sealed", nameSealed),
                ("id_number_sealed", idNumberSealed),
                ("id_number_index", idNumberIndex),
                ("address_sealed", addressSealed),
                ("id_valid_until", idValidUntil),
                ("registry_photo_ref", registryPhotoRef),
                ("id_confirmed_at", idConfirmedAt),
                ("face_attempts", faceAttempts),
                ("face_locked_until", faceLockedUntil),
                ("face_score", faceScore),
                ("face_verified_at", faceVerifiedAt),
                ("pending_card_sealed", pendingCardSealed),
                ("card_sealed", cardSealed),
                ("card_index", cardIndex),
                ("card_masked", cardMasked),
                ("card_bank", cardBank),
                ("carrier_verified_at", carrierVerifiedAt),
                ("card_verified_at", cardVerifiedAt),
                ("authorization_version", authorizationVersion),
                ("authorization_sha256", authorizationSHA256),
                ("authorization_signed_at", authorizationSignedAt),
                ("authorization_client", authorizationClient),
                ("authorization_device", authorizationDevice),
                ("authorization_sms_proof", authorizationSMSProof),
                ("bureau_report_sealed", bureauReportSealed),
                ("about_you_sealed", aboutYouSealed),
                ("info_completed_at", infoCompletedAt),
                ("decision", decision),
                ("credit_limit", creditLimit),
                ("annual_rate", annualRate),
                ("apr", apr),
                ("decision_reasons", decisionReasons),
                ("decided_at", decidedAt),
                ("limit_expires_at", limitExpiresAt),
                ("policy_version", policyVersion),
                ("loan_amount", loanAmount),
                ("loan_term_months", loanTermMonths),
                ("loan_method", loanMethod),
                ("loan_purpose", loanPurpose),
                ("loan_requested_at", loanRequestedAt),
                ("last_activity_at", lastActivityAt),
                ("updated_at", updatedAt),
                ("version", version),
        ]
    }

    /// Writes every saved column as a compare-and-set: only if the row is still at version `matching`, which becomes
    /// `version`. Returns false (and writes nothing) when another request changed it.
    func writeRow(on sql: any SQLDatabase, now: Date, matching: Int) async throws -> Bool {
        updatedAt = now
        let write = Write(values: savedColumns.map(\.value) + [try requireID(), matching])
        return try await !PreparedStatements.all(write, on: sql).isEmpty
    }

    /// `writeRow` on PostgreSQL, writing the change's audit entry (unsealed, `AuditTrail.Pending`) in the same
    /// statement, only when the save matched. Returns false (and writes nothing) when another request changed the row.
    ///
    /// With `funnel`, the same statement also writes the application's move in the journey funnel (`JourneyFunnel`),
    /// when the save matched, and counts it. With `consuming`, it also uses that SMS code up, and saves nothing (returns
    /// false) when the code was used already.
    func writeRowRecording(
        _ entry: AuditTrail.Pending, on sql: any SQLDatabase, now: Date, matching: Int, funnel: JourneyFunnel.Change? = nil,
        consuming proof: OneTimeCodes.Proof? = nil, services: YidaiServices
    ) async throws -> Bool {
        updatedAt = now
        var values = savedColumns.map(\.value) + [try requireID(), matching] + entry.values
        let moving = funnel.map { !$0.isEmpty } ?? false
        if let funnel, moving { values += JourneyFunnel.values(of: funnel, application: self, now: now) }
        if let proof { values += [proof.id, now] }
        let row: (any SQLRow)?
        switch (moving, proof != nil) {
        case (false, false): row = try await PreparedStatements.all(Recording(values: values), on: sql).first
        case (true, false): row = try await PreparedStatements.all(RecordingMovingFunnel(values: values), on: sql).first
        case (false, true): row = try await PreparedStatements.all(RecordingConsuming(values: values), on: sql).first
        case (true, true): row = try await PreparedStatements.all(RecordingMovingFunnelConsuming(values: values), on: sql).first
        }
        guard let row else { return false }
        if moving { try JourneyFunnel.count(results: row, services: services) }
        return true
    }

    /// The statements of `writeRowRecording`: `Write`'s save (`$1`…), then the change's audit entry, written only when
    /// the save matched; `movingFunnel`: then the application's move in the funnel (`JourneyFunnel.changeParts`),
    /// selecting what it wrote; `consuming`: then the SMS code's id and the time, the code and the application's row
    /// locked first, so that the code is used and the row saved together or not at all (a save that loses to another
    /// change leaves its code unused, and a code already used saves nothing).
    static func recording(movingFunnel: Bool, consuming: Bool) -> String {
        let afterEntry = Write.bindingDataTypes.count + AuditTrail.Pending.types.count + 1
        let code = afterEntry + (movingFunnel ? JourneyFunnel.changeTypes.count : 0)
        let (id, version) = (Write.idPlaceholder, Write.idPlaceholder + 1)
        var parts: [String] = []
        if consuming {
            parts.append(
                "proved AS (SELECT c.id FROM one_time_codes c, applications a WHERE c.id = $\(code) AND c.consumed_at IS NULL "
                    + "AND a.id = $\(id) AND a.version = $\(version) FOR UPDATE OF c, a)")
            parts.append("used AS (UPDATE one_time_codes SET consumed_at = $\(code + 1) WHERE id IN (SELECT id FROM proved) AND consumed_at IS NULL RETURNING id)")
        }
        parts.append("saved AS (\(Write.statement(when: consuming ? "EXISTS (SELECT 1 FROM used)" : nil)))")
        parts.append("entry AS (\(AuditTrail.Pending.insert(first: Write.bindingDataTypes.count + 1, after: "saved")))")
        if movingFunnel { parts.append(JourneyFunnel.changeParts(id: id, first: afterEntry, when: "EXISTS (SELECT 1 FROM saved)")) }
        return "WITH " + parts.joined(separator: ", ") + " SELECT " + (movingFunnel ? JourneyFunnel.results : "id") + " FROM saved"
    }

    static func recordingTypes(movingFunnel: Bool, consuming: Bool) -> [PostgresDataType] {
        Write.bindingDataTypes + AuditTrail.Pending.types + (movingFunnel ? JourneyFunnel.changeTypes : [])
            + (consuming ? [.uuid, .timestamptz] : [])
    }

    struct Recording: PreparedRowStatement {
        static let name = "LoanApplication.Recording"
        static let sql = recording(movingFunnel: false, consuming: false)
        static let bindingDataTypes = recordingTypes(movingFunnel: false, consuming: false)
        let values: [any StatementValue & Sendable]
    }

    struct RecordingMovingFunnel: PreparedRowStatement {
        static let name = "LoanApplication.RecordingMovingFunnel"
        static let sql = recording(movingFunnel: true, consuming: false)
        static let bindingDataTypes = recordingTypes(movingFunnel: true, consuming: false)
        let values: [any StatementValue & Sendable]
    }

    struct RecordingConsuming: PreparedRowStatement {
        static let name = "LoanApplication.RecordingConsuming"
        static let sql = recording(movingFunnel: false, consuming: true)
        static let bindingDataTypes = recordingTypes(movingFunnel: false, consuming: true)
        let values: [any StatementValue & Sendable]
    }

    struct RecordingMovingFunnelConsuming: PreparedRowStatement {
        static let name = "LoanApplication.RecordingMovingFunnelConsuming"
        static let sql = recording(movingFunnel: true, consuming: true)
        static let bindingDataTypes = recordingTypes(movingFunnel: true, consuming: true)
        let values: [any StatementValue & Sendable]
    }

    /// `writeRow`'s statement: every saved column (`$1`…), then the id and the version it must still have.
    struct Write: PreparedRowStatement {
        static let name = "LoanApplication.Write"
        /// The saved columns with the type each binds as, from a new application's values (their Swift types).
        private static let columns: [(name: String, type: PostgresDataType?)] =
            LoanApplication(phoneIndex: "", phoneSealed: "", state: "", now: Date()).savedColumns.map {
                ($0.name, PreparedStatements.dataType(of: type(of: $0.value)))
            }
        /// Columns whose Swift type has no binding here (`ApplicationRowTests` keeps this empty).
        static var unboundColumns: [String] { columns.filter { $0.type == nil }.map(\.name) }
        /// The saved columns, in the order of their placeholders.
        static var columnNames: [String] { columns.map(\.name) }

        /// The application's id's placeholder number (`$n`).
        static let idPlaceholder = columns.count + 1
        static let sql = statement(when: nil)

        /// The update, matching only when `condition` (SQL) holds too.
        static func statement(when condition: String?) -> String {
            "UPDATE applications SET " + columns.enumerated().map { "\($1.name) = $\($0 + 1)" }.joined(separator: ", ")
                + " WHERE id = $\(idPlaceholder) AND version = $\(columns.count + 2)" + (condition.map { " AND " + $0 } ?? "") + " RETURNING id"
        }
        static let bindingDataTypes: [PostgresDataType] = columns.map { $0.type ?? .text } + [.uuid, .int8]

        let values: [any StatementValue & Sendable]
    }
}
