import Foundation
import LendingCore
import Testing

/// Deterministic pseudo-random inputs (SplitMix64), so a failure names a reproducible case.
private struct SeededNumbers {
    var state: UInt64

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }

    mutating func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(next(10))) }) }
}

@Suite("Identity checks over many generated numbers")
struct IdentityPropertyTests {
    @Test("any real birth date with any sequence and its computed check character is accepted; any other check character is refused")
    func generatedIDNumbers() throws {
        var rng = SeededNumbers(state: 20_261_126)
        let regions = ["440305", "310115", "110108", "420106", "510107", "330106", "320102", "650102"]
        for _ in 0..<2000 {
            let birth = CivilDate(year: 1900, month: 1, day: 1)!.adding(days: rng.next(45_000))
            let compact = birth.iso.replacingOccurrences(of: "-", with: "")
            let first17 = regions[rng.next(regions.count)] + compact + rng.digits(3)
            let check = try #require(ChineseIDNumber.checkCharacter(for: first17))
            let id = try ChineseIDNumber(first17 + String(check))
            #expect(id.birthDate == birth)
            #expect(id.sex == ((Int(String(Array(first17)[16]))! % 2 == 1) ? .male : .female))
            for wrong in "0123456789X" where wrong != check {
                #expect(throws: FieldError.self) { try ChineseIDNumber(first17 + String(wrong)) }
            }
        }
    }

    @Test("a card number completed with its Luhn digit is accepted; changing any one digit is refused")
    func generatedCards() throws {
        var rng = SeededNumbers(state: 7812)
        for _ in 0..<2000 {
            let length = 16 + rng.next(4)
            let body = "62" + rng.digits(length - 3)
            let complete = try #require("0123456789".map { body + String($0) }.first(where: BankCardNumber.passesLuhn))
            #expect(try BankCardNumber(complete).value == complete)
            var chars = Array(complete)
            let i = rng.next(chars.count)
            chars[i] = Character(String((chars[i].wholeNumberValue! + 1 + rng.next(9)) % 10))
            #expect(!BankCardNumber.passesLuhn(String(chars)))
        }
    }

    @Test("every valid mobile number masks to its first three and last four digits")
    func generatedPhones() throws {
        var rng = SeededNumbers(state: 86)
        for _ in 0..<1000 {
            let raw = "1" + String(3 + rng.next(7)) + rng.digits(9)
            let phone = try MobileNumber(raw)
            #expect(phone.masked == String(raw.prefix(3)) + "****" + String(raw.suffix(4)))
            #expect(try MobileNumber("+86 " + raw) == phone)
        }
    }
}

@Suite("Names as on the ID card")
struct PersonNameTests {
    @Test("Chinese names, including transliterated ones with a middle dot, are accepted")
    func accepted() throws {
        #expect(try PersonName(" 张伟 ").value == "张伟")
        #expect(try PersonName("周建国").masked == "周*国")
        #expect(try PersonName("买买提.艾力").value == "买买提·艾力")
    }

    @Test("empty, one-character, Latin and digit names are refused with the name field named")
    func refused() {
        func code(_ raw: String) -> String? {
            do {
                _ = try PersonName(raw)
                return nil
            } catch {
                #expect(error.field == "name")
                return error.code
            }
        }
        #expect(code("") == "name_required")
        #expect(code("张") == "name_length")
        #expect(code("Zhang Wei") == "name_format")
        #expect(code("张伟1") == "name_format")
        #expect(code("·张伟") == "name_format")
    }
}
