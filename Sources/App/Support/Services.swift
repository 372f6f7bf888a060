import Foundation
import Providers
import Vapor

/// The app-wide services, built once in configure.swift and passed down (no globals).
struct YidaiServices: Sendable {
    let config: AppConfig
    let cipher: FieldCipher
    let providers: ProviderSet
    let clock: AppClock
    let limiter: RateLimiter
    let policies: PolicyStore
    /// This instance's Prometheus counters (`GET /metrics`).
    var metrics = AppMetrics()
    /// Wakes this instance's job worker when a request queued a job.
    var jobs = JobWakeUp()
    /// The unsealed audit entries this instance committed, until it has seen them sealed (`AuditWatch`).
    var auditWatch = AuditWatch()
}

extension YidaiServices {
    /// The same services with another audit anchor file (tests and tools).
    func with(auditAnchorFile: String?) -> YidaiServices {
        var config = config
        config.auditAnchorFile = auditAnchorFile
        return YidaiServices(config: config, cipher: cipher, providers: providers, clock: clock, limiter: limiter, policies: policies, metrics: metrics, jobs: jobs, auditWatch: auditWatch)
    }
}

/// The wall clock, injectable so tests control time. (The business date for servicing is separate.)
struct AppClock: Sendable {
    let now: @Sendable () -> Date
    static let system = AppClock(now: { Date() })
}

extension Application {
    private struct ServicesKey: StorageKey { typealias Value = YidaiServices }

    var yidai: YidaiServices {
        get {
            guard let services = storage[ServicesKey.self] else { fatalError("configure(_:) has not run") }
            return services
        }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Request {
    var yidai: YidaiServices { application.yidai }
}

extension ProviderSet {
    var isSandbox: Bool { !sandboxServices.isEmpty }
}
