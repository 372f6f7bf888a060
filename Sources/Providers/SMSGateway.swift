import Foundation
import LendingCore
import Logging

/// Sends text messages (one-time codes and notifications) to a mobile phone.
public protocol SMSGateway: OutsideService {
    /// Sends `text`. `reference`, when given, is the caller's id for this message (Aliyun's `OutId`, Tencent's
    /// `SessionContext`): a second send with the same reference is not delivered again, so a notification whose
    /// worker died after the send can safely be retried.
    func send(to phone: MobileNumber, text: String, reference: String?) async throws
}

extension SMSGateway {
    public func send(to phone: MobileNumber, text: String) async throws {
        try await send(to: phone, text: text, reference: nil)
    }
}

/// Where the sandbox gateway keeps its outbox when it must outlive the process and be shared by every
/// instance (the App keeps it in the database). Sandbox only.
public protocol SandboxOutboxStore: Sendable {
    /// Keeps the message; false when a message with the same reference is already there (nothing is added).
    func append(_ message: SandboxSMSMessage, reference: String?) async throws -> Bool
    /// Newest first, at most `limit`; only the messages to `phone` when given.
    func list(phone: String?, limit: Int) async throws -> [SandboxSMSMessage]
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

/// Keeps every message instead of sending it (in memory, or in a `SandboxOutboxStore` the App attaches);
/// `GET /sandbox/sms` shows the outbox. Send limits (60 s, 10 a day) are the App's job; the gateway sends whatever
/// it is given. `setOutage(_:)` simulates the operator being down until it is lifted.
public actor SandboxSMSGateway: SMSGateway {
    public nonisolated let serviceName = "sms"
    public nonisolated let isSandbox = true
    private let clock: @Sendable () -> Date
    /// Label `yidai.sandbox.sms` unless another logger is given (tests capture it).
    public nonisolated let logger: Logger
    private var failure: ProviderError?
    private var messages: [SandboxSMSMessage] = []
    private var references: Set<String> = []
    private var store: (any SandboxOutboxStore)?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(clock: @escaping @Sendable () -> Date = Date.init, logger: Logger? = nil, failure: ProviderError? = nil) {
        self.clock = clock
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.sms")
    }

    /// Keeps the outbox in `store` from now on (the App's database table, shared by every instance).
    public func attach(store: any SandboxOutboxStore) {
        self.store = store
    }

    /// Simulates the operator's gateway being down (`failure`) or back (nil).
    public func setOutage(_ failure: ProviderError?) {
        self.failure = failure
    }

    public var outage: ProviderError? { failure }

    public func send(to phone: MobileNumber, text: String, reference: String?) async throws {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        let message = SandboxSMSMessage(phone: phone.value, text: text, sentAt: clock())
        if let store {
            guard try await store.append(message, reference: reference) else {
                logger.sandboxInfo("SMS to \(phone.masked) with a reference already sent: not delivered again")
                return
            }
        } else {
            if let reference {
                guard references.insert(reference).inserted else { return }
            }
            messages.append(message)
        }
        // The text may carry an OTP (C3 data): log its length, never its content.
        logger.sandboxInfo("SMS to \(phone.masked) kept in the sandbox outbox (\(text.count) characters)")
    }

    /// Newest first; only the messages to `phone` when given. A store that cannot be read gives an empty list
    /// (and a log line): the outbox is a tester's window, never an input to the product.
    public func outbox(phone: MobileNumber? = nil, limit: Int = 1000) async -> [SandboxSMSMessage] {
        if let store {
            do {
                return try await store.list(phone: phone?.value, limit: limit)
            } catch {
                logger.sandboxInfo("sandbox outbox unreadable: \(error)")
                return []
            }
        }
        return Array(messages.reversed().filter { phone == nil || $0.phone == phone!.value }.prefix(limit))
    }

    /// The code in the newest one-time-code message (验证码) to `phone`: what a tester would read off the phone.
    /// Notifications in between (decision ready, reminders) are skipped, as a person's eye would skip them.
    public func latestCode(to phone: MobileNumber) async -> String? {
        for message in await outbox(phone: phone, limit: 50) where message.text.contains("验证码") {
            return Self.firstSixDigitCode(in: message.text)
        }
        return nil
    }

    public func clear() {
        messages.removeAll()
        references.removeAll()
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
