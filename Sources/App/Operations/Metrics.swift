import Fluent
import Foundation
import NIOConcurrencyHelpers
import Prometheus
import SQLKit
import Vapor

/// What an instance counts for Prometheus (`GET /metrics`, swift-prometheus' text format): its requests by route
/// and status with their latency, the credit decisions it made by outcome, and its calls to outside services. The job queue is read from the
/// database at each scrape (it is the fleet's, so every instance reports the same depth and age).
final class AppMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// This instance's PostgreSQL pool: its name in `pg_stat_activity` and its size (nil on SQLite).
    struct DatabasePoolInfo: Sendable {
        let applicationName: String
        let maxConnections: Int
    }

    private let pool = NIOLockedValueBox<DatabasePoolInfo?>(nil)
    var databasePool: DatabasePoolInfo? {
        get { pool.withLockedValue { $0 } }
        set { pool.withLockedValue { $0 = newValue } }
    }

    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// A request's counter and latency histogram, kept by its matched route (the route object's identity), method and
    /// status: the registry builds a metric's name and compares its labels at every lookup, and the route's pattern
    /// is joined from its parts (together 0.75 % of the server's CPU on the journey benchmark). At most
    /// `keptRequestSeries`; past that the registry is asked each time, as before.
    private struct RequestSeries: Hashable {
        let route: ObjectIdentifier?
        let method: String
        let status: UInt
    }
    static let keptRequestSeries = 2_000
    private let requestSeries = NIOLockedValueBox<[RequestSeries: (Counter, DurationHistogram)]>([:])

    /// One request answered (`MetricsMiddleware`): counted under its matched route's pattern.
    func recordRequest(_ request: Request, status: UInt, duration: Duration) {
        let key = RequestSeries(route: request.route.map(ObjectIdentifier.init), method: request.method.rawValue, status: status)
        if let (counter, histogram) = requestSeries.withLockedValue({ $0[key] }) {
            counter.increment()
            histogram.record(duration)
            return
        }
        let route = MetricsMiddleware.route(request)
        let series = (requestCounter(method: key.method, route: route, status: status), requestHistogram(method: key.method, route: route))
        requestSeries.withLockedValue { if $0.count < Self.keptRequestSeries { $0[key] = series } }
        series.0.increment()
        series.1.record(duration)
    }

    /// `route` is the route's pattern (`/api/v1/applications/:applicationID`), never the concrete path, so an id never
    /// becomes a label.
    private func requestCounter(method: String, route: String, status: UInt) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "yidai", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests answered, by route pattern and status"),
            labels: [("method", method), ("route", route), ("status", String(status))]
        )
    }

    private func requestHistogram(method: String, route: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "yidai", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer, by route pattern"),
            labels: [("method", method), ("route", route)], buckets: Self.latencyBuckets
        )
    }

    /// One credit decision made by this instance: `approved`, `declined` or `referred`.
    func recordDecision(outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "yidai", metricName: "decisions", unitName: "total", helpText: "Credit decisions, by outcome"),
            labels: [("outcome", outcome)]
        ).increment()
    }

    /// A journey step entered or completed by an application (counted as the funnel records it; a transaction rerun
    /// after contention may count one twice: the funnel report in the database is the exact figure).
    func recordJourneyStep(_ step: String, _ event: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "yidai", subsystem: "journey", metricName: "steps", unitName: "total", helpText: "Journey steps entered and completed, by step"),
            labels: [("step", step), ("event", event)]
        ).increment()
    }

    /// Times one call to an outside service and counts how it ended (`ok` or `error`), by provider.
    func measure<T, E: Error>(provider: String, _ body: () async throws(E) -> T) async throws(E) -> T {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let result = try await body()
            recordProviderCall(provider, outcome: "ok", duration: clock.now - started)
            return result
        } catch {
            recordProviderCall(provider, outcome: "error", duration: clock.now - started)
            throw error
        }
    }

    private func recordProviderCall(_ provider: String, outcome: String, duration: Duration) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "yidai", subsystem: "provider", metricName: "calls", unitName: "total", helpText: "Calls to outside services, by provider and outcome"),
            labels: [("provider", provider), ("outcome", outcome)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "yidai", subsystem: "provider", metricName: "call_duration", unitName: "seconds", helpText: "Time an outside service took, by provider"),
            labels: [("provider", provider)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// The text exposition, with the job queue read now.
    func render(db: any Database, now: Date) async -> String {
        if let sql = db as? any SQLDatabase {
            do {
                let rows = try await sql.raw(
                    "SELECT kind, COUNT(*) AS depth, MIN(created_at) AS oldest FROM jobs WHERE state = \(bind: BackgroundJobState.queued) GROUP BY kind"
                ).all()
                var seen: Set<String> = []
                for row in rows {
                    let kind = try row.decode(column: "kind", as: String.self)
                    seen.insert(kind)
                    let depth = try row.decode(column: "depth", as: Int.self)
                    let oldest = try row.decode(column: "oldest", as: Date?.self)
                    jobGauge("depth", "Queued jobs (the fleet's), by kind", kind).set(Double(depth))
                    jobGauge("oldest_age", "Age in seconds of the oldest queued job, by kind", kind).set(oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
                }
                for kind in [PayoutJobs.kind, Notifications.jobKind] where !seen.contains(kind) {
                    jobGauge("depth", "Queued jobs (the fleet's), by kind", kind).set(0.0)
                    jobGauge("oldest_age", "Age in seconds of the oldest queued job, by kind", kind).set(0.0)
                }
                // Audit entries written with their change and not chained yet (`AuditSealing`): a moment's worth,
                // unless the sealers have stopped.
                let unsealed = try await sql.raw(
                    "SELECT COUNT(*) AS waiting, MIN(recorded_at) AS oldest FROM audit_entries WHERE lane = 0").first()
                auditGauge("entries", "Audit entries waiting to be sealed into the chain (the fleet's)").set(
                    Double(try unsealed?.decode(column: "waiting", as: Int.self) ?? 0))
                auditGauge("oldest_age", "Age in seconds of the oldest audit entry waiting to be sealed").set(
                    try unsealed?.decode(column: "oldest", as: Date?.self).map { max(0, now.timeIntervalSince($0)) } ?? 0)
                if let pool = databasePool {
                    // Fluent does not tell how many of its connections are lent out; PostgreSQL does (this scrape's own
                    // connection is among the busy ones).
                    let row = try await sql.raw("""
                        SELECT COUNT(*) AS open, COUNT(*) FILTER (WHERE state <> 'idle') AS busy FROM pg_stat_activity
                        WHERE application_name = \(bind: pool.applicationName)
                        """).first()
                    poolGauge("max", "Connections this instance may open (YIDAI_DB_POOL)").set(Double(pool.maxConnections))
                    poolGauge("open", "Connections this instance has open").set(Double(try row?.decode(column: "open", as: Int.self) ?? 0))
                    poolGauge("busy", "Connections of this instance running a statement or in a transaction").set(
                        Double(try row?.decode(column: "busy", as: Int.self) ?? 0))
                }
                databaseUp.set(1.0)
            } catch {
                databaseUp.set(0.0)
            }
        }
        return registry.emitToString()
    }

    private func jobGauge(_ name: String, _ help: String, _ kind: String) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "yidai", subsystem: "jobs", metricName: "queue", unitName: name, helpText: help),
            labels: [("kind", kind)])
    }

    private func auditGauge(_ name: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "yidai", subsystem: "audit", metricName: "unsealed", unitName: name, helpText: help))
    }

    private func poolGauge(_ name: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "yidai", subsystem: "database", metricName: "connections", unitName: name, helpText: help))
    }

    private var databaseUp: Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "yidai", metricName: "database", unitName: "up", helpText: "1 when the database answered the last scrape"))
    }
}

