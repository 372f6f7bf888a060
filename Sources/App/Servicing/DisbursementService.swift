import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// 放款: pays the signed loan to the verified debit card exactly once, then opens the loan.
///
/// 1. The intent is recorded first: a `Payment` with the idempotency key `disburse:<application id>:<attempt>`
///    (unique), so a crash after this point leaves a pending payment that names the exact instruction.
/// 2. The provider is asked with that key; asking again (retry, restart) never pays twice.
/// 3. On success, one transaction creates the loan with its schedule fixed from the business date, posts the
///    journal (loans receivable / settlement), moves the application contract_signed → disbursed and audits it.
///    A refused payout leaves the application signed; the next request tries again under attempt + 1.
struct DisbursementService {
    let context: ServicingContext
    var db: Database { context.db }

    struct Outcome: Sendable {
        let status: HTTPStatus
        let loan: Loan?
        let payment: Payment
    }

    /// Disburses `applicationID` (ownership checked by the caller); idempotent.
    func disburse(applicationID: UUID) async throws -> Outcome {
        guard let application = try await LoanApplication.find(applicationID, on: db) else { throw APIError.notFound("application") }
        if let loan = try await Loan.query(on: db).filter(\.$applicationID == applicationID).first() {
            let payment = try await Payment.find(loan.disbursementPaymentID, on: db)!
            return Outcome(status: .ok, loan: loan, payment: payment)
        }
        let attempts = try await Payment.query(on: db).filter(\.$applicationID == applicationID).filter(\.$kind == "disbursement")
            .sort(\.$createdAt, .descending).all()
        if let pending = attempts.first(where: { $0.state == PaymentState.pending }) {
            return try await finish(pending)
        }
        guard application.state == ApplicationState.contractSigned.rawValue else {
            throw APIError(.conflict, code: "not_ready_for_disbursement",
                           message: "Only a signed contract can be disbursed; this application is \(application.state).",
                           messageZh: "合同签署后才能放款。")
        }
        guard let amount = application.loanAmount.flatMap(Money.parse).flatMap(Money.fen(exactly:)), amount > 0 else {
            throw APIError(.conflict, code: "not_ready_for_disbursement", message: "The application has no loan amount.", messageZh: "申请缺少借款金额。")
        }
        let payment = Payment()
        payment.id = UUID()
        payment.idempotencyKey = "disburse:\(applicationID.uuidString.lowercased()):\(attempts.count + 1)"
        payment.kind = "disbursement"
        payment.applicationID = applicationID
        payment.requestedFen = amount
        payment.state = PaymentState.pending
        payment.businessDate = try await context.businessDates.current().iso
        payment.createdAt = context.clock.now()
        do {
            try await payment.create(on: db)
        } catch {
            // A concurrent request recorded the same attempt: finish that one.
            guard let existing = try await Payment.query(on: db).filter(\.$idempotencyKey == payment.idempotencyKey).first() else { throw error }
            return try await finish(existing)
        }
        return try await finish(payment)
    }

    func resume(_ payment: Payment) async throws -> PaymentAnswer {
        let outcome = try await finish(payment)
        return PaymentAnswer(status: PaymentAnswer.status(for: outcome.payment), view: RepaymentService.view(outcome.payment, loan: outcome.loan, positions: nil, allocation: nil))
    }

    private func finish(_ payment: Payment) async throws -> Outcome {
        guard payment.state == PaymentState.pending else {
            let loan = try await Loan.query(on: db).filter(\.$applicationID == payment.applicationID).first()
            return Outcome(status: loan == nil ? .badGateway : .ok, loan: loan, payment: payment)
        }
        let result: PaymentResult
        do {
            let card = try await context.card(ofApplication: payment.applicationID)
            result = try await context.gateway.payout(to: card, amountFen: payment.requestedFen, idempotencyKey: payment.idempotencyKey)
        } catch let error as APIError {
            throw error
        } catch {
            context.logger.warning("Payments provider did not answer the disbursement \(payment.idempotencyKey): \(error)")
            result = PaymentResult(outcome: .timedOut, providerReference: nil, amountFen: 0)
        }
        switch result.outcome {
        case .timedOut:
            return Outcome(status: .accepted, loan: nil, payment: payment)
        case .failed:
            try await db.transaction { tx in
                guard let current = try await Payment.find(payment.id, on: tx), current.state == PaymentState.pending else { return }
                current.state = PaymentState.failed
                current.failureCode = result.failureCode ?? "failed"
                current.providerReference = result.providerReference
                current.completedAt = context.clock.now()
                try await current.save(on: tx)
                try await context.audit(tx).record(application: current.applicationID, actor: "system", action: "disbursement.failed", details: [
                    "payment": current.id!.uuidString, "amount": Money.string(fen: current.requestedFen), "reason": current.failureCode ?? "-",
                ])
            }
            guard let current = try await Payment.find(payment.id, on: db) else { throw APIError.notFound("payment") }
            let loan = try await Loan.query(on: db).filter(\.$applicationID == payment.applicationID).first()
            return Outcome(status: loan == nil ? .badGateway : .ok, loan: loan, payment: current)
        case .succeeded:
            try await openLoan(payment, result: result)
            guard let current = try await Payment.find(payment.id, on: db) else { throw APIError.notFound("payment") }
            let loan = try await Loan.query(on: db).filter(\.$applicationID == payment.applicationID).first()
            return Outcome(status: .created, loan: loan, payment: current)
        }
    }

