import Foundation
import LendingCore
import Logging

/// Sends text messages (OTP codes) to a mobile phone.
public protocol SMSGateway: OutsideService {
    func send(to phone: MobileNumber, text: String) async throws
}

/// A message the sandbox gateway "sent". Holds the full phone: sandbox only, never in production.
public struct SandboxSMSMessage: Sendable, Codable, Equatable {
    public let phone: String
    public let text: String
    public let sentAt: Date

    public init(phone: String, text: String, sentAt: Date) {
        self.phone = phone
        self.text = text
        self.sentAt = sentAt
    }

    public var maskedPhone: String { PersonalDataMask.phone(phone) }
}

/// Keeps every message in memory instead of sending it; `GET /sandbox/sms` shows the outbox.
/// Send limits (60 s, 10 a day) are the App's job; the gateway sends whatever it is given.
public actor SandboxSMSGateway: SMSGateway {
    public nonisolated let serviceName = "sms"
    public nonisolated let isSandbox = true
    private let clock: @Sendable () -> Date
    /// Label `yidai.sandbox.sms` unless another logger is given (tests capture it).
    public nonisolated let logger: Logger
    private nonisolated let failure: ProviderError?
    private var messages: [SandboxSMSMessage] = []

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(clock: @escaping @Sendable () -> Date = Date.init, logger: Logger? = nil, failure: ProviderError? = nil) {
        self.clock = clock
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.sms")
    }

    public func send(to phone: MobileNumber, text: String) async throws {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        messages.append(SandboxSMSMessage(phone: phone.value, text: text, sentAt: clock()))
        // The text carries an OTP (C3 data): log its length, never its content.
        logger.sandboxInfo("SMS to \(phone.masked) kept in the sandbox outbox (\(text.count) characters)")
    }

    /// Newest first; only the messages to `phone` when given.
    public func outbox(phone: MobileNumber? = nil) -> [SandboxSMSMessage] {
        messages.reversed().filter { phone == nil || $0.phone == phone!.value }
    }

    /// The first 6-digit code in the newest message to `phone`: what a tester would read off the phone.
    public func latestCode(to phone: MobileNumber) -> String? {
        guard let text = outbox(phone: phone).first?.text else { return nil }
        return Self.firstSixDigitCode(in: text)
    }

    public func clear() {
        messages.removeAll()
    }

    static func firstSixDigitCode(in text: String) -> String? {
        var run = ""
        for c in text + " " {
            if c.isASCII, c.isNumber {
                run.append(c)
            } else {
                if run.count == 6 { return run }
                run = ""
            }
        }
        return nil
    }
}
