import Fluent
import Foundation
import LendingCore
import Providers
import SQLKit
import Vapor

/// 放款: pays the signed loan to the verified debit card exactly once, then books it.
///
/// 1. **Start**: one transaction moves the application contract_signed → disbursing (a compare-and-set on its
///    version) and creates the payout instruction, a `Payment` with the application's one idempotency key
///    `disburse:<application id>`, with its audit entry. From here the applicant can no longer cancel, and
///    however many requests arrive at once only one instruction exists.
/// 2. **Send**: the provider is first asked how that key ended (a lost answer is resolved before any retry);
///    only a key it never saw is sent. The provider executes a key at most once.
/// 3. **Book**: when the provider paid, one transaction marks the instruction succeeded (compare-and-set on its
///    state), creates the loan with the plan built once from the application (`LoanTermsBuilder`), posts the
///    ledger, moves the application to disbursed and audits it. A refusal moved no money: the instruction fails
///    and the application returns to contract_signed, where the applicant may cancel.
struct DisbursementService {
    let context: ServicingContext
    var db: Database { context.db }

    struct Outcome: Sendable {
        let status: HTTPStatus
        let loan: Loan?
        let payment: Payment
    }

    static func key(for applicationID: UUID) -> String { "disburse:\(applicationID.uuidString.lowercased())" }

    /// Disburses `applicationID` (ownership checked by the caller); idempotent and safe to race.
    func disburse(applicationID: UUID) async throws -> Outcome {
        guard let application = try await LoanApplication.load(applicationID, on: db) else { throw APIError.notFound("application") }
        // A loan is booked in the transaction that moves the application on from disbursing: before that there is
        // none to look for.
        let state = try application.applicationState
        if state != .contractSigned && state != .disbursing, let done = try await booked(applicationID) { return done }
        let payment = try await start(applicationID, loaded: application)
        return try await finish(payment, application: application)
    }

    private func booked(_ applicationID: UUID) async throws -> Outcome? {
        guard let loan = try await Loan.query(on: db).filter(\.$applicationID == applicationID).first(),
            let payment = try await Payment.find(loan.disbursementPaymentID, on: db)
        else { return nil }
        return Outcome(status: .ok, loan: loan, payment: payment)
    }

    /// The payout instruction of the application, created with the move to disbursing if there is none yet.
    /// `loaded` is the application as the caller just read it.
    private func start(_ applicationID: UUID, loaded: LoanApplication? = nil, retried: Bool = false) async throws -> Payment {
        var found = loaded
        if found == nil { found = try await LoanApplication.load(applicationID, on: db) }
        guard let application = found else { throw APIError.notFound("application") }
        let key = Self.key(for: applicationID)
        let state = try application.applicationState
        switch state {
        case .disbursing, .disbursed:
            guard let payment = try await Payment.query(on: db).filter(\.$idempotencyKey == key).first() else {
                throw APIError(.internalServerError, code: "internal_error", message: "The payout instruction of this application is missing.")
            }
            return payment
        case .contractSigned:
            if let refused = try await Payment.query(on: db).filter(\.$idempotencyKey == key).first(),
                refused.state == .failed
            {
                throw Self.refused(refused)
            }
        default:
            throw APIError(
                .conflict, code: "not_ready_for_disbursement",
                message: "Only a signed contract can be disbursed; this application is \(application.state).", messageZh: "合同签署后才能放款。")
        }
        let terms = try LoanTermsBuilder.requestedLoan(application)
        let payment = Payment()
        payment.id = RandomID.uuid()
        payment.idempotencyKey = key
        payment.kind = "disbursement"
        payment.applicationID = applicationID
        payment.requestedFen = terms.principalFen
        payment.state = .pending
        payment.businessDate = try await context.businessDates.current().iso
        payment.createdAt = context.clock.now()
        application.state = ApplicationState.disbursing.rawValue
        do {
            try await ApplicationStore(db: db, services: context.services).commit(
                application, actor: "system", action: "disbursement.started",
                details: [
                    "payment": payment.id!.uuidString, "amount": Money.string(fen: payment.requestedFen), "key": key,
                    "card": application.cardMasked ?? "-",
                ]
            ) { tx in try await payment.create(on: tx) }
        } catch let error as APIError where error.code == "application_changed" && !retried {
            // Another request started (or cancelled) at this moment: follow what won.
            return try await start(applicationID, retried: true)
        }
        return payment
    }

    static func refused(_ payment: Payment) -> APIError {
        APIError(
            .badGateway, code: "payout_failed",
            message: "The payments provider refused the payout to your card (\(payment.failureCode ?? "refused")); no money was sent. Cancel the application or contact your customer manager.",
            messageZh: "银行卡放款被拒绝，资金未划出。您可以取消本次申请或联系客户经理。")
    }

    func resume(_ payment: Payment) async throws -> PaymentAnswer {
        let outcome = try await finish(payment)
        let view = try RepaymentService.view(outcome.payment, loan: outcome.loan, positions: nil, allocation: nil)
        return PaymentAnswer(status: PaymentAnswer.status(for: outcome.payment), view: view)
    }

