import LendingCore
import Vapor

/// Step 7 on the pages: the automatic decision (limit, rate, APR or the reasons), then the loan request with its live
/// repayment plan. The loan page belongs to an approved application's result.
struct DecisionStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let result = routes.grouped(JourneyStepGuard(JourneyPaths.result))
        result.get("result", use: resultPage)
        result.post("result", use: resultPost)
        let loan = routes.grouped(JourneyStepGuard(JourneyPaths.loan))
        loan.get("loan", use: loanPage)
        loan.post("loan", use: loanPost)
    }

    func resultPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        return try await renderResult(req, s, form: FormState())
    }

    func resultPost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        guard try s.application.applicationState == .infoCompleted else {
            return req.redirect(to: JourneyPaths.result, redirectType: .normal)
        }
        do {
            try await s.journey.decide(s.application)
            return req.redirect(to: JourneyPaths.result, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: [:])
            return try await renderResult(req, s, form: form, status: error.status)
        }
    }

    func renderResult(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let state = try s.application.applicationState
        let outcome: String =
            switch state {
            case .approved: "approved"
            case .referred: "referred"
            case .declined: "declined"
            default: "pending"
            }
        let decision = s.view.decision
        var reasons = decision?.reasons.map(\.message).filter { !$0.isEmpty } ?? []
        if outcome == "declined" && reasons.isEmpty { reasons = ["您的申请暂不符合我行的审批条件。"] }
        let contact =
            outcome == "referred"
            ? try await ReviewContact.find(for: s.application, on: s.journey.db, now: s.journey.now) : nil
        let title: String =
            switch outcome {
            case "approved": "审批通过"
            case "referred": "人工审核中"
            case "declined": "审批结果"
            default: "核额中"
            }
        let context = ResultPageContext(
            page: s.chrome(req, .decision, title: title), form: form, outcome: outcome,
            creditLimit: decision?.creditLimit.map(PageFormat.wholeYuan),
            annualRate: decision.map { PageFormat.percent($0.annualRate) },
            apr: decision.map { PageFormat.percent($0.apr) }, validUntil: decision?.validUntil.map(PageFormat.date),
            reasons: reasons,
            canRequestLoan: outcome == "approved",
            reviewContact: contact?.who, reviewDueBy: contact.map { PageFormat.time($0.dueBy) })
        return try await req.renderPage("journey/result", context, status: status)
    }

    struct LoanForm: Content {
        var amount: String?
        var termMonths: String?
        var method: String?
        var purpose: String?
        var action: String?
    }

    static let loanFields: [String: String] = [
        "amount": "amount", "termMonths": "termMonths", "method": "method", "purpose": "purpose",
    ]

    func loanPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let limit = Money.parse(s.application.creditLimit ?? "") ?? 0
        let purpose = (try? await s.journey.aboutYou(s.application))?.loanPurpose ?? LoanOfferRules.purposes[0].code
        let values = [
            "amount": Money.string(limit).replacingOccurrences(of: ".00", with: ""), "termMonths": "12",
            "method": RepaymentMethod.equalInstallment.rawValue, "purpose": purpose,
        ]
        return try await renderLoan(req, s, form: FormState(values: values), quote: try? await quote(values, s))
    }

    func loanPost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let b = try req.content.decode(LoanForm.self)
        let amount = (b.amount ?? "").filter { $0 != "," && !$0.isWhitespace }
        var form = FormState(values: [
            "amount": b.amount ?? "", "termMonths": b.termMonths ?? "", "method": b.method ?? "",
            "purpose": b.purpose ?? "",
        ])
        var clean = form.values
        clean["amount"] = amount
        if b.action == "submit" {
            do {
                _ = try await s.journey.requestLoan(
                    s.application,
                    LoanRequestInput(
                        amount: amount, termMonths: b.termMonths.flatMap { Int($0) }.map(WholeNumber.init), method: b.method,
                        purpose: b.purpose))
                return req.redirect(to: JourneyPaths.done, redirectType: .normal)
            } catch let error as APIError {
                if let redirect = try s.redirect(after: error, req) { return redirect }
                form.record(error, fieldMap: Self.loanFields)
                return try await renderLoan(req, s, form: form, quote: try? await quote(clean, s), status: error.status)
            }
        }
        do {
            let quote = try await quote(clean, s)
            return try await renderLoan(req, s, form: form, quote: quote)
        } catch let error as APIError {
            form.record(error, fieldMap: Self.loanFields)
            return try await renderLoan(req, s, form: form, quote: nil, status: error.status)
        }
    }

    /// The repayment plan for what the person chose: the journey's own quote (limit, rate, business date).
    func quote(_ values: [String: String], _ s: PageSession) async throws -> QuoteView {
        let (_, schedule) = try await s.journey.quote(
            s.application, amount: values["amount"], termMonths: values["termMonths"].flatMap { Int($0) },
            method: values["method"], purpose: values["purpose"])
        return QuoteView(schedule)
    }

    func renderLoan(
        _ req: Request, _ s: PageSession, form: FormState, quote: QuoteView?, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let v = form.values
        let methods = RepaymentMethod.allCases.map {
            LoanPageContext.MethodChoice(
                value: $0.rawValue, label: PageFormat.methodTitle($0), hint: PageFormat.methodHint($0),
                selected: v["method"] == $0.rawValue)
        }
        let context = LoanPageContext(
            page: s.chrome(req, .loanRequest, script: "/js/loan.js"), form: form,
            creditLimit: PageFormat.wholeYuan(s.application.creditLimit ?? "0"),
            annualRate: PageFormat.percent(s.application.annualRate), apr: PageFormat.percent(s.application.apr),
            validUntil: s.application.limitExpiresAt.map(PageFormat.date),
            terms: LoanOfferRules.termChoices.map {
                Choice(value: String($0), label: "\($0)个月", selected: v["termMonths"] == String($0))
            },
            methods: methods,
            purposes: Choice.list(LoanOfferRules.purposes.map { ($0.code, $0.titleZh) }, selected: v["purpose"]),
            quote: quote)
        return try await req.renderPage("journey/loan", context, status: status)
    }
}
