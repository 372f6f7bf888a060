import Foundation
import LendingCore

/// The sandbox persons of domain.md ("Sandbox data", P01…P11) as data, with what each simulated service answers
/// for them. Any other valid ID number behaves like P01 with the name as given (`forIDNumber`).
public struct SandboxPersona: Sendable, Equatable {
    public let key: String
    public let name: String
    public let idNumber: ChineseIDNumber
    public let phone: MobileNumber
    /// The debit card of domain.md's table (nil where the table has —).
    public let debitCard: BankCardNumber?
    /// A debit card the sandbox UnionPay verifies for this person: the table's, or a made-up valid one
    /// (for P07, another card of his, since the table's card is refused).
    public let verifiableDebitCard: BankCardNumber
    /// Declared monthly income in yuan where domain.md gives one.
    public let declaredIncome: Decimal?
    /// What the sandbox does, from domain.md's table.
    public let behaviour: String
    /// The expected end of the journey, from domain.md's table.
    public let expectedEnd: String
    /// False for the P01-like stand-in returned for an ID number that is not in the table.
    public let isListed: Bool

    // What the simulated services answer.
    /// The name the citizen registry holds for this ID number; nil = the name as given (unlisted IDs).
    public let registryName: String?
    public let livenessPasses: Bool
    public let faceSimilarity: Decimal
    /// The carrier says this person's phone is registered to someone else.
    public let phoneRegisteredToSomeoneElse: Bool
    /// The bureau's report facts (reportId and date are filled in by the bureau).
    public let creditFacts: CreditReport

    /// Card 6225880000110000405 (BIN 622588) is a credit card: refused, debit cards only.
    public static let creditCard = sandboxCard("6225880000110000405")
    /// The card of P07 whose reserved phone is not his: refused with `reservedPhoneMismatch`.
    public static let reservedPhoneMismatchCard = sandboxCard("6226090000110000508")

    public static func forKey(_ key: String) -> SandboxPersona? {
        all.first { $0.key == key.uppercased() }
    }

    /// The listed person with this ID number, otherwise a stand-in that behaves like P01 with the name as given.
    public static func forIDNumber(_ idNumber: ChineseIDNumber) -> SandboxPersona {
        if let listed = all.first(where: { $0.idNumber == idNumber }) { return listed }
        let p01 = all[0]
        return SandboxPersona(
            key: p01.key, name: "", idNumber: idNumber, phone: p01.phone, debitCard: nil,
            verifiableDebitCard: p01.verifiableDebitCard, declaredIncome: nil,
            behaviour: "not in the table: behaves like P01 (every check passes, the name is taken as given)",
            expectedEnd: p01.expectedEnd, isListed: false, registryName: nil, livenessPasses: true,
            faceSimilarity: p01.faceSimilarity, phoneRegisteredToSomeoneElse: false, creditFacts: p01.creditFacts)
    }

    public static func forPhone(_ phone: MobileNumber) -> SandboxPersona? {
        all.first { $0.phone == phone }
    }

    /// A listed person's table data, looked up by ID number (nil when not listed).
    public static func listed(idNumber: ChineseIDNumber) -> SandboxPersona? {
        all.first { $0.idNumber == idNumber }
    }

    /// P01's report: 4 accounts all current, 1 inquiry in 3 months, card use 20%, 3,000/month existing repayments.
    public static let cleanCreditFacts = CreditReport(
        thinFile: false, accounts: 4, currentOverdueAmount: 0, overdueMonthsLast24: 0, inquiriesLast3Months: 1,
        cardUtilization: Decimal(string: "0.20")!, monthlyRepayments: 3000, reportId: "")

