import Foundation
import LendingCore

/// The outside services the App uses, passed in at configuration (sandbox in development and tests).
public struct ProviderSet: Sendable {
    public var sms: any SMSGateway
    public var ocr: any IDCardOCR
    public var registry: any CitizenRegistry
    public var face: any FaceVerification
    public var carrier: any CarrierVerification
    public var unionPay: any UnionPayVerification
    public var bureau: any CreditBureau
    /// WeChat's mini-program codes (小程序码) for customer managers.
    public var miniProgram: any MiniProgramCodes

    public init(
        sms: any SMSGateway, ocr: any IDCardOCR, registry: any CitizenRegistry, face: any FaceVerification,
        carrier: any CarrierVerification, unionPay: any UnionPayVerification, bureau: any CreditBureau,
        miniProgram: any MiniProgramCodes
    ) {
        self.sms = sms
        self.ocr = ocr
        self.registry = registry
        self.face = face
        self.carrier = carrier
        self.unionPay = unionPay
        self.bureau = bureau
        self.miniProgram = miniProgram
    }

    public var all: [any OutsideService] { [sms, ocr, registry, face, carrier, unionPay, bureau, miniProgram] }

    /// Names of the services that are simulated ("sms", "ocr", ...): production refuses to start unless empty.
    public var sandboxServices: [String] { all.filter(\.isSandbox).map(\.serviceName) }

    /// Every service simulated, deterministically, from domain.md's sandbox table, except the ID card OCR: a real
    /// engine (Tesseract) that reads the shipped test cards like any photo.
    public static func sandbox(clock: @escaping @Sendable () -> Date = Date.init) -> ProviderSet {
        ProviderSet(
            sms: SandboxSMSGateway(clock: clock), ocr: TesseractIDCardOCR.standard, registry: SandboxCitizenRegistry(),
            face: SandboxFaceVerification(), carrier: SandboxCarrierVerification(),
            unionPay: SandboxUnionPayVerification(), bureau: SandboxCreditBureau(clock: clock),
            miniProgram: SandboxMiniProgramCodes())
    }
}
