import LendingCore
import Vapor

/// Sandbox control of the payments simulator (registered only when outside services are simulated):
/// `GET /sandbox/payments/accounts/{card}` and `PUT` with `{"balance": "100.00", "mode": "normal|fail|timeout"}`.
struct SandboxPaymentsController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let accounts = routes.grouped("sandbox", "payments", "accounts", ":card")
        accounts.get(use: show)
        accounts.put(use: update)
    }

    struct AccountBody: Content {
        var balance: String?
        var mode: String?
    }

    struct AccountView: Content {
        let card: String
        let balance: String
        let mode: String
        let sandbox = true
    }

    func gateway(_ req: Request) throws -> SandboxPaymentGateway {
        guard let gateway = req.servicing.gateway as? SandboxPaymentGateway else { throw APIError.notFound("page") }
        return gateway
    }

    static func card(_ req: Request) throws -> BankCardNumber {
        try withFieldErrors(status: .badRequest) { try BankCardNumber(req.parameters.get("card") ?? "") }
    }

    func show(_ req: Request) async throws -> AccountView {
        let account = try await gateway(req).account(card: try Self.card(req))
        return AccountView(card: account.cardMasked, balance: Money.string(fen: account.balanceFen), mode: account.mode)
    }

    func update(_ req: Request) async throws -> AccountView {
        let body = try req.content.decode(AccountBody.self)
        var balance: Int64?
        if let raw = body.balance {
            guard let value = Money.parse(raw), let fen = Money.fen(exactly: value), fen >= 0 else {
                throw APIError.invalid("balance", "balance must be an amount ≥ 0 with at most 2 decimals.", zh: "余额格式不正确。")
            }
            balance = fen
        }
        var mode: SandboxPaymentGateway.Mode?
        if let raw = body.mode {
            guard let parsed = SandboxPaymentGateway.Mode(rawValue: raw) else {
                throw APIError.invalid("mode", "mode must be normal, fail or timeout.", zh: "模式须为 normal、fail 或 timeout。")
            }
            mode = parsed
        }
        let account = try await gateway(req).configure(card: try Self.card(req), balanceFen: balance, mode: mode)
        return AccountView(card: account.cardMasked, balance: Money.string(fen: account.balanceFen), mode: account.mode)
    }
}
