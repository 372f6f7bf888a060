import CSystemRandom
import Foundation
import NIOConcurrencyHelpers

/// New ids (version 4 UUIDs, 122 random bits) from the system's random bytes, taken 4,096 at a time.
///
/// Foundation's `UUID()` on Linux opens `/dev/urandom`, reads 16 bytes and closes it again for every id: three system
/// calls, the open through the file system. A journey's requests made about seven ids each (the request's id, the
/// audit entry's, the funnel's rows, jobs and messages), and those opens were 2–3 % of the server's CPU on the journey
/// benchmark (`strace` counted 35 opens of `/dev/urandom` a journey). Here one `getrandom(2)` call gives 256 ids.
/// The bytes are the kernel's cryptographic random bytes as `UUID()`'s are, so an id is as hard to guess as before.
enum RandomID {
    static let poolBytes = 4096

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: RandomID.poolBytes)
        var next = RandomID.poolBytes  // empty: filled at the first id
    }

    private static let pool = NIOLockedValueBox(Pool())

    /// A new random UUID (version 4, variant RFC 4122), as `UUID()` makes.
    static func uuid() -> UUID {
        var bytes: uuid_t = pool.withLockedValue { pool in
            if pool.next + 16 > pool.bytes.count {
                fill(&pool.bytes)
                pool.next = 0
            }
            let start = pool.next
            pool.next += 16
            return pool.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: uuid_t.self) }
        }
        bytes.6 = (bytes.6 & 0x0F) | 0x40  // version 4
        bytes.8 = (bytes.8 & 0x3F) | 0x80  // variant 10
        return UUID(uuid: bytes)
    }

    /// `bytes` filled from the system's random source (the standard library's generator if getrandom fails, which it
    /// does not on any kernel Swift runs on).
    private static func fill(_ bytes: inout [UInt8]) {
        let filled = bytes.withUnsafeMutableBytes { yidai_fill_random($0.baseAddress, $0.count) == 0 }
        guard !filled else { return }
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
    }
}
