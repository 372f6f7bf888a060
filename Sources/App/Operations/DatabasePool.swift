import Foundation
import NIOCore
import NIOPosix

/// How many PostgreSQL connections an instance opens (`YIDAI_DB_POOL`). Fluent keeps one pool per event loop, so
/// a total is spread over the loops (rounded up); `N/loop` sets the per-loop size directly. The default, 8 in all,
/// lets a dozen instances share a PostgreSQL of 100 connections; one per event loop (Fluent's default) starved
/// requests as soon as a few waited on a row lock.
enum DatabasePool: Sendable, Equatable {
    case total(Int)
    case perEventLoop(Int)

    static let `default` = DatabasePool.total(8)

    /// Connections each event loop's pool may open.
    func perLoop(eventLoops: Int) -> Int {
        switch self {
        case .total(let n): max(1, (n + max(1, eventLoops) - 1) / max(1, eventLoops))
        case .perEventLoop(let n): max(1, n)
        }
    }

    static func parse(_ raw: String?) throws -> DatabasePool {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .default }
        let perLoop = raw.hasSuffix("/loop")
        let number = perLoop ? String(raw.dropLast("/loop".count)) : raw
        guard let n = Int(number), n >= 1, n <= 1000 else {
            throw ConfigurationError("YIDAI_DB_POOL must be a number of connections (1…1000) in all, or N/loop per event loop (got \(raw))")
        }
        return perLoop ? .perEventLoop(n) : .total(n)
    }
}

/// How the server process runs its work.
public enum ServerRuntime {
    /// Swift concurrency runs on NIO's event loops instead of a second pool of threads: every database query and
    /// response is then continued on the thread that received it, not handed between two pools (on the journey
    /// benchmark the hand-over was a large share of the server's CPU). Blocking work (Tesseract, cairo for the
    /// PDFs and posters) runs on thread pools, never in a request's task. Called by `main` before anything runs.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