    /// The money left: the loan starts today (business date) with its schedule, ledger entry and audit entry.
    private func openLoan(_ payment: Payment, result: PaymentResult) async throws {
        let context = self.context
        var attempt = 0
        while true {
            do {
                try await db.transaction { tx in
                    guard let current = try await Payment.find(payment.id, on: tx), current.state == PaymentState.pending else { return }
                    guard let application = try await LoanApplication.find(current.applicationID, on: tx) else { throw APIError.notFound("application") }
                    let ctx = context.on(tx)
                    let date = try await ctx.businessDates.current()
                    let terms = LoanTerms(
                        principal: Money.decimal(fen: current.requestedFen), annualRatePercent: Money.parse(application.annualRate ?? "") ?? 0,
                        termMonths: application.loanTermMonths ?? 0,
                        method: RepaymentMethod(rawValue: application.loanMethod ?? "") ?? .equalInstallment, startDate: date)
                    let schedule = try withFieldErrors(status: .conflict) { try LoanCalculator.schedule(for: terms) }
                    let from = ApplicationState(rawValue: application.state) ?? .cancelled
                    do { try ApplicationStateMachine.transition(from: from, to: .disbursed) } catch {
                        throw APIError(.conflict, code: "not_ready_for_disbursement", message: "An application in state \(from.rawValue) cannot be disbursed.",
                                       messageZh: "当前状态无法放款。")
                    }
                    let loan = Loan()
                    loan.id = UUID()
                    loan.applicationID = application.id!
                    loan.phoneIndex = application.phoneIndex
                    loan.principalFen = current.requestedFen
                    loan.annualRate = Money.string(terms.annualRatePercent)
                    loan.termMonths = terms.termMonths
                    loan.method = terms.method.rawValue
                    loan.startDate = date.iso
                    loan.status = LoanStatus.active.rawValue
                    loan.version = 0
                    loan.disbursementPaymentID = current.id!
                    loan.disbursedAt = context.clock.now()
                    try await loan.create(on: tx)
                    for row in schedule.installments {
                        try await LoanInstallment(loanID: loan.id!, position: InstallmentPosition(row)).create(on: tx)
                    }
                    try await ctx.ledger.post(PostingRules.disbursement(principalFen: current.requestedFen), reference: "disbursement:\(current.id!)",
                                              loanID: loan.id, businessDate: date, memo: "disbursement to the verified debit card")
                    current.state = PaymentState.succeeded
                    current.movedFen = result.amountFen
                    current.providerReference = result.providerReference
                    current.loanID = loan.id
                    current.completedAt = context.clock.now()
                    try await current.save(on: tx)
                    application.state = ApplicationState.disbursed.rawValue
                    application.lastActivityAt = context.clock.now()
                    try await application.save(on: tx)
                    try await ctx.audit(tx).record(application: application.id, actor: "system", action: "loan.disbursed", details: [
                        "loan": loan.id!.uuidString, "payment": current.id!.uuidString, "amount": Money.string(fen: current.requestedFen),
                        "card": application.cardMasked ?? "-", "reference": result.providerReference ?? "-", "startDate": date.iso,
                        "termMonths": String(terms.termMonths), "method": terms.method.rawValue, "annualRate": loan.annualRate, "state": "disbursed",
                    ])
                }
                return
            } catch let error as APIError {
                throw error
            } catch {
                attempt += 1
                guard attempt < 8, LoanBook.isTransient(error) else { throw error }
                try await Task.sleep(nanoseconds: UInt64(20_000_000 * attempt))
            }
        }
    }
}
