import Foundation

/// Commands that need no database or server: they run before Vapor boots.
public enum OfflineCommands {
    /// Returns an exit status when `arguments` named an offline command, nil otherwise.
    public static func run(_ arguments: [String]) -> Int32? {
        guard let first = arguments.first else { return nil }
        switch first {
        case "policy" where arguments.count > 1 && ["eval", "bench", "test"].contains(arguments[1]):
            return PolicyCLI.run(arguments)
        case "quote":
            return QuoteCLI.run(Array(arguments.dropFirst()))
        case "ocr":
            return OCRCLI.run(Array(arguments.dropFirst()))
        case "contract" where arguments.count > 1 && arguments[1] == "verify":
            return ContractVerifyCLI.run(Array(arguments.dropFirst(2)))
        default:
            return nil
        }
    }

    /// `policy publish|replay|list …` are database commands, registered with Vapor as `policy-db`.
    public static func serverArguments(_ arguments: [String]) -> [String] {
        if arguments.first == "policy" {
            // `policy list` takes no folder; the database command's signature always has one.
            let rest = Array(arguments.dropFirst())
            return ["policy-db"] + (rest == ["list"] ? ["list", "all"] : rest)
        }
        return arguments
    }
}
