import Foundation
import LendingCore
import Logging

/// 联网核查: does the citizen registry know this ID number under this name? A match returns a reference to the
/// registry photo that the face comparison uses.
public protocol CitizenRegistry: OutsideService {
    func verify(name: String, idNumber: ChineseIDNumber) async throws(ProviderError) -> RegistryResult
}

public enum RegistryResult: Sendable, Equatable {
    case match(photoReference: String)
    case nameMismatch
    case notFound
}

/// P03's ID number is registered under 李刚, so 李强 gets `nameMismatch`; listed persons match under their own name;
/// any other valid ID number matches under the name as given.
public struct SandboxCitizenRegistry: CitizenRegistry {
    public let serviceName = "registry"
    public let isSandbox = true
    /// Label `yidai.sandbox.registry` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(logger: Logger? = nil, failure: ProviderError? = nil) {
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.registry")
    }

    public func verify(name: String, idNumber: ChineseIDNumber) async throws(ProviderError) -> RegistryResult {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        let given = name.filter { !$0.isWhitespace }
        let persona = SandboxPersona.forIDNumber(idNumber)
        let result: RegistryResult
        if let registered = persona.registryName, registered != given {
            result = .nameMismatch
        } else {
            result = .match(photoReference: Self.photoReference(for: idNumber))
        }
        logger.sandboxInfo("registry check \(PersonalDataMask.name(given)) / \(idNumber.masked): \(result)")
        return result
    }

    /// An opaque reference that does not contain the ID number.
    static func photoReference(for idNumber: ChineseIDNumber) -> String {
        if let listed = SandboxPersona.listed(idNumber: idNumber) { return "sandbox-registry-photo-\(listed.key)" }
        return "sandbox-registry-photo-" + SandboxCards.sha256Hex(Data(idNumber.value.utf8)).prefix(16)
    }
}
