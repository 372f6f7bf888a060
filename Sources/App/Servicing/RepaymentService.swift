import Crypto
import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// Repayments by the borrower (and the end-of-day auto-debit): record the intent under the loan's lock, ask the
/// payments provider with the payment's own idempotency key, then allocate and post under the lock again.
/// A payment stuck `pending` (crash, timeout) is finished by the next request with the same key, by the next payment
/// on the loan, by end of day or at start-up: the provider answers a repeated key with how it really ended.
struct RepaymentService {
    let context: ServicingContext
    var db: Database { context.db }

    enum RepaymentType: String, Sendable, CaseIterable {
        case due, amount, payoff, prepayment
    }

    /// A validated repayment request.
    struct Instruction: Sendable, Equatable {
        var type: RepaymentType
        var amountFen: Int64?
        var mode: PrepaymentOption?

        var fingerprint: String {
            [type.rawValue, amountFen.map { String($0) } ?? "-", mode?.rawValue ?? "-"].joined(separator: "|")
        }
    }

    static func instruction(_ body: RepaymentRequest) throws -> Instruction {
        guard let raw = body.type, !raw.isEmpty else { throw APIError.missing("type") }
        guard let type = RepaymentType(rawValue: raw) else {
            throw APIError.invalid("type", "type must be one of due, amount, payoff, prepayment.", zh: "还款类型不正确。")
        }
        var instruction = Instruction(type: type, amountFen: nil, mode: nil)
        switch type {
        case .due:
            break
        case .amount, .prepayment:
            instruction.amountFen = try amount(body.amount, required: true)
        case .payoff:
            instruction.amountFen = try amount(body.amount, required: false)
        }
        if type == .prepayment { instruction.mode = try mode(body.prepaymentMode) }
        return instruction
    }

    static func amount(_ raw: String?, required: Bool) throws -> Int64? {
        guard let raw, !raw.isEmpty else {
            if required { throw APIError.missing("amount") }
            return nil
        }
        guard let value = Money.parse(raw), let fen = Money.fen(exactly: value), fen > 0 else {
            throw APIError.invalid("amount", "amount must be a positive amount with at most 2 decimals, e.g. \"1200.50\".", zh: "金额须为正数，最多两位小数。")
        }
        return fen
    }

    static func mode(_ raw: String?) throws -> PrepaymentOption {
        guard let raw, !raw.isEmpty else { throw APIError.missing("prepaymentMode") }
        guard let mode = PrepaymentOption(rawValue: raw) else {
            throw APIError.invalid("prepaymentMode", "prepaymentMode must be shorten-term or lower-installment.", zh: "请选择缩短期限或减少月供。")
        }
        return mode
    }

