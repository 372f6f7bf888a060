import Foundation
import LendingCore
import Logging

/// The credit reference center (征信中心). Called only with a signed authorization (征信业管理条例 art. 18);
/// `authorizationReference` identifies it.
public protocol CreditBureau: OutsideService {
    func report(name: String, idNumber: ChineseIDNumber, authorizationReference: String) async throws(ProviderError)
        -> CreditReport
}

/// Reports from domain.md's table (P02 thin file, P10 delinquent, P11 many inquiries, ...); any other ID gets
/// P01's clean report. `generatedOn` is today in China (UTC+8) by the injected clock.
public struct SandboxCreditBureau: CreditBureau {
    public let serviceName = "bureau"
    public let isSandbox = true
    private let clock: @Sendable () -> Date
    /// Label `yidai.sandbox.bureau` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(clock: @escaping @Sendable () -> Date = Date.init, logger: Logger? = nil, failure: ProviderError? = nil) {
        self.clock = clock
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.bureau")
    }

    public func report(name: String, idNumber: ChineseIDNumber, authorizationReference: String)
        async throws(ProviderError) -> CreditReport
    {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        guard !authorizationReference.trimmingCharacters(in: .whitespaces).isEmpty else { throw .authorizationMissing }
        let persona = SandboxPersona.forIDNumber(idNumber)
        var report = persona.creditFacts
        let digest = SandboxCards.sha256Hex(Data((idNumber.value + "|" + authorizationReference).utf8))
        report.reportId = "SANDBOX-CR-" + digest.prefix(12).uppercased()
        report.generatedOn = Self.chinaDate(clock())
        logger.sandboxInfo(
            "credit report \(report.reportId) for \(PersonalDataMask.name(name)) / \(idNumber.masked) (like \(persona.key))")
        return report
    }

    static func chinaDate(_ date: Date) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return CivilDate(year: c.year!, month: c.month!, day: c.day!)!
    }
}
