import Vapor
import Fluent
import FluentSQLiteDriver
import FluentPostgresDriver
import Leaf
import Crypto

public func configure(_ app: Application) async throws {
    app.get("health") { _ in "ok" }
}
