import Foundation
import Logging
import NIOConcurrencyHelpers

/// `LOG_FORMAT=json`: one JSON object per line on standard output (`time`, `level`, `label`, `message`, the
/// metadata, the request's `request-id` among them), for a log collector. The code masks personal data before it
/// logs anything (张*, 138****5678); any run of 11 or more digits that slipped through is masked here too.
public enum StructuredLogging {
    /// Called by `main` before the application exists (logging is bootstrapped once per process, before anything
    /// logs); the only environment read outside `AppConfig`.
    public static func bootstrapFromEnvironment() {
        guard ProcessInfo.processInfo.environment["LOG_FORMAT"]?.lowercased() == "json" else { return }
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label, write: JSONLogHandler.standardOutput)
            handler.logLevel = level
            return handler
        }
    }
}

struct JSONLogHandler: LogHandler {
    let label: String
    let write: @Sendable (String) -> Void
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let lock = NIOLock()
    static let standardOutput: @Sendable (String) -> Void = { line in
        lock.withLock {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func log(event: LogEvent) {
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        write(Self.line(time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var object: [String: Any] = [:]
        for (key, value) in metadata { object[key] = json(value) }
        // A safety net under the masking the code does itself: no run of 11 or more digits (a phone, an ID or
        // card number) leaves the process whole.
        object["time"] = time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        object["level"] = level.rawValue
        object["label"] = label
        object["message"] = LogMasking.mask(message)
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): LogMasking.mask(text)
        case .stringConvertible(let convertible): LogMasking.mask(convertible.description)
        case .array(let values): values.map(json)
        case .dictionary(let entries): entries.mapValues(json)
        }
    }
}
