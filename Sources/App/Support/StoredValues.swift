import Foundation
import LendingCore

/// States, statuses and kinds are stored as their raw strings and decoded here, once, on the way out of the
/// database: a value this build does not know fails loudly (500 `corrupt_state` naming it) instead of passing for
/// another one, as `ApplicationState(rawValue:) ?? .cancelled` would.
enum StoredValues {
    static func decode<Value: RawRepresentable>(_ raw: String, _ what: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else { throw corrupt(what, raw) }
        return value
    }

    /// A stored date (`YYYY-MM-DD`).
    static func date(_ raw: String, _ what: String) throws -> CivilDate {
        guard let date = CivilDate(iso: raw) else { throw corrupt(what, raw) }
        return date
    }

    static func corrupt(_ what: String, _ raw: String) -> APIError {
        APIError(
            .internalServerError, code: "corrupt_state", message: "The stored \(what) '\(raw.prefix(30))' is unknown.")
    }
}
