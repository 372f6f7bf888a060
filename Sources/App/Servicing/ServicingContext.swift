import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// What every servicing service needs, passed in (no Request): pages, API controllers and commands build one.
struct ServicingContext: Sendable {
    let db: Database
    let services: YidaiServices
    let gateway: any PaymentGateway
    let logger: Logger

    var clock: AppClock { services.clock }
    var ledger: Ledger { Ledger(db: db, clock: clock) }
    var businessDates: BusinessDateStore { BusinessDateStore(db: db, clock: clock) }

    func on(_ tx: Database) -> ServicingContext { ServicingContext(db: tx, services: services, gateway: gateway, logger: logger) }
    func audit(_ tx: Database) -> AuditTrail { AuditTrail(db: tx, services: services) }

    var disbursement: DisbursementService { DisbursementService(context: self) }
    var repayments: RepaymentService { RepaymentService(context: self) }
    var endOfDay: EndOfDay { EndOfDay(context: self) }
    var loans: LoanQueries { LoanQueries(context: self) }

    /// The verified debit card of an application (disbursement and collection go to and from it only).
    func card(ofApplication id: UUID) async throws -> BankCardNumber {
        try await card(of: nil, id: id)
    }

    /// The card of `application` when the caller has read it already, else of the application `id` read now.
    func card(of application: LoanApplication?, id: UUID) async throws -> BankCardNumber {
        var found = application
        if found == nil { found = try await LoanApplication.load(id, on: db) }
        guard let application = found, let sealed = application.cardSealed else {
            throw APIError(.conflict, code: "card_missing", message: "The application has no verified debit card.", messageZh: "未找到已验证的银行卡。")
        }
        return try BankCardNumber(try await PersonVault(db: db, services: services).open(sealed))
    }

    /// The sandbox payments provider when outside services are simulated; otherwise none is configured yet.
    static func gateway(db: Database, services: YidaiServices) -> any PaymentGateway {
        services.providers.isSandbox ? SandboxPaymentGateway(db: db, clock: services.clock) : UnconfiguredPaymentGateway()
    }
}

/// Production has no payments provider until the bank's is connected: every instruction fails, nothing moves.
struct UnconfiguredPaymentGateway: PaymentGateway {
    var serviceName: String { "payments" }
    var isSandbox: Bool { false }
    func payout(to card: BankCardNumber, amountFen: Int64, idempotencyKey: String) async throws -> PaymentResult {
        throw ProviderError.unavailable
    }
    func collect(from card: BankCardNumber, amountFen: Int64, idempotencyKey: String, allowPartial: Bool) async throws -> PaymentResult {
        throw ProviderError.unavailable
    }
    func status(idempotencyKey: String) async throws -> PaymentResult? { throw ProviderError.unavailable }
    func statement() async throws -> [PaymentStatementLine] { throw ProviderError.unavailable }
}

extension Request {
    var servicing: ServicingContext {
        ServicingContext(db: db, services: yidai, gateway: ServicingContext.gateway(db: db, services: yidai), logger: logger)
    }
}

extension Application {
    var servicing: ServicingContext {
        ServicingContext(db: db, services: yidai, gateway: ServicingContext.gateway(db: db, services: yidai), logger: logger)
    }
}

/// A payment's answer as the API gives it: the same status and body every time the same key is asked.
struct PaymentAnswer: Sendable {
    let status: HTTPStatus
    let view: PaymentView

    static func status(for payment: Payment) -> HTTPStatus {
        switch payment.state {
        case .succeeded: .created
        case .failed: .paymentRequired
        case .pending: .accepted
        }
    }

    func response(for req: Request) async throws -> Response {
        try await view.encodeResponse(status: status, for: req)
    }
}

/// Runs a LendingCore call and turns its field error into the API's error (one place, untyped on purpose).
func withFieldErrors<T>(status: HTTPStatus, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as FieldError {
        throw APIError(error, status: status)
    }
}
