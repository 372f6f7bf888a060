/// Thrown by a command that has already said what went wrong: the process exits with `code`, nothing more is logged.
public struct ExitCode: Error, CustomStringConvertible {
    public let code: Int32
    init(_ code: Int32) { self.code = code }
    public var description: String { "exit \(code)" }
}
