import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite("The client's address behind proxies")
struct ClientAddressTests {
    static let proxies = try! TrustedProxies.parse("10.0.0.0/8, fd00::/8, 127.0.0.1")

    @Test("forwarding headers from a peer that is not a trusted proxy change nothing: not the address, not the scheme")
    func spoofedHeadersAreIgnored() {
        // setup
        let headers: HTTPHeaders = ["X-Forwarded-For": "1.2.3.4", "Forwarded": "for=5.6.7.8;proto=https", "X-Forwarded-Proto": "https"]
        // MUT
        let client = ClientAddress.resolve(peer: "203.0.113.9", headers: headers, trusted: Self.proxies)
        // validation
        #expect(client == ClientAddress(address: "203.0.113.9", scheme: nil, forwarded: false))
        #expect(ClientAddress.resolve(peer: "203.0.113.9", headers: headers, trusted: .none).address == "203.0.113.9")
    }

    @Test("behind a chain of trusted proxies the client is the right-most address that is not a proxy, whatever the client wrote before it")
    func chainOfProxies() {
        let headers: HTTPHeaders = ["X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.0.0.1", "X-Forwarded-Proto": "https"]
        let client = ClientAddress.resolve(peer: "10.0.0.2", headers: headers, trusted: Self.proxies)
        #expect(client == ClientAddress(address: "198.51.100.7", scheme: "https", forwarded: true))
        // Two header lines are one list, in order.
        var split = HTTPHeaders()
        split.add(name: "X-Forwarded-For", value: "6.6.6.6")
        split.add(name: "X-Forwarded-For", value: "198.51.100.8, 10.9.9.9")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", headers: split, trusted: Self.proxies).address == "198.51.100.8")
    }

    @Test("the standard Forwarded header works too, with IPv6 addresses, quotes and ports")
    func forwardedHeader() {
        let headers: HTTPHeaders = ["Forwarded": #"for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.2.3"#]
        let client = ClientAddress.resolve(peer: "fd00::5", headers: headers, trusted: Self.proxies)
        #expect(client == ClientAddress(address: "2001:db8:cafe::17", scheme: "https", forwarded: true))
    }

    @Test("when every hop is a trusted proxy the client is the left-most one; an unreadable hop stops the walk")
    func allTrustedOrUnreadable() {
        #expect(ClientAddress.resolve(peer: "127.0.0.1", headers: ["X-Forwarded-For": "10.0.0.8, 10.0.0.9"], trusted: Self.proxies).address == "10.0.0.8")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", headers: ["X-Forwarded-For": "198.51.100.1, unknown"], trusted: Self.proxies).address == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", headers: [:], trusted: Self.proxies) == ClientAddress(address: "10.0.0.2", scheme: nil, forwarded: false))
    }

    @Test("YIDAI_TRUSTED_PROXIES takes addresses and CIDR ranges of both families, and refuses anything else")
    func parsing() throws {
        let proxies = try TrustedProxies.parse("192.168.0.0/16 ::1,::ffff:172.16.0.0/108")
        #expect(proxies.contains(IPAddress("192.168.40.2")!))
        #expect(!proxies.contains(IPAddress("192.169.0.1")!))
        #expect(proxies.contains(IPAddress("::1")!))
        #expect(proxies.contains(IPAddress("172.16.200.1")!))
        #expect(proxies.contains(IPAddress("::ffff:192.168.1.1")!))  // an IPv4-mapped peer is its IPv4 address
        #expect(!proxies.contains(IPAddress("2001:db8::1")!))
        #expect(try TrustedProxies.parse(nil) == .none)
        #expect(throws: ConfigurationError.self) { try TrustedProxies.parse("10.0.0.0/33") }
        #expect(throws: ConfigurationError.self) { try TrustedProxies.parse("proxy.internal") }
    }

    @Test("every part of the app reads the same client address: the journey's records and the secure-cookie rule")
    func oneHelper() async throws {
        try await withYidai { app, _, _ in
            let headers: HTTPHeaders = ["X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"]
            let direct = try request(app, from: "198.51.100.99", headers: headers)
            #expect(direct.journey.client.address == "198.51.100.99")
            #expect(!direct.isHTTPS)
            reconfigure(app) { $0.trustedProxies = try! TrustedProxies.parse("10.0.0.0/8") }
            let proxied = try request(app, from: "10.0.0.3", headers: headers)
            #expect(proxied.journey.client.address == "198.51.100.20")
            #expect(proxied.isHTTPS)
        }
    }

    /// 21 sign-in attempts with a wrong code through a live server; returns the statuses.
    static func signInAttempts(_ app: Application, port: Int, forwardedFor: (Int) -> String) async throws -> [HTTPStatus] {
        var statuses: [HTTPStatus] = []
        for i in 0..<21 {
            let (status, _, _) = try await live(
                app, port: port, .POST, "/api/v1/sessions", headers: ["X-Forwarded-For": forwardedFor(i)],
                json: #"{"phone": "13900000001", "code": "123456"}"#)
            statuses.append(status)
        }
        return statuses
    }

    @Test("a client that writes a new X-Forwarded-For on every try still meets its sign-in limit after 20 tries")
    func spoofingDoesNotEscapeTheLimit() async throws {
        try await withYidai { app, _, _ in
            let statuses = try await Self.signInAttempts(app, port: freePort()) { "198.51.100.\($0 + 1)" }
            #expect(statuses.prefix(20).allSatisfy { $0 != .tooManyRequests })
            #expect(statuses.last == .tooManyRequests)
        }
    }

    @Test("behind a trusted proxy each applicant has a sign-in limit of their own, and a fake address in front changes nothing")
    func limitsPerClientBehindAProxy() async throws {
        try await withYidai { app, _, _ in
            reconfigure(app) { $0.trustedProxies = try! TrustedProxies.parse("127.0.0.1") }
            let port = freePort()
            let first = try await Self.signInAttempts(app, port: port) { "203.0.113.\($0 + 1), 198.51.100.1" }
            #expect(first.prefix(20).allSatisfy { $0 != .tooManyRequests })
            #expect(first.last == .tooManyRequests)
            // Another applicant behind the same proxy is not held back by the first one's tries.
            let (other, _, _) = try await live(
                app, port: port, .POST, "/api/v1/sessions", headers: ["X-Forwarded-For": "198.51.100.2"],
                json: #"{"phone": "13900000002", "code": "123456"}"#)
            #expect(other != .tooManyRequests)
        }
    }
}