    public static let all: [SandboxPersona] = [
        make(
            "P01", "张伟", "440305198803152013", "13800000001", card: "6222020200110000102", income: 25000,
            behaviour: "every check passes; bureau: 4 accounts all current, 1 inquiry in 3 months, card use 20%, 3,000/month repayments",
            expectedEnd: "approved, high limit"),
        make(
            "P02", "王芳", "310115199207083020", "13800000002", card: "6217000000110000209", income: 8000,
            behaviour: "every check passes; bureau: no accounts, no history (thin file)",
            expectedEnd: "approved, small limit, or referred",
            credit: CreditReport(
                thinFile: true, accounts: 0, currentOverdueAmount: 0, overdueMonthsLast24: 0, inquiriesLast3Months: 0,
                cardUtilization: 0, monthlyRepayments: 0, reportId: "")),
        make(
            "P03", "李强", "11010819850122401X", "13800000003", card: "6228480011000038",
            behaviour: "citizen registry: the registry's name for this ID is 李刚, not 李强",
            expectedEnd: "stopped at identity", registryName: "李刚"),
        make(
            "P04", "刘敏", "420106199009015026", "13800000004", testCard: "6222020200110000409",
            behaviour: "liveness fails every time (photo replay)",
            expectedEnd: "stopped at face after 3 tries, retry locked 24 h", liveness: false, similarity: 0),
        make(
            "P05", "陈军", "510107197804166017", "13800000005", testCard: "6222020200110000508",
            behaviour: "liveness passes, face comparison score 0.42 (threshold 0.80)",
            expectedEnd: "stopped at face", similarity: Decimal(string: "0.42")!),
        make(
            "P06", "杨静", "330106199512307024", "13800000006", testCard: "6222020200110000607",
            behaviour: "carrier: this phone is registered to another person",
            expectedEnd: "stopped at bank card step", phoneElsewhere: true),
        make(
            "P07", "赵磊", "320102198305118018", "13800000007", card: "6226090000110000508",
            testCard: "6226090000110000607",
            behaviour: "UnionPay: the card's reserved phone is not 13800000007; any other valid debit card of his passes",
            expectedEnd: "card refused; any other valid debit card of his passes"),
        make(
            "P08", "黄丽", "440106200506209023", "13800000008", testCard: "6222020200110000805",
            behaviour: "checks pass; age 21", expectedEnd: "declined (age)"),
        make(
            "P09", "周建国", "370202197002281010", "13800000009", testCard: "6222020200110000904",
            behaviour: "checks pass; age 56", expectedEnd: "declined (age)"),
        make(
            "P10", "吴婷", "120101199603032029", "13800000010", testCard: "6222020200110001001",
            behaviour: "checks pass; bureau: 2,300 overdue now, 3 overdue months in the last 24",
            expectedEnd: "declined (delinquency)",
            credit: CreditReport(
                thinFile: false, accounts: 4, currentOverdueAmount: 2300, overdueMonthsLast24: 3,
                inquiriesLast3Months: 1, cardUtilization: Decimal(string: "0.20")!, monthlyRepayments: 3000,
                reportId: "")),
        make(
            "P11", "孙浩", "610113198909093016", "13800000011", testCard: "6222020200110001100", income: 12000,
            behaviour: "checks pass; bureau: 9 loan inquiries in 3 months, existing repayments 60% of declared income 12,000",
            expectedEnd: "referred to manual review",
            credit: CreditReport(
                thinFile: false, accounts: 4, currentOverdueAmount: 0, overdueMonthsLast24: 0, inquiriesLast3Months: 9,
                cardUtilization: Decimal(string: "0.20")!, monthlyRepayments: 7200, reportId: "")),
    ]

    private static func make(
        _ key: String, _ name: String, _ id: String, _ phone: String, card: String? = nil, testCard: String? = nil,
        income: Decimal? = nil, behaviour: String, expectedEnd: String, registryName: String? = nil,
        liveness: Bool = true, similarity: Decimal = Decimal(string: "0.96")!, phoneElsewhere: Bool = false,
        credit: CreditReport = cleanCreditFacts
    ) -> SandboxPersona {
        SandboxPersona(
            key: key, name: name, idNumber: try! ChineseIDNumber(id), phone: try! MobileNumber(phone),
            debitCard: card.map(sandboxCard), verifiableDebitCard: sandboxCard(testCard ?? card!),
            declaredIncome: income, behaviour: behaviour, expectedEnd: expectedEnd, isListed: true,
            registryName: registryName ?? name, livenessPasses: liveness, faceSimilarity: similarity,
            phoneRegisteredToSomeoneElse: phoneElsewhere, creditFacts: credit)
    }

    private static func sandboxCard(_ number: String) -> BankCardNumber { try! BankCardNumber(number) }
}
