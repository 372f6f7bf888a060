import Foundation
import LendingCore
import Logging
import Providers
import Testing

/// Sandbox behaviour per shared/docs/domain.md, "Sandbox data" (P01…P11).
@Suite("Sandbox persons")
struct SandboxPersonaTests {
    @Test("the table has P01 to P11 with valid IDs, phones and cards")
    func table() {
        #expect(SandboxPersona.all.map(\.key) == (1...11).map { String(format: "P%02d", $0) })
        #expect(SandboxPersona.all.map(\.name) == ["张伟", "王芳", "李强", "刘敏", "陈军", "杨静", "赵磊", "黄丽", "周建国", "吴婷", "孙浩"])
        #expect(SandboxPersona.forKey("P03")?.idNumber.value == "11010819850122401X")
        #expect(SandboxPersona.forKey("p11")?.phone.value == "13800000011")
        #expect(SandboxPersona.forKey("P01")?.declaredIncome == 25000)
        #expect(SandboxPersona.forKey("P02")?.declaredIncome == 8000)
        #expect(SandboxPersona.forKey("P11")?.declaredIncome == 12000)
        #expect(SandboxPersona.forKey("P07")?.debitCard?.value == "6226090000110000508")
        #expect(SandboxPersona.forKey("P04")?.debitCard == nil)
        #expect(Set(SandboxPersona.all.map(\.verifiableDebitCard)).count == 11)
    }

    @Test("an ID number outside the table behaves like P01 with the name as given")
    func unknownBehavesLikeP01() throws {
        let other = SandboxPersona.forIDNumber(try ChineseIDNumber("110101199001011237"))
        #expect(!other.isListed)
        #expect(other.registryName == nil)
        #expect(other.creditFacts == SandboxPersona.cleanCreditFacts)
        #expect(SandboxPersona.forIDNumber(try ChineseIDNumber("440305198803152013")).key == "P01")
    }
}

@Suite("Sandbox ID card OCR")
struct SandboxOCRTests {
    @Test("every person has a front and a back test card, read back as the person's data", arguments: SandboxPersona.all.map(\.key))
    func readsEveryTestCard(key: String) async throws {
        let persona = try #require(SandboxPersona.forKey(key))
        let front = try #require(SandboxCards.image(person: key, side: .front))
        let back = try #require(SandboxCards.image(person: key, side: .back))
        #expect(front.starts(with: [0x89, 0x50, 0x4E, 0x47]))  // PNG
        #expect(front.count < 60_000 && back.count < 60_000)
        let reading = try await SandboxIDCardOCR().read(front: front, back: back)
        #expect(reading.name == persona.name)
        #expect(reading.idNumber == persona.idNumber.value)
        #expect(reading.sex == persona.idNumber.sex)
        #expect(reading.birthDate == persona.idNumber.birthDate)
        #expect(reading.ethnicity == "汉")
        #expect(!reading.address.isEmpty && !reading.issuingAuthority.isEmpty)
        #expect(reading.validUntil?.isValid(on: CivilDate(iso: "2026-11-26")!) == true)
    }

    @Test("test card images are identified by their exact bytes")
    func identify() throws {
        let back = try #require(SandboxCards.image(person: "P07", side: .back))
        #expect(SandboxCards.identify(back)?.person == "P07")
        #expect(SandboxCards.identify(back)?.side == .back)
        #expect(SandboxCards.identify(back + Data([0])) == nil)
    }

    @Test("a card's validity end is written as a date or 长期 in JSON")
    func validUntilJSON() throws {
        let data = try JSONEncoder().encode([IDCardValidUntil.longTerm, .date(CivilDate(iso: "2038-03-20")!)])
        #expect(String(decoding: data, as: UTF8.self) == #"["长期","2038-03-20"]"#)
        #expect(try JSONDecoder().decode([IDCardValidUntil].self, from: data) == [.longTerm, .date(CivilDate(iso: "2038-03-20")!)])
    }

    @Test("the card lists every sandbox person")
    func persons() {
        #expect(SandboxCards.persons == SandboxPersona.all.map(\.key))
    }

