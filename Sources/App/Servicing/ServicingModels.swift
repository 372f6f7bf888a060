import Fluent
import Foundation
import LendingCore
import SQLKit

/// A disbursed loan. Money in integer fen; dates are business dates (YYYY-MM-DD).
/// `version` is bumped by every change to the loan's money: it serializes payments and end of day per loan.
final class Loan: Model, @unchecked Sendable {
    static let schema = "loans"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "principal_fen") var principalFen: Int64
    @Field(key: "annual_rate") var annualRate: String
    @Field(key: "term_months") var termMonths: Int
    @Field(key: "method") var method: String
    @Field(key: "start_date") var startDate: String
    @Field(key: "status") var status: String
    @Field(key: "version") var version: Int
    @Field(key: "disbursement_payment_id") var disbursementPaymentID: UUID
    @Field(key: "disbursed_at") var disbursedAt: Date
    @OptionalField(key: "closed_on") var closedOn: String?
    /// The customer manager whose code brought the loan (the application's last touch at payout): the reports' scope.
    @OptionalField(key: "manager_code") var managerCode: String?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    /// The stored status and method, decoded: an unknown value is a 500 `corrupt_state`, never another value.
    var loanStatus: LoanStatus {
        get throws { try StoredValues.decode(status, "loan status") }
    }
    var repaymentMethod: RepaymentMethod {
        get throws { try StoredValues.decode(method, "repayment method") }
    }
    var annualRatePercent: Decimal {
        get throws {
            guard let rate = Money.parse(annualRate) else { throw StoredValues.corrupt("annual rate", annualRate) }
            return rate
        }
    }

    /// The contract terms the schedule was fixed from.
    var contractTerms: LoanTerms {
        get throws {
            LoanTerms(
                principal: Money.decimal(fen: principalFen), annualRatePercent: try annualRatePercent,
                termMonths: termMonths, method: try repaymentMethod,
                startDate: try StoredValues.date(startDate, "loan start date"))
        }
    }
}

/// One installment of a loan's current plan (a prepayment re-plans the installments not yet due).
final class LoanInstallment: Model, @unchecked Sendable {
    static let schema = "loan_installments"
    @ID(key: .id) var id: UUID?
    @Field(key: "loan_id") var loanID: UUID
    @Field(key: "number") var number: Int
    @Field(key: "due_date") var dueDate: String
    @Field(key: "principal_fen") var principalFen: Int64
    @Field(key: "interest_fen") var interestFen: Int64
    @Field(key: "penalty_fen") var penaltyFen: Int64
    @Field(key: "paid_principal_fen") var paidPrincipalFen: Int64
    @Field(key: "paid_interest_fen") var paidInterestFen: Int64
    @Field(key: "paid_penalty_fen") var paidPenaltyFen: Int64
    @Field(key: "interest_recognized") var interestRecognized: Bool
    @OptionalField(key: "penalty_accrued_through") var penaltyAccruedThrough: String?
    @Field(key: "status") var status: String
    @OptionalField(key: "paid_on") var paidOn: String?

    init() {}

    init(loanID: UUID, position: InstallmentPosition) {
        self.loanID = loanID
        self.number = position.number
        update(from: position)
    }

    /// The columns `create(_:on:)` writes, in the order of its values (`ServicingTests` checks them against the model).
    static let insertedColumns = [
        "id", "loan_id", "number", "due_date", "principal_fen", "interest_fen", "penalty_fen", "paid_principal_fen",
        "paid_interest_fen", "paid_penalty_fen", "interest_recognized", "penalty_accrued_through", "status", "paid_on",
    ]

    /// Creates `rows` with one multi-row INSERT (a booking writes the whole plan: one statement instead of one
    /// per installment, and no model reflection per row). The rows count as saved afterwards, as after `create`.
    static func create(_ rows: [LoanInstallment], on tx: any Database) async throws {
        guard !rows.isEmpty else { return }
        guard let sql = tx as? any SQLDatabase else {
            for row in rows { try await row.create(on: tx) }
            return
        }
        var insert = sql.insert(into: schema).columns(insertedColumns)
        for row in rows {
            let id = row.id ?? RandomID.uuid()
            row.id = id
            insert = insert.values(
                SQLBind(id), SQLBind(row.loanID), SQLBind(row.number), SQLBind(row.dueDate), SQLBind(row.principalFen),
                SQLBind(row.interestFen), SQLBind(row.penaltyFen), SQLBind(row.paidPrincipalFen),
                SQLBind(row.paidInterestFen), SQLBind(row.paidPenaltyFen), SQLBind(row.interestRecognized),
                SQLBind(row.penaltyAccruedThrough), SQLBind(row.status), SQLBind(row.paidOn))
        }
        try await insert.run()
        for row in rows { row.$id.exists = true }
    }

    var position: InstallmentPosition {
        get throws {
            InstallmentPosition(
                number: number, dueDate: try StoredValues.date(dueDate, "due date"), principalFen: principalFen,
                interestFen: interestFen, penaltyFen: penaltyFen, paidPrincipalFen: paidPrincipalFen,
                paidInterestFen: paidInterestFen, paidPenaltyFen: paidPenaltyFen,
                interestRecognized: interestRecognized,
                penaltyAccruedThrough: try penaltyAccruedThrough.map { try StoredValues.date($0, "penalty date") },
                status: try StoredValues.decode(status, "installment status"),
                paidOn: try paidOn.map { try StoredValues.date($0, "payment date") })
        }
    }