    /// Sends the instruction unless the provider already has it, and books what it answers. `application`, when
    /// the caller has it, is the payment's application as read before the instruction was created (its card).
    func finish(_ payment: Payment, application: LoanApplication? = nil) async throws -> Outcome {
        guard payment.state == .pending else {
            let loan = try await Loan.query(on: db).filter(\.$applicationID == payment.applicationID).first()
            return Outcome(status: loan == nil ? .badGateway : .ok, loan: loan, payment: payment)
        }
        let result: PaymentResult
        do {
            if let known = try await context.gateway.status(idempotencyKey: payment.idempotencyKey), known.outcome != .timedOut {
                result = known
            } else {
                let card = try await context.card(of: application, id: payment.applicationID)
                result = try await context.gateway.payout(to: card, amountFen: payment.requestedFen, idempotencyKey: payment.idempotencyKey)
            }
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
            try await markRefused(payment, result: result)
        case .succeeded:
            // 201 only for the request that booked the loan; the others that raced it see it as it is (200).
            if let loan = try await book(payment, result: result) { return Outcome(status: .created, loan: loan, payment: payment) }
        }
        guard let current = try await Payment.find(payment.id, on: db) else { throw APIError.notFound("payment") }
        let loan = try await Loan.query(on: db).filter(\.$applicationID == payment.applicationID).first()
        return Outcome(status: loan == nil ? .badGateway : .ok, loan: loan, payment: current)
    }

    /// Marks the instruction as `state` if it is still pending; false when another request got there first.
    static func settle(_ payment: Payment, as state: PaymentState, on tx: any Database) async throws -> Bool {
        guard let sql = tx as? any SQLDatabase else { return false }
        let rows = try await sql.raw(
            """
            UPDATE payments SET state = \(bind: state.rawValue) WHERE id = \(bind: payment.id!) \
            AND state = \(bind: PaymentState.pending.rawValue) RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    private struct AlreadySettled: Error {}

    private func markRefused(_ payment: Payment, result: PaymentResult) async throws {
        guard let application = try await LoanApplication.load(payment.applicationID, on: db) else { throw APIError.notFound("application") }
        guard try application.applicationState == .disbursing else { return }
        application.state = ApplicationState.contractSigned.rawValue
        let now = context.clock.now()
        do {
            try await ApplicationStore(db: db, services: context.services).commit(
                application, actor: "system", action: "disbursement.failed",
                details: [
                    "payment": payment.id!.uuidString, "amount": Money.string(fen: payment.requestedFen),
                    "reason": result.failureCode ?? "failed",
                ]
            ) { tx in
                guard try await Self.settle(payment, as: .failed, on: tx) else { throw AlreadySettled() }
                try await Payment.query(on: tx).filter(\.$id == payment.id!)
                    .set(\.$failureCode, to: result.failureCode ?? "failed").set(\.$providerReference, to: result.providerReference)
                    .set(\.$completedAt, to: now).update()
            }
        } catch is AlreadySettled {
        } catch let error as APIError where error.code == "application_changed" {}
    }

    /// The money left: the loan starts on the business date with the plan the contract stated, its ledger entry
    /// and audit entry, all in one transaction. Returns the loan, with `payment` updated as stored, or nil when
    /// another request booked it first.
    private func book(_ payment: Payment, result: PaymentResult) async throws -> Loan? {
        guard let application = try await LoanApplication.load(payment.applicationID, on: db) else { throw APIError.notFound("application") }
        guard try application.applicationState == .disbursing else { return nil }
        let context = self.context
        let date = try await context.businessDates.current()
        let terms = try LoanTermsBuilder.requestedLoan(application)
        let plan = try LoanTermsBuilder.schedule(terms, startDate: date)
        let loan = Loan()
        loan.id = RandomID.uuid()
        loan.applicationID = application.id!
        loan.phoneIndex = application.phoneIndex
        loan.principalFen = terms.principalFen
        loan.annualRate = Money.string(terms.annualRatePercent)
        loan.termMonths = terms.termMonths
        loan.method = terms.method.rawValue
        loan.startDate = date.iso
        loan.status = LoanStatus.active.rawValue
        loan.version = 0
        loan.disbursementPaymentID = payment.id!
        loan.disbursedAt = context.clock.now()
        loan.managerCode = application.cmLast
        application.state = ApplicationState.disbursed.rawValue
        let now = context.clock.now()
        do {
            try await ApplicationStore(db: db, services: context.services).commit(
                application, actor: "system", action: "loan.disbursed",
                details: [
                    "loan": loan.id!.uuidString, "payment": payment.id!.uuidString, "amount": Money.string(fen: terms.principalFen),
                    "card": application.cardMasked ?? "-", "reference": result.providerReference ?? "-", "startDate": date.iso,
                    "termMonths": String(terms.termMonths), "method": terms.method.rawValue, "annualRate": loan.annualRate,
                ]
            ) { tx in
                guard try await Self.settle(payment, as: .succeeded, on: tx) else { throw AlreadySettled() }
                try await Payment.query(on: tx).filter(\.$id == payment.id!)
                    .set(\.$movedFen, to: result.amountFen).set(\.$providerReference, to: result.providerReference)
                    .set(\.$loanID, to: loan.id).set(\.$completedAt, to: now).update()
                try await loan.create(on: tx)
                try await LoanCounts.move(managerCode: loan.managerCode, from: nil, to: .active, on: tx)
                try await LoanInstallment.create(
                    plan.installments.map { LoanInstallment(loanID: loan.id!, position: InstallmentPosition($0)) }, on: tx)
                try await context.on(tx).ledger.post(
                    PostingRules.disbursement(principalFen: terms.principalFen), reference: "disbursement:\(payment.id!)",
                    loanID: loan.id, businessDate: date, memo: "disbursement to the verified debit card")
            }
            payment.state = .succeeded
            payment.movedFen = result.amountFen
            payment.providerReference = result.providerReference
            payment.loanID = loan.id
            payment.completedAt = now
            return loan
        } catch is AlreadySettled {
            return nil
        } catch let error as APIError where error.code == "application_changed" {
            return nil
        }
    }
}
