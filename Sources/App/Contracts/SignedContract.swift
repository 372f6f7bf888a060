import Fluent
import Foundation

/// A loan contract the borrower signed: exactly the PDF they read (sealed), its SHA-256, the evidence of the
/// signing (sealed JSON) and the bank's detached CMS signatures over the PDF and over the evidence.
/// Unsigned drafts are not stored: they are generated from the loan request whenever asked (same content, same bytes).
final class SignedContract: Model, @unchecked Sendable {
    static let schema = "contracts"

    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "contract_number") var contractNumber: String
    @Field(key: "template_version") var templateVersion: String
    @Field(key: "business_date") var businessDate: String
    /// ContractContent as JSON, sealed (it names the borrower).
    @Field(key: "content_sealed") var contentSealed: String
    /// The PDF, base64, sealed.
    @Field(key: "pdf_sealed") var pdfSealed: String
    @Field(key: "pdf_sha256") var pdfSHA256: String
    @Field(key: "pdf_bytes") var pdfBytes: Int
    /// The evidence JSON (the exact bytes evidence.p7s signs), sealed.
    @Field(key: "evidence_sealed") var evidenceSealed: String
    @Field(key: "evidence_sha256") var evidenceSHA256: String
    /// Detached CMS SignedData (DER) over the PDF.
    @Field(key: "signature") var signature: Data
    /// Detached CMS SignedData (DER) over the evidence JSON.
    @Field(key: "evidence_signature") var evidenceSignature: Data
    @Field(key: "certificate_sha256") var certificateSHA256: String
    @Field(key: "sms_proof") var smsProof: UUID
    @Field(key: "signed_at") var signedAt: Date

    init() {}
}