    /// Idempotency keys: 1 to 100 visible ASCII characters, chosen by the client per payment.
    static func validKey(_ raw: String?) throws -> String {
        guard let key = raw?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
            throw APIError(.badRequest, code: "missing_idempotency_key", message: "The Idempotency-Key header is required on every payment request.",
                           messageZh: "缺少幂等键（Idempotency-Key）。", field: "Idempotency-Key")
        }
        guard key.count <= 100, key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
            throw APIError.invalid("Idempotency-Key", "Idempotency-Key must be 1 to 100 visible ASCII characters.", zh: "幂等键格式不正确。")
        }
        return key
    }

    // MARK: - Borrower repayments

    /// Pays on `loanID` (ownership checked by the caller). The same key with the same request answers the same.
    func repay(loanID: UUID, _ body: RepaymentRequest, idempotencyKey: String?) async throws -> PaymentAnswer {
        let clientKey = try Self.validKey(idempotencyKey)
        let instruction = try Self.instruction(body)
        let key = "repay:\(loanID.uuidString.lowercased()):\(clientKey)"
        if let existing = try await Payment.query(on: db).filter(\.$idempotencyKey == key).first() {
            return try await replay(existing, fingerprint: instruction.fingerprint)
        }
        try await resumePending(loanID: loanID, except: nil)
        let payment = try await intent(loanID: loanID, key: key, kind: "repayment", instruction: instruction, date: nil)
        guard payment.requestHash == instruction.fingerprint else {
            return try await replay(payment, fingerprint: instruction.fingerprint)
        }
        return try await resume(payment)
    }

    private func replay(_ payment: Payment, fingerprint: String) async throws -> PaymentAnswer {
        guard payment.requestHash == fingerprint else {
            throw APIError(.unprocessableEntity, code: "idempotency_key_reused", message: "This Idempotency-Key was used for a different payment request.",
                           messageZh: "该幂等键已用于另一笔还款请求。", field: "Idempotency-Key")
        }
        return try await resume(payment)
    }

    /// Records the payment (pending) with the amount fixed now, under the loan's lock.
    func intent(loanID: UUID, key: String, kind: String, instruction: Instruction, date fixedDate: CivilDate?) async throws -> Payment {
        let context = self.context
        return try await LoanBook.locked(loanID, on: db) { book in
            if let existing = try await Payment.query(on: book.tx).filter(\.$idempotencyKey == key).first() { return existing }
            let loan = book.loan
            guard try !loan.loanStatus.isClosed else {
                throw APIError(.conflict, code: "loan_closed", message: "This loan is \(loan.status); nothing is owed.", messageZh: "该贷款已结清。")
            }
            if try await Payment.query(on: book.tx).filter(\.$loanID == loanID).filter(\.$state == PaymentState.pending).count() > 0 {
                throw APIError(.conflict, code: "payment_in_progress", message: "Another payment on this loan is still being processed; try again shortly.",
                               messageZh: "该贷款有一笔还款正在处理中，请稍后再试。")
            }
            let date: CivilDate
            if let fixedDate { date = fixedDate } else { date = try await context.on(book.tx).businessDates.current() }
            let amountFen = try Self.amountToCollect(instruction, loan: loan, positions: try book.positions, on: date)
            let payment = Payment()
            payment.id = RandomID.uuid()
            payment.idempotencyKey = key
            payment.kind = kind
            payment.applicationID = loan.applicationID
            payment.loanID = loanID
            payment.repaymentType = instruction.type.rawValue
            payment.prepaymentMode = instruction.mode?.rawValue
            payment.requestedFen = amountFen
            payment.instructionFen = instruction.amountFen
            payment.state = .pending
            payment.businessDate = date.iso
            payment.requestHash = instruction.fingerprint
            payment.createdAt = context.clock.now()
            try await payment.create(on: book.tx)
            try await context.audit(book.tx).record(
                application: loan.applicationID, actor: kind == "autodebit" ? "system" : "applicant", action: "\(kind).requested",
                details: [
                    "loan": loanID.uuidString, "payment": payment.id!.uuidString, "type": instruction.type.rawValue,
                    "amount": Money.string(fen: amountFen), "businessDate": date.iso,
                ])
            return payment
        }
    }

    /// What the provider is asked to collect for `instruction` on `date`.
    static func amountToCollect(_ instruction: Instruction, loan: Loan, positions: [InstallmentPosition], on date: CivilDate) throws -> Int64 {
        let owed = positions.owedFen(on: date)
        switch instruction.type {
        case .due:
            guard owed > 0 else { throw nothingDue(positions, on: date) }
            return owed
        case .amount:
            guard owed > 0 else { throw nothingDue(positions, on: date) }
            guard let fen = instruction.amountFen, fen <= owed else {
                throw APIError.invalid("amount", "amount can be at most what is due now, \(Money.string(fen: owed)); to pay more use prepayment or payoff.",
                                       zh: "还款金额不能超过当前应还 \(Money.string(fen: owed)) 元；多还请选择提前还款或结清。")
            }
            return fen
        case .payoff:
            let payoff = try withFieldErrors(status: .conflict) {
                try ServicingQuotes.payoff(contract: loan.contractTerms, installments: positions, on: date)
            }
            if let confirmed = instruction.amountFen, confirmed != payoff.totalFen {
                throw APIError(.conflict, code: "quote_changed", message: "The payoff amount on \(date.iso) is \(Money.string(fen: payoff.totalFen)); get a new quote.",
                               messageZh: "今日结清金额为 \(Money.string(fen: payoff.totalFen)) 元，请重新获取报价。", field: "amount")
            }
            return payoff.totalFen
        case .prepayment:
            let quote = try prepaymentQuote(instruction, loan: loan, positions: positions, on: date)
            return quote.amountDueFen
        }
    }

    static func prepaymentQuote(_ instruction: Instruction, loan: Loan, positions: [InstallmentPosition], on date: CivilDate) throws -> PrepaymentQuote {
        do {
            return try ServicingQuotes.prepayment(
                principalFen: instruction.amountFen ?? 0, option: instruction.mode ?? .lowerInstallment, contract: loan.contractTerms,
                installments: positions, on: date)
        } catch let error as FieldError {
            throw APIError(error, status: error.field == "amount" ? .unprocessableEntity : .conflict)
        } catch {
            throw error
        }
    }

    static func nothingDue(_ positions: [InstallmentPosition], on date: CivilDate) -> APIError {
        let next = LoanPresenter.nextPayment(positions, on: date)
        let tail = next.map { " The next installment of \($0.amount) is due on \($0.dueDate); to pay early use prepayment or payoff." } ?? ""
        return APIError(.conflict, code: "nothing_due", message: "Nothing is due now." + tail, messageZh: "当前没有到期应还款项；如需提前还款请选择提前还款或结清。")
    }

    // MARK: - Finishing payments

    /// Finishes every pending payment of a loan (or of all loans when nil) by asking the provider again.
    func resumePending(loanID: UUID?, except: UUID?) async throws {
        var query = Payment.query(on: db).filter(\.$state == PaymentState.pending)
        if let loanID { query = query.filter(\.$loanID == loanID) }
        for payment in try await query.all() where payment.id != except {
            _ = try? await resume(payment)
        }
    }

    /// Asks the provider for a pending payment (same key: never paid twice) and records how it ended.
    func resume(_ payment: Payment) async throws -> PaymentAnswer {
        guard payment.state == PaymentState.pending else { return try Self.storedAnswer(payment) }
        if payment.kind == "disbursement" { return try await context.disbursement.resume(payment) }
        let result: PaymentResult
        do {
            // How the key ended is asked first; only a key the provider never saw is sent (again).
            if let known = try await context.gateway.status(idempotencyKey: payment.idempotencyKey), known.outcome != .timedOut {
                result = known
            } else {
                let card = try await context.card(ofApplication: payment.applicationID)
                result = try await context.gateway.collect(
                    from: card, amountFen: payment.requestedFen, idempotencyKey: payment.idempotencyKey,
                    allowPartial: payment.kind == "autodebit")
            }
        } catch let error as APIError {
            throw error
        } catch {
            context.logger.warning("Payments provider did not answer for payment \(payment.id?.uuidString ?? "-"): \(error)")
            result = PaymentResult(outcome: .timedOut, providerReference: nil, amountFen: 0)
        }
        return try await complete(payment, result)
    }

    func complete(_ payment: Payment, _ result: PaymentResult) async throws -> PaymentAnswer {
        guard let loanID = payment.loanID, let paymentID = payment.id else { throw APIError.notFound("payment") }
        if result.outcome == .timedOut {
            let view = try Self.view(payment, loan: nil, positions: nil, allocation: nil)
            return PaymentAnswer(status: .accepted, view: view)
        }
        let context = self.context
        let (answer, refundFen) = try await LoanBook.locked(loanID, on: db) { book -> (PaymentAnswer, Int64) in
            guard let current = try await Payment.find(paymentID, on: book.tx) else { throw APIError.notFound("payment") }
            guard current.state == PaymentState.pending else { return (try Self.storedAnswer(current), 0) }
            let ctx = context.on(book.tx)
            let actor = current.kind == "autodebit" ? "system" : "applicant"
            current.providerReference = result.providerReference
            current.completedAt = context.clock.now()
            if result.outcome == .failed || result.amountFen <= 0 {
                current.state = .failed
                current.failureCode = result.failureCode ?? "failed"
                current.movedFen = 0
                let view = try Self.view(current, loan: book.loan, positions: try book.positions, allocation: nil)
                current.responseJSON = try Self.encode(view)
                try await current.save(on: book.tx)
                try await ctx.audit(book.tx).record(application: current.applicationID, actor: actor, action: "\(current.kind).failed", details: [
                    "loan": loanID.uuidString, "payment": paymentID.uuidString, "amount": Money.string(fen: current.requestedFen),
                    "reason": current.failureCode ?? "-",
                ])
                return (PaymentAnswer(status: .paymentRequired, view: view), 0)
            }
            let applied = try await Self.apply(current, moved: result.amountFen, book: &book, context: ctx)
            current.state = .succeeded
            current.movedFen = result.amountFen
            let view = try Self.view(current, loan: book.loan, positions: try book.positions, allocation: applied.split)
            current.responseJSON = try Self.encode(view)
            try await current.save(on: book.tx)
            var details = [
                "loan": loanID.uuidString, "payment": paymentID.uuidString, "type": current.repaymentType ?? "-",
                "amount": Money.string(fen: result.amountFen), "penalty": applied.split.penalty, "interest": applied.split.interest,
                "principal": applied.split.principal, "reference": result.providerReference ?? "-", "status": book.loan.status,
            ]
            if applied.unallocatedFen > 0 { details["unallocated"] = Money.string(fen: applied.unallocatedFen) }
            try await ctx.audit(book.tx).record(application: current.applicationID, actor: actor, action: "\(current.kind).succeeded", details: details)
            return (PaymentAnswer(status: .created, view: view), applied.unallocatedFen)
        }
        if refundFen > 0 {
            // Only when the business date moved while the payment was in flight: the excess goes back to the card.
            context.logger.warning("Payment \(paymentID) collected \(Money.string(fen: refundFen)) more than owed; refunding.")
            let card = try await context.card(ofApplication: payment.applicationID)
            let refund = try await context.gateway.payout(to: card, amountFen: refundFen, idempotencyKey: "refund:\(paymentID)")
            try await context.audit(db).record(application: payment.applicationID, actor: "system", action: "repayment.refunded", details: [
                "loan": loanID.uuidString, "payment": paymentID.uuidString, "amount": Money.string(fen: refundFen),
                "outcome": refund.outcome.rawValue, "reference": refund.providerReference ?? "-",
            ])
        }
        return answer
    }

    struct Applied: Sendable {
        var split: MoneySplitView
        var unallocatedFen: Int64
    }

    /// Allocates collected money, re-plans after a prepayment or closes after a payoff, and posts the journal.
    static func apply(_ payment: Payment, moved: Int64, book: inout LoanBook, context: ServicingContext) async throws -> Applied {
        let loan = book.loan
        let loanID = try loan.requireID()
        let paymentID = try payment.requireID()
        let current = try await context.businessDates.current()
        let quotedDate = try StoredValues.date(payment.businessDate, "business date")
        let date = max(current, quotedDate)
        var positions = try book.positions
        var penalty: Int64 = 0
        var interest: Int64 = 0
        var principal: Int64 = 0
        var accrued: Int64 = 0
        var unallocated: Int64 = 0
        var handled = false
        let type = try payment.repayment ?? .due
        if date == quotedDate, type == .payoff || type == .prepayment {
            // The quote is valid for its business date: settle exactly what was quoted.
            let engineQuote: PrepaymentQuote?
            if type == .payoff {
                let payoff = try? ServicingQuotes.payoff(contract: loan.contractTerms, installments: positions, on: date)
                engineQuote = payoff?.totalFen == moved ? payoff?.engineQuote : nil
                if payoff?.totalFen == moved {
                    let owed = RepaymentAllocation.allocate(positions.owedFen(on: date), over: positions, on: date)
                    positions = owed.applied(to: positions, on: date)
                    (penalty, interest, principal) = (owed.penaltyFen, owed.interestFen, owed.principalFen)
                    handled = true
                }
            } else {
                let instruction = Instruction(
                    type: .prepayment, amountFen: payment.instructionFen, mode: try payment.prepayment)
                let quote = try? prepaymentQuote(instruction, loan: loan, positions: positions, on: date)
                engineQuote = quote?.amountDueFen == moved ? quote : nil
                handled = engineQuote != nil
            }
            if let quote = engineQuote {
                positions = ServicingQuotes.replanned(positions, by: quote)
                if quote.isPayoff {
                    // The payoff shows in the schedule as one last installment, paid on the day.
                    positions.append(InstallmentPosition(
                        number: quote.installmentsPaid + 1, dueDate: date, principalFen: quote.principalPrepaidFen, interestFen: quote.accruedInterestFen,
                        paidPrincipalFen: quote.principalPrepaidFen, paidInterestFen: quote.accruedInterestFen, interestRecognized: true,
                        status: .paid, paidOn: date))
                }
                accrued = quote.accruedInterestFen
                interest += accrued
                principal += quote.principalPrepaidFen
            }
        }
        if !handled {
            let allocation = RepaymentAllocation.allocate(moved, over: positions, on: date)
            positions = allocation.applied(to: positions, on: date)
            (penalty, interest, principal) = (allocation.penaltyFen, allocation.interestFen, allocation.principalFen)
            unallocated = allocation.unallocatedFen
        }
        let ledger = context.ledger
        try await ledger.post(PostingRules.prepaymentInterest(interestFen: accrued), reference: "accrued-interest:\(paymentID)", loanID: loanID,
                              businessDate: date, memo: "interest accrued to the early repayment date")
        try await ledger.post(PostingRules.collection(penaltyFen: penalty, interestFen: interest, principalFen: principal),
                              reference: "payment:\(paymentID)", loanID: loanID, businessDate: date, memo: "\(payment.kind) \(payment.repaymentType ?? "")")
        try await book.save(positions)
        if let old = try await book.updateStatus(on: date, services: context.services) {
            try await context.audit(book.tx).record(application: loan.applicationID, actor: "system", action: "loan.status_changed",
                                                    details: ["loan": loanID.uuidString, "from": old.rawValue, "to": loan.status, "businessDate": date.iso])
        }
        return Applied(split: MoneySplitView(penalty: Money.string(fen: penalty), interest: Money.string(fen: interest), principal: Money.string(fen: principal)),
                       unallocatedFen: unallocated)
    }

    // MARK: - Views

    static func view(
        _ payment: Payment, loan: Loan?, positions: [InstallmentPosition]?, allocation: MoneySplitView?
    ) throws -> PaymentView {
        let date = try StoredValues.date(payment.businessDate, "business date")
        return PaymentView(
            id: payment.id!, kind: payment.kind, loanId: payment.loanID, applicationId: payment.applicationID, type: payment.repaymentType,
            prepaymentMode: payment.prepaymentMode, state: payment.state, amount: Money.string(fen: payment.requestedFen),
            collected: payment.movedFen.map { Money.string(fen: $0) }, allocation: allocation, businessDate: payment.businessDate,
            providerReference: payment.providerReference, failureCode: payment.failureCode, loanStatus: loan?.status,
            outstandingPrincipal: positions.map { Money.string(fen: $0.outstandingPrincipalFen) },
            dueNow: positions.map { Money.string(fen: $0.owedFen(on: date)) })
    }

    static func encode(_ view: PaymentView) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(view), as: UTF8.self)
    }

    static func storedAnswer(_ payment: Payment) throws -> PaymentAnswer {
        if let json = payment.responseJSON, let view = try? JSONDecoder().decode(PaymentView.self, from: Data(json.utf8)) {
            return PaymentAnswer(status: PaymentAnswer.status(for: payment), view: view)
        }
        return PaymentAnswer(
            status: PaymentAnswer.status(for: payment), view: try view(payment, loan: nil, positions: nil, allocation: nil))
    }
}
