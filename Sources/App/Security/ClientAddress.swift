import Foundation
import Vapor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes (an IPv4-mapped IPv6 address is its IPv4 address), so that addresses
/// and ranges compare whatever way they were written.
struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    /// `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, `::ffff:192.0.2.1`; nil for anything else (host names too).
    init?(_ text: some StringProtocol) {
        var text = String(text).trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if text.contains("."), !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let all = withUnsafeBytes(of: &v6) { Array($0) }
        if all[0..<10].allSatisfy({ $0 == 0 }) && all[10] == 0xff && all[11] == 0xff {
            bytes = Array(all[12..<16])
        } else {
            bytes = all
        }
    }

    var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The proxies allowed to say who the client is (`YIDAI_TRUSTED_PROXIES`): addresses and CIDR ranges.
struct TrustedProxies: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        let network: [UInt8]
        let prefix: Int

        func contains(_ address: IPAddress) -> Bool {
            guard address.bytes.count == network.count else { return false }
            var left = prefix
            for (a, n) in zip(address.bytes, network) {
                guard left > 0 else { return true }
                let bits = min(8, left)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != n & mask { return false }
                left -= bits
            }
            return true
        }
    }

    let ranges: [Range]
    static let none = TrustedProxies(ranges: [])

    /// `10.0.0.1, 10.1.0.0/16, ::1, fd00::/8` (commas or spaces between entries).
    static func parse(_ raw: String?) throws -> TrustedProxies {
        guard let raw else { return .none }
        var ranges: [Range] = []
        for entry in raw.split(whereSeparator: { $0 == "," || $0 == " " }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard let address = IPAddress(parts[0]) else {
                throw ConfigurationError("YIDAI_TRUSTED_PROXIES: \(entry) is not an IP address or CIDR range")
            }
            let written = parts[0].contains(":") ? 128 : 32  // the width of the family as written
            var prefix = address.bytes.count * 8
            if parts.count == 2 {
                guard let bits = Int(parts[1]), bits >= 0, bits <= written else {
                    throw ConfigurationError("YIDAI_TRUSTED_PROXIES: \(entry) has a prefix length outside 0…\(written)")
                }
                // `::ffff:10.0.0.0/104` is the IPv4 range 10.0.0.0/8.
                prefix = written == 128 && address.bytes.count == 4 ? max(0, bits - 96) : bits
            }
            ranges.append(Range(network: address.bytes, prefix: prefix))
        }
        return TrustedProxies(ranges: ranges)
    }

    func contains(_ address: IPAddress) -> Bool { ranges.contains { $0.contains(address) } }
}

/// Who the client is: the TCP peer, or, only when that peer is a trusted proxy, the right-most address of
/// `X-Forwarded-For` (else `Forwarded: for=`) that is not a trusted proxy. A client can write anything in those
/// headers, so a header that did not come through a trusted proxy is ignored, and of a header that did, only
/// the addresses the trusted proxies appended themselves count.
struct ClientAddress: Sendable, Equatable {
    /// The address every limit, audit entry and consent record uses.
    let address: String
    /// `https` when the connection, or a trusted proxy's `X-Forwarded-Proto` / `Forwarded: proto=`, says so.
    let scheme: String?
    /// True when the address came from a forwarding header.
    let forwarded: Bool

    static func resolve(peer: String?, headers: HTTPHeaders, trusted: TrustedProxies) -> ClientAddress {
        guard let peer, let peerAddress = IPAddress(peer) else {
            return ClientAddress(address: peer ?? "unknown", scheme: nil, forwarded: false)
        }
        guard trusted.contains(peerAddress) else {
            return ClientAddress(address: peerAddress.description, scheme: nil, forwarded: false)
        }
        let (chain, protos) = hops(headers)
        // Walk from the nearest hop outwards: every trusted proxy passes us on to the address it saw.
        var client = peerAddress
        var forwarded = false
        for hop in chain.reversed() {
            guard let address = IPAddress(hop) else { break }  // `unknown`, an obfuscated name: the proxy before it is as far as we know
            client = address
            forwarded = true
            if !trusted.contains(address) { break }
        }
        let scheme = protos.last.map { $0.lowercased() }.flatMap { $0 == "https" || $0 == "http" ? $0 : nil }
        return ClientAddress(address: client.description, scheme: scheme, forwarded: forwarded)
    }

    /// The addresses (left to right, as the proxies appended them) and the protocols the headers name.
    static func hops(_ headers: HTTPHeaders) -> (addresses: [String], protos: [String]) {
        let xff = headers[canonicalForm: "X-Forwarded-For"].map(String.init)
        let protos = headers[canonicalForm: "X-Forwarded-Proto"].map { $0.trimmingCharacters(in: .whitespaces) }
        if !xff.isEmpty {
            return (xff.map { stripPort($0.trimmingCharacters(in: .whitespaces)) }, protos)
        }
        var addresses: [String] = []
        var forwardedProtos: [String] = []
        for element in headers[canonicalForm: "Forwarded"] {
            for pair in element.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { continue }
                let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                switch kv[0].lowercased() {
                case "for": addresses.append(stripPort(value))
                case "proto": forwardedProtos.append(value)
                default: break
                }
            }
        }
        return (addresses, protos.isEmpty ? forwardedProtos : protos)
    }

    /// `192.0.2.1:4711` → `192.0.2.1`, `[2001:db8::1]:4711` → `2001:db8::1`; a bare IPv6 address is left alone.
    static func stripPort(_ text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { return String(text[..<colon]) }
        return text
    }
}

extension Request {
    private struct ClientAddressKey: StorageKey { typealias Value = ClientAddress }

    /// The client's address and scheme as `YIDAI_TRUSTED_PROXIES` allows them to be known: the one helper every
    /// limit, audit entry and record of an address uses.
    var clientAddress: ClientAddress {
        if let known = storage[ClientAddressKey.self] { return known }
        let resolved = ClientAddress.resolve(
            peer: remoteAddress?.ipAddress, headers: headers, trusted: application.yidai.config.trustedProxies)
        storage[ClientAddressKey.self] = resolved
        return resolved
    }

    /// True when the client reached us over HTTPS, directly or through a trusted proxy that says so.
    var isHTTPS: Bool { url.scheme == "https" || clientAddress.scheme == "https" }

    /// True when the request comes straight from this machine (the loopback peer) and no proxy forwarded it.
    var isDirectLoopback: Bool {
        guard let peer = remoteAddress?.ipAddress, let address = IPAddress(peer) else { return false }
        let loopback = address.bytes.count == 4 ? address.bytes[0] == 127 : address.bytes == Array(repeating: 0, count: 15) + [1]
        let forwardingHeaders = ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto"]
        return loopback && !forwardingHeaders.contains { headers.contains(name: $0) }
    }
}
