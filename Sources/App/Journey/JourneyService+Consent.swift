import Fluent
import Foundation
import LendingCore

extension JourneyService {
    /// Records the applicant's consent to each document at the version they were shown (a version that is no
    /// longer current is refused: they must read the current one). A consent already on record for this phone and
    /// version is not recorded twice.
    func recordConsents(phone raw: String?, agreed: [(document: ConsentDocument, shownVersion: String?)]) async throws {
        let phone = try Self.phone(raw)
        for (document, shown) in agreed where shown != nil && shown != document.version {
            throw APIError(
                .conflict, code: "consent_outdated", message: "\(document.title) has a newer version; read it again.",
                messageZh: "《\(document.title)》已更新，请重新阅读后同意。", field: document.kind)
        }
        let phoneIndex = cipher.blindIndex(phone.value, purpose: "phone")
        let now = now
        let client = client
        let services = services
        try await db.writeTransaction { tx in
            for (document, _) in agreed {
                let known = try await Consent.query(on: tx).filter(\.$phoneIndex == phoneIndex)
                    .filter(\.$document == document.kind).filter(\.$version == document.version).first()
                if known != nil { continue }
                let consent = Consent()
                consent.phoneIndex = phoneIndex
                consent.document = document.kind
                consent.version = document.version
                consent.sha256 = document.sha256
                consent.givenAt = now
                consent.client = client.address
                consent.device = String(client.device.prefix(200))
                try await consent.create(on: tx)
                try await AuditTrail(db: tx, services: services).record(
                    application: nil, actor: "applicant", action: "consent.given",
                    details: ["document": document.kind, "version": document.version, "sha256": document.sha256])
            }
        }
    }
}
