import Foundation
import NIOCore
import NIOHTTP1
import Vapor
import VaporTesting

@testable import App

/// The same running Yidai with some of its configuration changed (as if its environment said so).
func reconfigure(_ app: Application, _ change: (inout AppConfig) throws -> Void) rethrows {
    var config = app.yidai.config
    try change(&config)
    let s = app.yidai
    app.yidai = YidaiServices(
        config: config, cipher: s.cipher, providers: s.providers, clock: s.clock, limiter: s.limiter, policies: s.policies, metrics: s.metrics)
}

/// A request as the server would see it from `peer` (for the helpers that read the TCP peer).
func request(_ app: Application, from peer: String?, headers: HTTPHeaders = [:]) throws -> Request {
    Request(
        application: app, method: .GET, url: "/", headers: headers,
        remoteAddress: try peer.map { try SocketAddress(ipAddress: $0, port: 40_000) }, on: app.eventLoopGroup.next())
}

/// Sends one request to the app listening on 127.0.0.1:`port` (so the server sees a loopback peer).
func live(
    _ app: Application, port: Int, _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], json: String? = nil
) async throws -> (HTTPStatus, String, HTTPHeaders) {
    var result: (HTTPStatus, String, HTTPHeaders) = (.ok, "", [:])
    try await app.testing(method: .running(hostname: "127.0.0.1", port: port)).test(
        method, path,
        beforeRequest: { req in
            req.headers = headers
            if let json {
                req.headers.contentType = .json
                req.body = ByteBuffer(string: json)
            }
        },
        afterResponse: { res async in result = (res.status, res.body.string, res.headers) })
    return result
}

/// A port for a test server of its own (tests run in parallel): 0, any free port.
func freePort() -> Int { 0 }  // the server picks a free one
