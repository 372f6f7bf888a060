// swift-tools-version:6.1
// Loan mathematics benchmark: run on demand with ./run.sh (never in CI). Depends on the project root by path and
// builds only its LendingCore product.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repository was cloned.
let rootIdentity = URL(fileURLWithPath: Context.packageDirectory)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "loanmath-bench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(
            name: "LoanMathBench",
            dependencies: [.product(name: "LendingCore", package: rootIdentity)]
        ),
        // Prints schedules for crosscheck.py, the exact (fractions) oracle.
        .executableTarget(
            name: "LoanQuoteDump",
            dependencies: [.product(name: "LendingCore", package: rootIdentity)]
        ),
    ]
)