/// Counts every request by route pattern and status, with its latency. Outermost but the request id, so error
/// pages count with the status they were given.
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: AppMetrics

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            metrics.recordRequest(request, status: (error as? any AbortError)?.status.code ?? 500, duration: clock.now - started)
            throw error
        }
        metrics.recordRequest(request, status: response.status.code, duration: clock.now - started)
        return response
    }

    /// The matched route's pattern; every unmatched path (static files, 404s) is one label, so no client can grow the set.
    static func route(_ request: Request) -> String {
        guard let route = request.route else { return "unmatched" }
        return "/" + route.path.map(\.description).joined(separator: "/")
    }
}

/// `GET /metrics`: a loopback peer that sent no forwarding header (a scraper on the same machine), or
/// `Authorization: Bearer <YIDAI_METRICS_TOKEN>` from anywhere; anyone else gets the ordinary 404.
enum MetricsController {
    @Sendable static func metrics(_ req: Request) async throws -> Response {
        guard mayRead(req) else { throw APIError.notFound("route") }
        let text = await req.yidai.metrics.render(db: req.db, now: req.yidai.clock.now())
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }

    static func mayRead(_ req: Request) -> Bool {
        if let token = req.yidai.config.metricsToken, let bearer = req.headers.bearerAuthorization?.token {
            // Constant time, so the token cannot be guessed a byte at a time.
            let (a, b) = (Array(token.utf8), Array(bearer.utf8))
            return a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
        return req.isDirectLoopback
    }
}