    @Test("P01's card reads Shenzhen Nanshan; P09's is valid long-term")
    func details() throws {
        let p01 = try #require(SandboxCards.reading(person: "P01"))
        #expect(p01.address.hasPrefix("广东省深圳市南山区"))
        #expect(p01.issuingAuthority == "深圳市公安局南山分局")
        #expect(p01.validUntil == .date(CivilDate(iso: "2038-03-20")!))
        #expect(SandboxCards.reading(person: "P09")?.validUntil == .longTerm)
    }

    @Test("any other image cannot be read: please retake")
    func otherImages() async throws {
        let front = try #require(SandboxCards.image(person: "P01", side: .front))
        let back = try #require(SandboxCards.image(person: "P01", side: .back))
        let ocr = SandboxIDCardOCR()
        var changed = front
        changed[changed.count - 1] ^= 0xFF
        let cases: [(Data, Data)] = [
            (Data("a photo".utf8), back),
            (changed, back),
            (back, front),  // sides swapped
            (front, try #require(SandboxCards.image(person: "P02", side: .back))),  // two different cards
            (Data(), Data()),
        ]
        for (f, b) in cases {
            await #expect(throws: ProviderError.unreadable) { try await ocr.read(front: f, back: b) }
        }
        #expect(ProviderError.unreadable.messageZh == "无法识别证件，请重新拍摄")
        #expect(ProviderError.unreadable.message == "Could not read the card, please retake the photos")
    }
}

@Suite("Sandbox identity checks")
struct SandboxIdentityTests {
    let registry = SandboxCitizenRegistry()
    let face = SandboxFaceVerification()
    let carrier = SandboxCarrierVerification()

    @Test("P03: the registry knows his ID number as 李刚, so 李强 does not match")
    func p03NameMismatch() async throws {
        let p03 = try #require(SandboxPersona.forKey("P03"))
        #expect(try await registry.verify(name: "李强", idNumber: p03.idNumber) == .nameMismatch)
        guard case .match = try await registry.verify(name: "李刚", idNumber: p03.idNumber) else {
            Issue.record("李刚 should match")
            return
        }
    }

    @Test("every other listed person matches under their own name only")
    func othersMatch() async throws {
        for p in SandboxPersona.all where p.key != "P03" {
            let result = try await registry.verify(name: p.name, idNumber: p.idNumber)
            #expect(result == .match(photoReference: "sandbox-registry-photo-\(p.key)"), "\(p.key)")
            #expect(try await registry.verify(name: "某某", idNumber: p.idNumber) == .nameMismatch, "\(p.key)")
        }
    }

    @Test("an unlisted ID number matches under any name, with a photo reference that hides the number")
    func unlistedMatches() async throws {
        let id = try ChineseIDNumber("110101199001011237")
        guard case .match(let ref) = try await registry.verify(name: "任意名", idNumber: id) else {
            Issue.record("should match")
            return
        }
        #expect(!ref.contains(id.value))
        #expect(ref.hasPrefix("sandbox-registry-photo-"))
    }

    @Test("P04's liveness fails every time; P05 scores 0.42 against 0.80; others pass")
    func faces() async throws {
        let simulated = FaceCapture(simulated: true)
        for p in SandboxPersona.all {
            let result = try await face.verify(idNumber: p.idNumber, registryPhotoReference: "ref", capture: simulated)
            #expect(result.threshold == Decimal(string: "0.80")!)
            switch p.key {
            case "P04":
                for _ in 1...4 {
                    let again = try await face.verify(
                        idNumber: p.idNumber, registryPhotoReference: "ref", capture: FaceCapture(image: Data([1, 2, 3])))
                    #expect(!again.livenessPassed && !again.passed)
                }
                #expect(!result.livenessPassed && !result.passed)
            case "P05":
                #expect(result.livenessPassed)
                #expect(result.similarity == Decimal(string: "0.42")!)
                #expect(!result.passed)
            default:
                #expect(result.passed, "\(p.key)")
                #expect(result.similarity >= result.threshold)
            }
        }
    }

