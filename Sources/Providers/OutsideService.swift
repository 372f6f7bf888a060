import Foundation
import LendingCore
import Logging

/// Every outside service Yidai calls (SMS, OCR, citizen registry, face, carrier, UnionPay, credit bureau).
/// `isSandbox` lets the production start-up refuse simulated services.
public protocol OutsideService: Sendable {
    /// Short stable name: "sms", "ocr", "registry", "face", "carrier", "unionpay", "bureau".
    var serviceName: String { get }
    var isSandbox: Bool { get }
}

/// An outside service could not answer usefully. `message` is English (API), `messageZh` Chinese (H5 pages).
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let messageZh: String

    public init(code: String, message: String, messageZh: String) {
        self.code = code
        self.message = message
        self.messageZh = messageZh
    }

    /// OCR could not read the images.
    public static let unreadable = ProviderError(
        code: "card_unreadable", message: "Could not read the card, please retake the photos",
        messageZh: "无法识别证件，请重新拍摄")
    /// OCR: the photo is one flat colour (lens covered, nothing in the frame).
    public static let blankPhoto = ProviderError(
        code: "photo_blank", message: "The photo is blank, please photograph the ID card",
        messageZh: "照片是空白的，请对准身份证重新拍摄")
    /// OCR: both photos show the same side of the card.
    public static let wrongSide = ProviderError(
        code: "card_wrong_side", message: "Both photos show the same side of the card; please upload the portrait side and the national emblem side",
        messageZh: "两张照片是证件的同一面，请分别上传人像面和国徽面")
    /// OCR: the picture's header claims more pixels than are read (refused before decoding).
    public static let imageTooLarge = ProviderError(
        code: "image_too_large", message: "The image is too large, please send a photo of at most 40 megapixels",
        messageZh: "图片尺寸过大，请重新拍摄或压缩后上传")
    /// OCR: the file is not a complete image (cut off, damaged, or another kind of file).
    public static let imageDamaged = ProviderError(
        code: "image_damaged", message: "The image could not be opened (incomplete or not a photo), please retake it",
        messageZh: "图片无法打开（文件不完整或不是照片），请重新拍摄")
    /// OCR: every engine is busy and the queue is full; try again in a moment.
    public static let busy = ProviderError(
        code: "ocr_busy", message: "The ID card reader is busy, please try again in a moment",
        messageZh: "证件识别繁忙，请稍后再试")
    /// The photo-related OCR failures: the applicant should retake or resend the photos.
    public static let photoProblems: [ProviderError] = [.unreadable, .blankPhoto, .wrongSide, .imageTooLarge, .imageDamaged]
    /// The service is down or refused to answer.
    public static let unavailable = ProviderError(
        code: "service_unavailable", message: "The service is not available right now, please try again later",
        messageZh: "服务暂时不可用，请稍后再试")
    public static let timeout = ProviderError(
        code: "service_timeout", message: "The service took too long to answer, please try again",
        messageZh: "服务响应超时，请重试")
    /// The face check got neither an image nor a simulated capture.
    public static let noFaceCaptured = ProviderError(
        code: "face_not_captured", message: "No face was captured, please try again",
        messageZh: "未采集到人脸，请重试")
    /// A credit report was asked for without a signed authorization.
    public static let authorizationMissing = ProviderError(
        code: "authorization_missing", message: "A signed credit report authorization is required",
        messageZh: "查询征信需要您签署的授权书")

    public var description: String { "\(code): \(message)" }
}

/// Which side of a resident identity card: the photo side (front) or the national emblem side (back).
public enum IDCardSide: String, Sendable, Codable, CaseIterable {
    case front, back
}

extension Logger {
    /// Every sandbox logs through this: messages prefixed `[SANDBOX]`; callers mask PII.
    func sandboxInfo(_ message: String) {
        info("[SANDBOX] \(message)", metadata: OutsideCallContext.requestID.map { ["request-id": .string($0)] })
    }
}
