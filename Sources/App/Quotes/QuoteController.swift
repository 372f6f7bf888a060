import LendingCore
import Vapor

/// `POST /api/v1/loan-quotes`: the repayment schedule, totals and APR for any loan terms.
struct QuoteController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.post("loan-quotes", use: quote)
    }

    func quote(_ req: Request) async throws -> QuoteResponse {
        let body = try req.jsonBody(QuoteRequest.self)
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
    var termMonths: WholeNumber?
    var method: String?
    var startDate: String?
    var installmentRounding: DecimalText?
    var upfrontFee: DecimalText?

    func terms(today: CivilDate) throws -> LoanTerms {
        guard let principal else { throw APIError.missing("principal") }
        guard let annualRate else { throw APIError.missing("annualRate") }
        guard let termMonths = try termMonths?.value(field: "termMonths") else { throw APIError.missing("termMonths") }
        guard let method else { throw APIError.missing("method") }
        do {
            return try LoanTerms(
                principalText: principal.text.trimmingCharacters(in: .whitespaces), annualRateText: annualRate.text.trimmingCharacters(in: .whitespaces),
                termMonths: termMonths, methodText: method, startDateText: startDate, businessDate: today,
                installmentRoundingText: installmentRounding?.text, upfrontFeeText: upfrontFee?.text)
        } catch {
            throw APIError(error)
        }
    }
}

/// The quote as the API answers it: the engine's document (rows, totals, APR) plus the terms it was computed for.
struct QuoteResponse: Content {
    let principal: String
    let annualRate: String
    let termMonths: Int
    let method: String
    let startDate: String
    let upfrontFee: String
    let installments: [LoanQuoteDocument.Installment]
    let totalInterest: String
    let totalPayment: String
    let apr: String

    init(_ schedule: RepaymentSchedule) {
        let t = schedule.terms
        let document = LoanQuoteDocument(schedule)
        principal = Money.string(t.principal)
        annualRate = "\(t.annualRatePercent)"
        termMonths = t.termMonths
        method = t.method.rawValue
        startDate = t.startDate.iso
        upfrontFee = Money.string(t.upfrontFee)
        installments = document.installments
        totalInterest = document.totalInterest
        totalPayment = document.totalPayment
        apr = document.apr
    }
}
