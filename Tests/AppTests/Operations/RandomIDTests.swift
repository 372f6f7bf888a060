import Foundation
import Testing

@testable import App

@Suite("New ids")
struct RandomIDTests {
    @Test("every new id is a version 4 UUID, and none repeats across many pools' worth made from many tasks at once")
    func idsAreVersionFourAndNeverRepeat() async throws {
        // MUT: ten tasks at once, each making enough ids to empty the shared pool several times over
        let perTask = RandomID.poolBytes / 16 * 3 + 7
        let ids = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<10 { group.addTask { (0..<perTask).map { _ in RandomID.uuid() } } }
            return await group.reduce(into: [UUID]()) { $0 += $1 }
        }
        // validation
        #expect(ids.count == 10 * perTask)
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(2_000) {
            #expect(id.uuid.6 >> 4 == 4, "\(id): version")
            #expect(id.uuid.8 >> 6 == 0b10, "\(id): variant")
        }
        // The other 122 bits are random: across the ids every one of them is set in some and clear in others.
        var seenSet = [Bool](repeating: false, count: 128), seenClear = [Bool](repeating: false, count: 128)
        for id in ids.prefix(4_000) {
            withUnsafeBytes(of: id.uuid) { bytes in
                for bit in 0..<128 {
                    if bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 { seenSet[bit] = true } else { seenClear[bit] = true }
                }
            }
        }
        let fixed = Set([48, 49, 50, 51, 64, 65])  // the version's four bits and the variant's two
        for bit in 0..<128 where !fixed.contains(bit) {
            #expect(seenSet[bit] && seenClear[bit], "bit \(bit) never changed")
        }
    }
}
