import App
import Vapor

var env = try Environment.detect()
let app = try await Application.make(env)
do {
    try await configure(app)
    try await app.execute()
} catch {
    try? await app.asyncShutdown()
    throw error
}
try await app.asyncShutdown()