    @Test("a face check without any capture is refused")
    func noCapture() async throws {
        let id = try ChineseIDNumber("440305198803152013")
        await #expect(throws: ProviderError.noFaceCaptured) {
            try await face.verify(idNumber: id, registryPhotoReference: "ref", capture: FaceCapture())
        }
    }

    @Test("P06's phone is registered to another person; everyone else's matches")
    func carrierCheck() async throws {
        for p in SandboxPersona.all {
            let result = try await carrier.verify(phone: p.phone, name: p.name, idNumber: p.idNumber)
            #expect(result == (p.key == "P06" ? .mismatch : .match), "\(p.key)")
        }
        let unlisted = try await carrier.verify(
            phone: try MobileNumber("13912345678"), name: "任意名", idNumber: try ChineseIDNumber("110101199001011237"))
        #expect(unlisted == .match)
    }
}

@Suite("Sandbox UnionPay card check")
struct SandboxUnionPayTests {
    let unionPay = SandboxUnionPayVerification()

    func verify(_ card: String, _ key: String) async throws -> CardVerificationResult {
        let p = try #require(SandboxPersona.forKey(key))
        return try await unionPay.verify(card: try BankCardNumber(card), name: p.name, idNumber: p.idNumber, phone: p.phone)
    }

    @Test("P07's card has another reserved phone; another valid debit card of his verifies")
    func p07() async throws {
        #expect(try await verify("6226090000110000508", "P07") == .reservedPhoneMismatch)
        #expect(try await verify("6226090000110000607", "P07") == .verified(bankName: "中国光大银行", cardType: .debit))
        #expect(try await verify("6222020200110000706", "P07") == .verified(bankName: "中国工商银行", cardType: .debit))
    }

    @Test("the credit card 6225880000110000405 is refused: debit cards only")
    func creditCard() async throws {
        #expect(try await verify("6225880000110000405", "P01") == .notDebitCard)
    }

    @Test("the table's cards verify with the bank named from the BIN")
    func tableCards() async throws {
        #expect(try await verify("6222020200110000102", "P01") == .verified(bankName: "中国工商银行", cardType: .debit))
        #expect(try await verify("6217000000110000209", "P02") == .verified(bankName: "中国建设银行", cardType: .debit))
        #expect(try await verify("6228480011000038", "P03") == .verified(bankName: "中国农业银行", cardType: .debit))
        #expect(try await verify("4111111111111111", "P01") == .verified(bankName: "测试银行", cardType: .debit))
    }

    @Test("every person's verifiable debit card verifies for them", arguments: SandboxPersona.all.map(\.key))
    func verifiableCards(key: String) async throws {
        let p = try #require(SandboxPersona.forKey(key))
        guard case .verified(_, .debit) = try await verify(p.verifiableDebitCard.value, key) else {
            Issue.record("\(key)'s card refused")
            return
        }
    }
}

@Suite("Sandbox credit bureau")
struct SandboxBureauTests {
    // 2026-11-26 20:00 UTC is already 27 November in China
    let bureau = SandboxCreditBureau(clock: { Date(timeIntervalSince1970: 1_795_723_200) })

    func report(_ key: String) async throws -> CreditReport {
        let p = try #require(SandboxPersona.forKey(key))
        return try await bureau.report(name: p.name, idNumber: p.idNumber, authorizationReference: "AUTH-\(key)")
    }

    @Test("P01: 4 accounts all current, 1 inquiry, 20% card use, 3,000 a month")
    func p01() async throws {
        let r = try await report("P01")
        #expect(!r.thinFile)
        #expect(r.accounts == 4)
        #expect(r.currentOverdueAmount == 0)
        #expect(r.overdueMonthsLast24 == 0)
        #expect(r.inquiriesLast3Months == 1)
        #expect(r.cardUtilization == Decimal(string: "0.20")!)
        #expect(r.monthlyRepayments == 3000)
        #expect(r.generatedOn == CivilDate(iso: "2026-11-27"))
        #expect(r.reportId.hasPrefix("SANDBOX-CR-"))
        #expect(try await report("P01").reportId == r.reportId)
    }

