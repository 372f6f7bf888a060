import Foundation
import LendingCore
import Logging

/// 手机实名 (三要素): is this phone number registered with the carrier to this name and ID number?
public protocol CarrierVerification: OutsideService {
    func verify(phone: MobileNumber, name: String, idNumber: ChineseIDNumber) async throws(ProviderError) -> CarrierResult
}

public enum CarrierResult: String, Sendable, Codable, Equatable {
    case match, mismatch
}

/// P06's phone (13800000006) is registered to another person; every other combination matches.
public struct SandboxCarrierVerification: CarrierVerification {
    public let serviceName = "carrier"
    public let isSandbox = true
    /// Label `yidai.sandbox.carrier` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(logger: Logger? = nil, failure: ProviderError? = nil) {
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.carrier")
    }

    public func verify(phone: MobileNumber, name: String, idNumber: ChineseIDNumber) async throws(ProviderError)
        -> CarrierResult
    {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        let owner = SandboxPersona.forPhone(phone)
        let result: CarrierResult = owner?.phoneRegisteredToSomeoneElse == true ? .mismatch : .match
        logger.sandboxInfo("carrier check \(phone.masked) / \(PersonalDataMask.name(name)) / \(idNumber.masked): \(result.rawValue)")
        return result
    }
}
