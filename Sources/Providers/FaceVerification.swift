import Foundation
import LendingCore
import Logging

/// 活体检测 + 人脸比对: a liveness check on the capture and its comparison with the registry photo.
public protocol FaceVerification: OutsideService {
    func verify(idNumber: ChineseIDNumber, registryPhotoReference: String, capture: FaceCapture)
        async throws(ProviderError) -> FaceResult
}

/// What the phone captured: an image (or short clip frame), or, in sandbox mode only, a simulated capture.
public struct FaceCapture: Sendable, Equatable {
    public var image: Data?
    public var simulated: Bool

    public init(image: Data? = nil, simulated: Bool = false) {
        self.image = image
        self.simulated = simulated
    }
}

public struct FaceResult: Sendable, Codable, Equatable {
    public var livenessPassed: Bool
    /// Comparison score with the registry photo, 0...1 (0 when liveness failed and no comparison was made).
    public var similarity: Decimal
    public var threshold: Decimal

    public static let defaultThreshold = Decimal(string: "0.80")!

    public init(livenessPassed: Bool, similarity: Decimal, threshold: Decimal = FaceResult.defaultThreshold) {
        self.livenessPassed = livenessPassed
        self.similarity = similarity
        self.threshold = threshold
    }

    public var passed: Bool { livenessPassed && similarity >= threshold }
}

/// P04's liveness fails every time, P05 scores 0.42, everyone else passes with 0.96.
public struct SandboxFaceVerification: FaceVerification {
    public let serviceName = "face"
    public let isSandbox = true
    /// Label `yidai.sandbox.face` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(logger: Logger? = nil, failure: ProviderError? = nil) {
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.face")
    }

    public func verify(idNumber: ChineseIDNumber, registryPhotoReference: String, capture: FaceCapture)
        async throws(ProviderError) -> FaceResult
    {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        guard capture.simulated || !(capture.image ?? Data()).isEmpty else { throw .noFaceCaptured }
        let persona = SandboxPersona.forIDNumber(idNumber)
        let result =
            persona.livenessPasses
            ? FaceResult(livenessPassed: true, similarity: persona.faceSimilarity)
            : FaceResult(livenessPassed: false, similarity: 0)
        logger.sandboxInfo(
            "face check \(idNumber.masked) (\(capture.simulated ? "simulated" : "camera")): liveness \(result.livenessPassed ? "passed" : "failed"), similarity \(result.similarity), threshold \(result.threshold)"
        )
        return result
    }
}