    @Test("P02 is a thin file")
    func p02() async throws {
        let r = try await report("P02")
        #expect(r.thinFile)
        #expect(r.accounts == 0)
        #expect(r.monthlyRepayments == 0)
    }

    @Test("P10 has 2,300 overdue now and 3 overdue months in the last 24")
    func p10() async throws {
        let r = try await report("P10")
        #expect(r.currentOverdueAmount == 2300)
        #expect(r.overdueMonthsLast24 == 3)
    }

    @Test("P11 has 9 inquiries and repayments of 60% of a 12,000 income")
    func p11() async throws {
        let r = try await report("P11")
        #expect(r.inquiriesLast3Months == 9)
        #expect(r.monthlyRepayments == 7200)
        #expect(r.monthlyRepayments / SandboxPersona.forKey("P11")!.declaredIncome! == Decimal(string: "0.6")!)
    }

    @Test("an unlisted ID number gets P01's clean report; no authorization, no report")
    func otherAndUnauthorized() async throws {
        let id = try ChineseIDNumber("110101199001011237")
        var r = try await bureau.report(name: "任意名", idNumber: id, authorizationReference: "A1")
        r.reportId = ""
        r.generatedOn = nil
        #expect(r == SandboxPersona.cleanCreditFacts)
        await #expect(throws: ProviderError.authorizationMissing) {
            try await bureau.report(name: "任意名", idNumber: id, authorizationReference: " ")
        }
    }
}

@Suite("Sandbox SMS gateway")
struct SandboxSMSTests {
    @Test("the outbox shows messages newest first, with the clock's time, filtered by phone")
    func outbox() async throws {
        let ticks = Ticks()
        let sms = SandboxSMSGateway(clock: { ticks.next() })
        let p1 = try MobileNumber("13800000001")
        let p2 = try MobileNumber("13800000002")
        try await sms.send(to: p1, text: "【易贷】验证码 123456，5分钟内有效")
        try await sms.send(to: p2, text: "【易贷】验证码 222222")
        try await sms.send(to: p1, text: "【易贷】验证码 654321，5分钟内有效")
        let all = await sms.outbox()
        #expect(all.map(\.text) == ["【易贷】验证码 654321，5分钟内有效", "【易贷】验证码 222222", "【易贷】验证码 123456，5分钟内有效"])
        #expect(all.first?.phone == "13800000001")
        #expect(all.first?.sentAt == Date(timeIntervalSince1970: 3))
        #expect(all.first?.maskedPhone == "138****0001")
        #expect(await sms.outbox(phone: p1).map(\.sentAt) == [Date(timeIntervalSince1970: 3), Date(timeIntervalSince1970: 1)])
        #expect(await sms.latestCode(to: p1) == "654321")
        #expect(await sms.latestCode(to: p2) == "222222")
        #expect(await sms.latestCode(to: try MobileNumber("13800000003")) == nil)
    }
}

@Suite("Sandbox labelling and logs")
struct SandboxLabellingTests {
    @Test("the sandbox provider set names six services as sandbox; its OCR is the real engine")
    func providerSet() {
        let set = ProviderSet.sandbox()
        #expect(set.sandboxServices == ["sms", "registry", "face", "carrier", "unionpay", "bureau", "miniprogram"])
        #expect(set.ocr is TesseractIDCardOCR && !set.ocr.isSandbox && set.ocr.serviceName == "ocr")
        #expect(String(describing: type(of: set.sms)).hasPrefix("Sandbox"))
        #expect(set.all.filter(\.isSandbox).allSatisfy { String(describing: type(of: $0)).hasPrefix("Sandbox") })
    }

    @Test("sandboxes log under yidai.sandbox.<service> by default")
    func labels() {
        #expect(SandboxCitizenRegistry().logger.label == "yidai.sandbox.registry")
        #expect(SandboxSMSGateway().logger.label == "yidai.sandbox.sms")
        #expect(SandboxIDCardOCR().logger.label == "yidai.sandbox.ocr")
        #expect(SandboxFaceVerification().logger.label == "yidai.sandbox.face")
        #expect(SandboxCarrierVerification().logger.label == "yidai.sandbox.carrier")
        #expect(SandboxUnionPayVerification().logger.label == "yidai.sandbox.unionpay")
        #expect(SandboxCreditBureau().logger.label == "yidai.sandbox.bureau")
    }

