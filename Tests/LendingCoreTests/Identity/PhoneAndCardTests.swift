import LendingCore
import Testing

@Suite("Mobile numbers")
struct MobileNumberTests {
    @Test("sandbox phones and common ways of writing them are accepted")
    func accepted() throws {
        #expect(try MobileNumber("13800000001").value == "13800000001")
        #expect(try MobileNumber("+86 138 0000 0001").value == "13800000001")
        #expect(try MobileNumber("86-138-0000-0001").value == "13800000001")
        #expect(try MobileNumber("8613800000001").value == "13800000001")
        #expect(try MobileNumber("199 1234 5678").value == "19912345678")
        #expect(try MobileNumber("＋８６ １３８０００００００１").value == "13800000001")  // full-width input
    }

    @Test("wrong lengths, letters and prefixes are refused with the phone field named")
    func refused() {
        #expect(phoneCode("1380000000") == "phone_length")
        #expect(phoneCode("138000000012") == "phone_length")
        #expect(phoneCode("1380000000a") == "phone_format")
        #expect(phoneCode("12800000001") == "phone_prefix")
        #expect(phoneCode("23800000001") == "phone_prefix")
        #expect(phoneCode("") == "phone_required")
        do {
            _ = try MobileNumber("123")
        } catch {
            #expect(error.field == "phone")
        }
    }

    @Test("a phone masks as 138****0001")
    func masking() throws {
        #expect(try MobileNumber("13800000001").masked == "138****0001")
        #expect(PersonalDataMask.phone("13800000001") == "138****0001")
    }
}

@Suite("Bank card numbers (ISO/IEC 7812, Luhn)")
struct BankCardNumberTests {
    static let sandboxCards = [
        "6222020200110000102", "6217000000110000209", "6228480011000038", "6226090000110000508",
        "6225880000110000405",
    ]

    @Test("every sandbox card passes the Luhn check", arguments: sandboxCards)
    func sandboxCardsAreValid(raw: String) throws {
        #expect(try BankCardNumber(raw).value == raw)
    }

    @Test("the Luhn check accepts the textbook examples and refuses a changed digit")
    func luhn() {
        #expect(BankCardNumber.passesLuhn("4111111111111111"))
        #expect(BankCardNumber.passesLuhn("79927398713"))
        #expect(!BankCardNumber.passesLuhn("79927398710"))
        #expect(!BankCardNumber.passesLuhn("6222020200110000103"))
        // every single-digit change of a valid number is caught
        let valid = Array("6222020200110000102")
        for i in valid.indices {
            var changed = valid
            changed[i] = Character(String((changed[i].wholeNumberValue! + 3) % 10))
            #expect(!BankCardNumber.passesLuhn(String(changed)), "position \(i)")
        }
    }

    @Test("spaces are allowed; bin and last four are read off")
    func parts() throws {
        let card = try BankCardNumber("6222 0202 0011 0000 102")
        #expect(card.value == "6222020200110000102")
        #expect(card.bin == "622202")
        #expect(card.last4 == "0102")
    }

    @Test("wrong length, letters and a bad check digit are refused with the cardNumber field named")
    func refused() {
        #expect(cardCode("622202020011000") == "card_number_length")  // 15 digits
        #expect(cardCode("62220202001100001020") == "card_number_length")  // 20 digits
        #expect(cardCode("6222020200110000 10x") == "card_number_format")
        #expect(cardCode("6222020200110000103") == "card_number_check_digit")
        #expect(cardCode("") == "card_number_required")
        do {
            _ = try BankCardNumber("1")
        } catch {
            #expect(error.field == "cardNumber")
        }
    }

    @Test("a card masks as 6222 **** **** 0102")
    func masking() throws {
        #expect(try BankCardNumber("6222020200110000102").masked == "6222 **** **** 0102")
        #expect(try BankCardNumber("6228480011000038").masked == "6228 **** **** 0038")
        #expect(PersonalDataMask.card("6222 0202 0011 0000 102") == "6222 **** **** 0102")
    }
}

@Suite("Masking personal data")
struct PersonalDataMaskTests {
    @Test("names keep the first character, and the last from three characters on")
    func names() {
        #expect(PersonalDataMask.name("张伟") == "张*")
        #expect(PersonalDataMask.name("周建国") == "周*国")
        #expect(PersonalDataMask.name("张小三") == "张*三")
        #expect(PersonalDataMask.name("欧阳娜娜") == "欧**娜")
        #expect(PersonalDataMask.name("李") == "*")
        #expect(PersonalDataMask.name("") == "")
    }

    @Test("addresses keep the province and city only")
    func addresses() {
        #expect(PersonalDataMask.address("广东省深圳市南山区科苑路15号科兴科学园A栋1201") == "广东省深圳市****")
        #expect(PersonalDataMask.address("上海市浦东新区世纪大道100号8楼") == "上海市浦东新区****")
        #expect(PersonalDataMask.address("北京市海淀区中关村大街27号3单元502") == "北京市海淀区****")
        #expect(PersonalDataMask.address("新疆维吾尔自治区乌鲁木齐市天山区1号") == "新疆维吾尔自治区乌鲁木齐市****")
        #expect(PersonalDataMask.address("湖北省武汉市武昌区中南路99号") == "湖北省武汉市****")
        #expect(!PersonalDataMask.address("某地某路1号").contains("1号"))
    }

    @Test("raw strings mask like the types, and invalid ones still hide the middle")
    func rawStrings() {
        #expect(PersonalDataMask.idNumber("440305198803152013") == "4403**********2013")
        #expect(PersonalDataMask.idNumber("11010819850122401x") == "1101**********401X")
        #expect(PersonalDataMask.idNumber("440305198803152014") == "4403**********2014")
        #expect(PersonalDataMask.idNumber("12345") == "*****")
        #expect(PersonalDataMask.phone("1380000000") == "138***0000")
        #expect(PersonalDataMask.phone("138") == "***")
        #expect(PersonalDataMask.card("6222020200110000103") == "6222 **** **** 0103")
        #expect(PersonalDataMask.card("622202") == "******")
    }
}

private func phoneCode(_ raw: String) -> String? {
    do {
        _ = try MobileNumber(raw)
        return nil
    } catch {
        return error.code
    }
}

private func cardCode(_ raw: String) -> String? {
    do {
        _ = try BankCardNumber(raw)
        return nil
    } catch {
        return error.code
    }
}
