import LendingCore
import Testing

@Suite("Chinese resident ID numbers (GB 11643-1999)")
struct ChineseIDNumberTests {
    /// ID numbers of domain.md's sandbox table (copied from shared/docs/domain.md, "Sandbox data").
    static let sandboxIDNumbers = [
        "440305198803152013", "310115199207083020", "11010819850122401X", "420106199009015026", "510107197804166017",
        "330106199512307024", "320102198305118018", "440106200506209023", "370202197002281010", "120101199603032029",
        "610113198909093016",
    ]

    @Test("every sandbox ID number is accepted", arguments: ChineseIDNumberTests.sandboxIDNumbers)
    func sandboxNumbersAreValid(raw: String) throws {
        let id = try ChineseIDNumber(raw)
        #expect(id.value == raw)
    }

    @Test("birth date, sex, region and age are read from the number")
    func derivedFacts() throws {
        let p01 = try ChineseIDNumber("440305198803152013")
        #expect(p01.birthDate == CivilDate(year: 1988, month: 3, day: 15))
        #expect(p01.sex == .male)
        #expect(p01.regionCode == "440305")
        #expect(p01.age(on: CivilDate(iso: "2026-11-26")!) == 38)
        #expect(p01.age(on: CivilDate(iso: "2026-03-14")!) == 37)
        #expect(p01.age(on: CivilDate(iso: "2026-03-15")!) == 38)

        let p02 = try ChineseIDNumber("310115199207083020")
        #expect(p02.sex == .female)
        #expect(p02.birthDate.iso == "1992-07-08")

        #expect(try ChineseIDNumber("440106200506209023").age(on: CivilDate(iso: "2026-11-26")!) == 21)
        #expect(try ChineseIDNumber("370202197002281010").age(on: CivilDate(iso: "2026-11-26")!) == 56)
    }

    @Test("a lower-case x check character and surrounding spaces are accepted and normalised")
    func normalisation() throws {
        let id = try ChineseIDNumber("  11010819850122401x ")
        #expect(id.value == "11010819850122401X")
        #expect(try ChineseIDNumber("440305 19880315 2013").value == "440305198803152013")
        #expect(try ChineseIDNumber("１１０１０８１９８５０１２２４０１ｘ").value == "11010819850122401X")  // full-width input
    }

    @Test("a wrong check character is refused as a check digit error")
    func wrongCheckCharacter() {
        #expect(throws: FieldError.self) { try ChineseIDNumber("440305198803152014") }
        #expect(code(of: "440305198803152014") == "id_number_check_digit")
        #expect(code(of: "110108198501224010") == "id_number_check_digit")
    }

    @Test("an impossible birth date is refused as a birth date error")
    func badBirthDate() {
        #expect(code(of: "440305198802302013") == "id_number_birth_date")  // 30 February
        #expect(code(of: "440305198813152013") == "id_number_birth_date")  // month 13
        #expect(code(of: "440305189901012013") == "id_number_birth_date")  // before 1900
        #expect(code(of: "440305199002290000") == "id_number_birth_date")  // 1990 is not a leap year
    }

    @Test("a number that is not 18 characters is refused as a length error")
    func wrongLength() {
        #expect(code(of: "44030519880315201") == "id_number_length")
        #expect(code(of: "4403051988031520133") == "id_number_length")
        #expect(code(of: "440305880315201") == "id_number_length")  // the old 15-digit form
        #expect(code(of: "") == "id_number_required")
    }

    @Test("letters inside the number and unknown regions are refused")
    func formatAndRegion() {
        #expect(code(of: "4403051988031520A3") == "id_number_format")
        #expect(code(of: "44030519880315201Y") == "id_number_format")
        #expect(code(of: "990305198803152013") == "id_number_region")
    }

    @Test("errors name the idNumber field and carry a Chinese message")
    func errorShape() {
        do {
            _ = try ChineseIDNumber("440305198803152014")
            Issue.record("accepted a wrong check digit")
        } catch {
            #expect(error.field == "idNumber")
            #expect(error.messageZh == "身份证号码校验位不正确，请核对")
            #expect(!error.message.isEmpty)
        }
    }

    @Test("the check character is computed by ISO 7064 MOD 11-2")
    func checkCharacter() {
        #expect(ChineseIDNumber.checkCharacter(for: "11010819850122401") == "X")
        #expect(ChineseIDNumber.checkCharacter(for: "44030519880315201") == "3")
        // changing any single digit of a valid number makes it invalid
        let valid = Array("440305198803152013")
        for i in 0..<17 {
            var changed = valid
            let d = changed[i].wholeNumberValue!
            changed[i] = Character(String((d + 1) % 10))
            #expect(ChineseIDNumber.checkCharacter(for: String(changed[0..<17])) != valid[17], "digit \(i)")
        }
    }

    @Test("the number masks as first four and last four")
    func masking() throws {
        let id = try ChineseIDNumber("440305198803152013")
        #expect(id.masked == "4403**********2013")
        #expect("\(id)" == "4403**********2013")
    }
}

private func code(of raw: String) -> String? {
    do {
        _ = try ChineseIDNumber(raw)
        return nil
    } catch {
        return error.code
    }
}
