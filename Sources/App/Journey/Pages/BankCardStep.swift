import LendingCore
import Providers
import Vapor

/// Step 4 on the pages: the debit card, checked with the carrier and UnionPay, confirmed with an SMS code.
struct BankCardStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let step = routes.grouped(JourneyStepGuard(JourneyPaths.bankCard))
        step.get("bank-card", use: bankCardPage)
        step.post("bank-card", use: bankCardPost)
        step.post("bank-card", "confirm", use: bankCardConfirm)
    }

    struct BankCardForm: Content {
        var cardNumber: String?
        var action: String?
    }

    struct CodeForm: Content {
        var code: String?
    }

    func bankCardPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        return try await renderBankCard(req, s, form: FormState(), changing: req.query[String.self, at: "change"] == "1")
    }

    func bankCardPost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let body = try req.content.decode(BankCardForm.self)
        var typed = body.cardNumber ?? ""
        if body.action == "resend", let pending = s.application.pendingCardSealed {
            typed = try await s.journey.vault.open(pending)
        }
        var form = FormState(values: ["cardNumber": typed])
        do {
            _ = try await s.journey.submitBankCard(
                s.application, BankCardRequest(cardNumber: typed.filter { $0.isNumber }))
            return req.redirect(to: JourneyPaths.bankCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            if body.action == "resend" {
                form.record(error, fieldMap: [:], fallbackField: "code")
                return try await renderBankCard(req, s, form: form, changing: false, status: error.status)
            }
            form.record(error, fieldMap: FormState.same("cardNumber"), fallbackField: "cardNumber")
            return try await renderBankCard(req, s, form: form, changing: true, status: error.status)
        }
    }

    func bankCardConfirm(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let body = try req.content.decode(CodeForm.self)
        do {
            try await s.journey.confirmBankCard(
                s.application, CodeRequest(code: body.code?.trimmingCharacters(in: .whitespaces)))
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: ["code": "code", "cardNumber": "code"], fallbackField: "code")
            return try await renderBankCard(req, s, form: form, changing: false, status: error.status)
        }
    }

    func renderBankCard(
        _ req: Request, _ s: PageSession, form: FormState, changing: Bool, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let pending = try await s.journey.vault.openOptional(s.application.pendingCardSealed)
        let stage = pending != nil && !changing ? "code" : "card"
        var cards: [BankCardPageContext.TestCard] = []
        if s.view.sandbox, let identity = try? await s.journey.identity(of: s.application) {
            let persona = SandboxPersona.forIDNumber(identity.idNumber)
            if let listed = persona.debitCard, listed != persona.verifiableDebitCard {
                cards.append(.init(number: listed.value, note: "本人名下借记卡（预留手机号不一致，将被拒绝）"))
            }
            cards.append(.init(number: persona.verifiableDebitCard.value, note: "本人名下借记卡（可通过）"))
            cards.append(.init(number: SandboxPersona.creditCard.value, note: "信用卡（将被拒绝，仅支持借记卡）"))
        }
        let context = BankCardPageContext(
            page: s.chrome(req, .bankCard), form: form, stage: stage, cardMasked: pending.map(PersonalDataMask.card),
            bank: s.application.cardBank,
            phoneMasked: s.view.applicant.phone, testCards: cards)
        return try await req.renderPage("journey/bank-card", context, status: status)
    }
}
