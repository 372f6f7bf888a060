import Foundation
import LendingCore
import Providers

// What each Leaf template of Resources/Views/journey receives. Values are display-ready strings:
// the templates only lay them out.

struct PhonePageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let codeSent: Bool
    let testPersons: [TestPerson]
    /// The two documents consented to separately, each linked to its full text.
    var terms: ConsentLink? = nil
    var privacy: ConsentLink? = nil

    struct ConsentLink: Encodable {
        let title: String
        let version: String
        let path: String

        init(_ document: ConsentDocument) {
            (title, version, path) = (document.title, document.version, document.path)
        }
    }

    struct TestPerson: Encodable {
        let key: String
        let name: String
        let phone: String
        let expectedEnd: String
    }
}

struct IDCardUploadPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let samples: [SampleCard]
    let hasReading: Bool

    struct SampleCard: Encodable {
        let key: String
        let name: String
        let front: String
    }
}

struct IDCardConfirmPageContext: Encodable {
    let page: PageChrome
    let form: FormState
}

struct FacePageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let attemptsLeft: Int
    let maxAttempts: Int
    let failedBefore: Bool
}

struct BankCardPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    /// "card" (enter the number) or "code" (enter the SMS code).
    let stage: String
    let cardMasked: String?
    let bank: String?
    let phoneMasked: String
    let testCards: [TestCard]

    struct TestCard: Encodable {
        let number: String
        let note: String
    }
}

struct AuthorizationPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let title: String
    let version: String
    let sha256: String
    let paragraphs: [Paragraph]
    let agreed: Bool
    let codeSent: Bool
    let phoneMasked: String

    struct Paragraph: Encodable {
        let text: String
        let heading: Bool
    }

    static func paragraphs(_ text: String) -> [Paragraph] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { line in
            let heading = ["一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "十、"].contains { line.hasPrefix($0) }
            return Paragraph(text: line, heading: heading)
        }
    }
}

struct AboutYouPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let employmentTypes: [Choice]
    let housingTypes: [Choice]
    let maritalStatuses: [Choice]
    let educationLevels: [Choice]
    let purposes: [Choice]
    let relationships: [Choice]
}

struct ResultPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    /// "pending" (not decided yet), "approved", "referred" or "declined".
    let outcome: String
    let creditLimit: String?
    let annualRate: String?
    let apr: String?
    let validUntil: String?
    let reasons: [String]
    let canRequestLoan: Bool
    /// For a referral: who will contact the applicant ("您的客户经理王磊（深圳分行）") and by when.
    var reviewContact: String? = nil
    var reviewDueBy: String? = nil
}

struct LoanPageContext: Encodable {
    let page: PageChrome
    let form: FormState
    let creditLimit: String
    let annualRate: String
    let apr: String
    let validUntil: String?
    let terms: [Choice]
    let methods: [MethodChoice]
    let purposes: [Choice]
    let quote: QuoteView?

    struct MethodChoice: Encodable {
        let value: String
        let label: String
        let hint: String
        let selected: Bool
    }
}

/// A repayment plan shown on the loan page.
struct QuoteView: Encodable {
    let amount: String
    let termMonths: Int
    let method: String
    let apr: String
    let firstPayment: String
    let lastPayment: String
    let paymentsVary: Bool
    let totalInterest: String
    let totalPayment: String
    let rows: [Row]

    struct Row: Encodable {
        let number: Int
        let dueDate: String
        let payment: String
        let principal: String
        let interest: String
        let remaining: String
    }

    init(_ schedule: RepaymentSchedule) {
        amount = PageFormat.yuan(schedule.terms.principal)
        termMonths = schedule.terms.termMonths
        method = PageFormat.methodTitle(schedule.terms.method)
        apr = Money.string(schedule.apr)
        let installments = schedule.installments
        firstPayment = PageFormat.yuan(installments.first?.payment ?? 0)
        lastPayment = PageFormat.yuan(installments.last?.payment ?? 0)
        paymentsVary = Set(installments.map(\.paymentFen)).count > 1
        totalInterest = PageFormat.yuan(schedule.totalInterest)
        totalPayment = PageFormat.yuan(schedule.totalPayment)
        rows = installments.map {
            Row(
                number: $0.number, dueDate: $0.dueDate.iso, payment: PageFormat.yuan($0.payment),
                principal: PageFormat.yuan($0.principal),
                interest: PageFormat.yuan($0.interest), remaining: PageFormat.yuan($0.remainingPrincipal))
        }
    }
}

struct DonePageContext: Encodable {
    let page: PageChrome
    let stateTitle: String
    let amount: String
    let termMonths: Int
    let method: String
    let purpose: String
    let firstPayment: String?
    let totalInterest: String?
    let apr: String?
    let bankCard: String?
    let bank: String?
    let requestedAt: String
}

struct StoppedPageContext: Encodable {
    let page: PageChrome
    let heading: String
    let message: String
    let detail: String?
    let retryAt: String?
    let canRestart: Bool
}

/// A consent document in full.
struct TermsPageContext: Encodable {
    let page: PageChrome
    let title: String
    let version: String
    let sha256: String
    let sections: [Line]

    struct Line: Encodable {
        let text: String
        let isHeading: Bool
    }
}
