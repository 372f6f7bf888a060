import LendingCore
import Vapor

/// `POST /api/v1/loan-quotes`: the repayment schedule, totals and APR for any loan terms.
struct QuoteController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.post("loan-quotes", use: quote)
    }

    func quote(_ req: Request) async throws -> QuoteResponse {
        guard req.body.data != nil || req.body.string != nil else {
            throw APIError(.badRequest, code: "missing_body", message: "Send the loan terms as a JSON body.", messageZh: "请提供借款条件。")
        }
        let body = try req.content.decode(QuoteRequest.self)
        let terms = try body.terms(today: BusinessCalendar.civilDate(req.yidai.clock.now()))
        do {
            return QuoteResponse(try LoanCalculator.schedule(for: terms))
        } catch {
            throw APIError(error)
        }
    }
}

/// A decimal given as a JSON string ("1000.50") or, leniently, a JSON number.
struct DecimalText: Codable, Sendable {
    let text: String

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let number = try? container.decode(Decimal.self) {
            text = "\(number)"
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a decimal string"))
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

struct QuoteRequest: Content {
    var principal: DecimalText?
    var annualRate: DecimalText?
    var termMonths: Int?
    var method: String?
    var startDate: String?
    var installmentRounding: DecimalText?
    var upfrontFee: DecimalText?

    func terms(today: CivilDate) throws -> LoanTerms {
        func decimal(_ value: DecimalText?, _ field: String, default fallback: Decimal? = nil) throws -> Decimal {
            guard let value else {
                if let fallback { return fallback }
                throw APIError.missing(field)
            }
            guard let number = Money.parse(value.text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid(field, "\(field) must be a decimal string such as \"1000.00\" (got \"\(value.text.prefix(40))\").", zh: "请输入正确的数字。")
            }
            return number
        }
        let principal = try decimal(principal, "principal")
        let rate = try decimal(annualRate, "annualRate")
        guard let termMonths else { throw APIError.missing("termMonths") }
        guard let rawMethod = method else { throw APIError.missing("method") }
        guard let method = RepaymentMethod(rawValue: rawMethod) else {
            throw APIError.invalid("method", "method must be one of equal-installment, equal-principal, interest-first.", zh: "还款方式不正确。")
        }
        var start = today
        if let raw = startDate {
            guard let date = CivilDate(iso: raw) else {
                throw APIError.invalid("startDate", "startDate must be a date YYYY-MM-DD.", zh: "日期格式应为YYYY-MM-DD。")
            }
            start = date
        }
        let terms = LoanTerms(
            principal: principal, annualRatePercent: rate, termMonths: termMonths, method: method, startDate: start,
            installmentRounding: try decimal(installmentRounding, "installmentRounding", default: Decimal(string: "0.01")!),
            upfrontFee: try decimal(upfrontFee, "upfrontFee", default: 0))
        do { try terms.validate() } catch { throw APIError(error) }
        return terms
    }
}

struct QuoteResponse: Content {
    struct Row: Content {
        let number: Int
        let dueDate: String
        let principal: String
        let interest: String
        let payment: String
        let remainingPrincipal: String
    }

    let principal: String
    let annualRate: String
    let termMonths: Int
    let method: String
    let startDate: String
    let upfrontFee: String
    let installments: [Row]
    let totalInterest: String
    let totalPayment: String
    let apr: String

    init(_ schedule: RepaymentSchedule) {
        let t = schedule.terms
        principal = Money.string(t.principal)
        annualRate = "\(t.annualRatePercent)"
        termMonths = t.termMonths
        method = t.method.rawValue
        startDate = t.startDate.iso
        upfrontFee = Money.string(t.upfrontFee)
        installments = schedule.installments.map {
            Row(number: $0.number, dueDate: $0.dueDate.iso, principal: Money.string($0.principal), interest: Money.string($0.interest),
                payment: Money.string($0.payment), remainingPrincipal: Money.string($0.remainingPrincipal))
        }
        totalInterest = Money.string(schedule.totalInterest)
        totalPayment = Money.string(schedule.totalPayment)
        apr = Money.string(schedule.apr)
    }
}
