import Testing
import VaporTesting
@testable import App
@Test("health answers") func health() async throws {
    try await withApp(configure: configure) { app in
        try await app.testing().test(.GET, "health") { res async in #expect(res.status == .ok) }
    }
}