    func update(from p: InstallmentPosition) {
        dueDate = p.dueDate.iso
        principalFen = p.principalFen
        interestFen = p.interestFen
        penaltyFen = p.penaltyFen
        paidPrincipalFen = p.paidPrincipalFen
        paidInterestFen = p.paidInterestFen
        paidPenaltyFen = p.paidPenaltyFen
        interestRecognized = p.interestRecognized
        penaltyAccruedThrough = p.penaltyAccruedThrough?.iso
        status = p.status.rawValue
        paidOn = p.paidOn?.iso
    }
}

/// A balanced journal entry; `reference` is unique so an event is never posted twice (end of day can be re-run).
final class JournalEntry: Model, @unchecked Sendable {
    static let schema = "journal_entries"
    @ID(key: .id) var id: UUID?
    @Field(key: "reference") var reference: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "loan_id") var loanID: UUID?
    @Field(key: "business_date") var businessDate: String
    @Field(key: "memo") var memo: String
    @Field(key: "posted_at") var postedAt: Date

    init() {}
}

final class JournalLine: Model, @unchecked Sendable {
    static let schema = "journal_lines"
    @ID(key: .id) var id: UUID?
    @Field(key: "entry_id") var entryID: UUID
    @OptionalField(key: "loan_id") var loanID: UUID?
    @Field(key: "account") var account: String
    @Field(key: "debit_fen") var debitFen: Int64
    @Field(key: "credit_fen") var creditFen: Int64

    init() {}
}

/// Where a payment stands with the payments provider. Stored as its raw value; an unknown stored value fails the
/// read loudly (500 `corrupt_state`).
enum PaymentState: String, Codable, Sendable {
    case pending
    case succeeded
    case failed

    init(from decoder: Decoder) throws {
        self = try StoredValues.decode(try decoder.singleValueContainer().decode(String.self), "payment state")
    }
}

/// One money movement with the payments provider: a disbursement, a repayment or an auto-debit.
/// Recorded (pending) before the provider is called; `idempotencyKey` is what the provider sees, unique here too.
final class Payment: Model, @unchecked Sendable {
    static let schema = "payments"
    @ID(key: .id) var id: UUID?
    @Field(key: "idempotency_key") var idempotencyKey: String
    @Field(key: "kind") var kind: String  // disbursement | repayment | autodebit
    @Field(key: "application_id") var applicationID: UUID
    @OptionalField(key: "loan_id") var loanID: UUID?
    @OptionalField(key: "repayment_type") var repaymentType: String?
    @OptionalField(key: "prepayment_mode") var prepaymentMode: String?
    /// What the provider is asked to move.
    @Field(key: "requested_fen") var requestedFen: Int64
    /// The amount the borrower named: any amount to pay, or the principal to prepay.
    @OptionalField(key: "instruction_fen") var instructionFen: Int64?
    @OptionalField(key: "moved_fen") var movedFen: Int64?
    @Field(key: "state") var state: PaymentState
    @OptionalField(key: "provider_reference") var providerReference: String?
    @OptionalField(key: "failure_code") var failureCode: String?
    @Field(key: "business_date") var businessDate: String
    @OptionalField(key: "request_hash") var requestHash: String?
    @OptionalField(key: "response_json") var responseJSON: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "completed_at") var completedAt: Date?

    init() {}
}

/// The bank's business date: one row, moved only by end of day.
final class BusinessDateRecord: Model, @unchecked Sendable {
    static let schema = "business_date"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "date") var date: String
    @OptionalField(key: "last_eod_at") var lastEODAt: Date?

    init() {}
}

/// The payments sandbox's own card accounts (never in production).
final class SandboxPaymentAccount: Model, @unchecked Sendable {
    static let schema = "sandbox_payment_accounts"
    @ID(key: .id) var id: UUID?
    @Field(key: "card_key") var cardKey: String
    @Field(key: "card_masked") var cardMasked: String
    @Field(key: "balance_fen") var balanceFen: Int64
    @Field(key: "mode") var mode: String  // normal | fail | timeout

    init() {}
}

/// Every instruction the payments sandbox executed, by idempotency key (a key executes at most once).
final class SandboxPaymentInstruction: Model, @unchecked Sendable {
    static let schema = "sandbox_payment_instructions"
    @ID(key: .id) var id: UUID?
    @Field(key: "idempotency_key") var idempotencyKey: String
    @Field(key: "card_key") var cardKey: String
    @Field(key: "direction") var direction: String
    @Field(key: "requested_fen") var requestedFen: Int64
    @Field(key: "amount_fen") var amountFen: Int64
    @Field(key: "outcome") var outcome: String
    @Field(key: "reference") var reference: String
    @OptionalField(key: "failure_code") var failureCode: String?
    @Field(key: "executed_at") var executedAt: Date

    init() {}
}

extension Payment {
    /// What kind of repayment it was (nil for a disbursement); an unknown stored value is a 500 `corrupt_state`.
    var repayment: RepaymentService.RepaymentType? {
        get throws { try repaymentType.map { try StoredValues.decode($0, "repayment type") } }
    }

    var prepayment: PrepaymentOption? {
        get throws { try prepaymentMode.map { try StoredValues.decode($0, "prepayment mode") } }
    }
}
