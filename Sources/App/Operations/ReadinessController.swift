import Fluent
import SQLKit
import Vapor

extension HealthController {
    struct Readiness: Content {
        let status: String
        let database: String
        let migrations: String
    }

    /// `GET /health/ready`: 200 when this instance should get traffic; 503 while its migrations and seeding run
    /// or when the database does not answer (a load balancer takes it out of rotation until then).
    @Sendable static func ready(_ req: Request) async throws -> Response {
        let starting = req.application.readiness.isStarting
        var reachable = false
        if let sql = req.db as? any SQLDatabase {
            reachable = (try? await sql.raw("SELECT 1 AS up").all()) != nil
        }
        let ready = reachable && !starting
        let response = try await Readiness(
            status: ready ? "ready" : "unavailable", database: reachable ? "ok" : "unreachable", migrations: starting ? "running" : "done"
        ).encodeResponse(for: req)
        response.status = ready ? .ok : .serviceUnavailable
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}