    @Test("sandbox log lines say [SANDBOX] and never contain a name, ID number, phone, card or OTP in clear")
    func logsAreMasked() async throws {
        let box = LogBox()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(box: box) }
        let p = try #require(SandboxPersona.forKey("P01"))
        let front = try #require(SandboxCards.image(person: "P01", side: .front))
        let back = try #require(SandboxCards.image(person: "P01", side: .back))
        _ = try await SandboxIDCardOCR(logger: logger).read(front: front, back: back)
        _ = try await SandboxCitizenRegistry(logger: logger).verify(name: p.name, idNumber: p.idNumber)
        _ = try await SandboxFaceVerification(logger: logger).verify(
            idNumber: p.idNumber, registryPhotoReference: "r", capture: FaceCapture(simulated: true))
        _ = try await SandboxCarrierVerification(logger: logger).verify(phone: p.phone, name: p.name, idNumber: p.idNumber)
        _ = try await SandboxUnionPayVerification(logger: logger).verify(
            card: p.debitCard!, name: p.name, idNumber: p.idNumber, phone: p.phone)
        _ = try await SandboxCreditBureau(logger: logger).report(name: p.name, idNumber: p.idNumber, authorizationReference: "A")
        try await SandboxSMSGateway(logger: logger).send(to: p.phone, text: "验证码 135790")
        let lines = box.lines
        #expect(lines.count == 7)
        for line in lines {
            #expect(line.hasPrefix("[SANDBOX] "))
            for secret in [p.name, p.idNumber.value, p.phone.value, p.debitCard!.value, "135790"] {
                #expect(!line.contains(secret), "\(line)")
            }
        }
        #expect(lines.joined().contains("4403**********2013"))
        #expect(lines.joined().contains("138****0001"))
        #expect(lines.joined().contains("6222 **** **** 0102"))
        #expect(lines.joined().contains("张*"))
    }
}

final class Ticks: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0.0

    func next() -> Date {
        lock.lock()
        defer { lock.unlock() }
        n += 1
        return Date(timeIntervalSince1970: n)
    }
}

final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func append(_ s: String) {
        lock.lock()
        stored.append(s)
        lock.unlock()
    }
}

struct CapturingLogHandler: LogHandler {
    let box: LogBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        box.append(event.message.description)
    }
}

@Suite("Simulated outages")
struct SandboxOutageTests {
    @Test("a sandbox built with a failure throws it from every call, for error-path tests")
    func failures() async throws {
        let p = try #require(SandboxPersona.forKey("P01"))
        let down = ProviderError.unavailable
        await #expect(throws: down) {
            try await SandboxCitizenRegistry(failure: down).verify(name: p.name, idNumber: p.idNumber)
        }
        await #expect(throws: ProviderError.timeout) {
            try await SandboxCreditBureau(failure: .timeout).report(name: p.name, idNumber: p.idNumber, authorizationReference: "A")
        }
        await #expect(throws: down) {
            try await SandboxUnionPayVerification(failure: down).verify(
                card: p.verifiableDebitCard, name: p.name, idNumber: p.idNumber, phone: p.phone)
        }
        await #expect(throws: down) {
            try await SandboxCarrierVerification(failure: down).verify(phone: p.phone, name: p.name, idNumber: p.idNumber)
        }
        await #expect(throws: down) {
            try await SandboxFaceVerification(failure: down).verify(
                idNumber: p.idNumber, registryPhotoReference: "r", capture: FaceCapture(simulated: true))
        }
        await #expect(throws: down) {
            try await SandboxIDCardOCR(failure: down).read(front: Data(), back: Data())
        }
        let sms = SandboxSMSGateway(failure: down)
        await #expect(throws: ProviderError.self) { try await sms.send(to: p.phone, text: "x") }
        #expect(await sms.outbox().isEmpty)
        #expect(ProviderError.unavailable.code == "service_unavailable")
    }
}
