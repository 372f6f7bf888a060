import Foundation
import LendingCore
import Logging

/// 银联鉴权 (四要素): do name, ID number, card and the card's reserved phone belong together? Debit cards only.
public protocol UnionPayVerification: OutsideService {
    func verify(card: BankCardNumber, name: String, idNumber: ChineseIDNumber, phone: MobileNumber)
        async throws(ProviderError) -> CardVerificationResult
}

public enum BankCardType: String, Sendable, Codable, Equatable {
    case debit, credit
}

public enum CardVerificationResult: Sendable, Equatable {
    case verified(bankName: String, cardType: BankCardType)
    /// The phone the bank holds for this card is not the applicant's.
    case reservedPhoneMismatch
    /// A credit card: disbursement needs a debit card.
    case notDebitCard
    /// Name, ID number and card do not belong together.
    case mismatch
}

/// Card 6226090000110000508 (P07) has another reserved phone; BIN 622588 is a credit card; every other valid
/// card number verifies as a debit card of a bank named from its BIN.
public struct SandboxUnionPayVerification: UnionPayVerification {
    public let serviceName = "unionpay"
    public let isSandbox = true
    /// Label `yidai.sandbox.unionpay` unless another logger is given (tests capture it).
    public let logger: Logger
    private let failure: ProviderError?

    /// `failure`, when given, is thrown by every call: a simulated outage for error-path tests.
    public init(logger: Logger? = nil, failure: ProviderError? = nil) {
        self.failure = failure
        self.logger = logger ?? Logger(label: "yidai.sandbox.unionpay")
    }

    public func verify(card: BankCardNumber, name: String, idNumber: ChineseIDNumber, phone: MobileNumber)
        async throws(ProviderError) -> CardVerificationResult
    {
        if let failure {
            logger.sandboxInfo("simulated failure: \(failure.code)")
            throw failure
        }
        let result: CardVerificationResult
        if Self.creditBINs.contains(card.bin) {
            result = .notDebitCard
        } else if card == SandboxPersona.reservedPhoneMismatchCard {
            result = .reservedPhoneMismatch
        } else {
            result = .verified(bankName: Self.bankName(bin: card.bin), cardType: .debit)
        }
        logger.sandboxInfo(
            "UnionPay check \(card.masked) / \(PersonalDataMask.name(name)) / \(idNumber.masked) / \(phone.masked): \(result)")
        return result
    }

    static let creditBINs: Set<String> = ["622588"]

    /// Issuer names for the BINs the sandbox data uses; "测试银行" for any other.
    public static func bankName(bin: String) -> String {
        switch bin {
        case "622202", "621226", "622208": "中国工商银行"
        case "621700", "622700": "中国建设银行"
        case "622848", "622845": "中国农业银行"
        case "622609", "622660": "中国光大银行"
        case "621661", "621663": "中国银行"
        case "622262", "622260": "交通银行"
        case "622588", "621483": "招商银行"
        default: "测试银行"
        }
    }
}
