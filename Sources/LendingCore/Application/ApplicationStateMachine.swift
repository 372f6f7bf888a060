/// The guarded transitions of domain.md's "Application states" and the order of the journey's steps.
/// No skipping a step, no going back after a decision.
public enum ApplicationStateMachine {
    /// Every allowed transition. Anything not listed is refused.
    public static let allowedTransitions: [ApplicationState: Set<ApplicationState>] = {
        let open: [ApplicationState] = [
            .started, .identityVerified, .creditAuthorized, .infoCompleted, .approved, .referred, .loanRequested,
            .contractSigned,
        ]
        var table: [ApplicationState: Set<ApplicationState>] = [
            .started: [.identityVerified],
            .identityVerified: [.creditAuthorized],
            .creditAuthorized: [.infoCompleted],
            .infoCompleted: [.approved, .referred, .declined],
            .referred: [.approved, .declined],  // a reviewer's decision
            .approved: [.loanRequested],
            .loanRequested: [.contractSigned],
            // Signed → paying out (the payout instruction is created with this move) → paid out; a payout the
            // provider refused moved no money and returns the application to signed, where it may be cancelled.
            .contractSigned: [.disbursing],
            .disbursing: [.disbursed, .contractSigned],
            .declined: [], .disbursed: [], .cancelled: [], .expired: [],
        ]
        // Any state before disbursed (and not already closed) can be cancelled by the applicant or expire.
        for state in open { table[state, default: []].formUnion([.cancelled, .expired]) }
        return table
    }()

    public static func canTransition(from: ApplicationState, to: ApplicationState) -> Bool {
        allowedTransitions[from]?.contains(to) ?? false
    }

    public static func transition(from: ApplicationState, to: ApplicationState) throws(JourneyError) {
        guard canTransition(from: from, to: to) else { throw .invalidTransition(from: from, to: to) }
    }

    /// Throws unless `step` is the one the applicant has to do next.
    /// A closed application (declined, disbursed, cancelled, expired) refuses every step.
    public static func require(_ step: JourneyStep, progress: ApplicationProgress) throws(JourneyError) {
        if progress.state.isTerminal { throw .applicationClosed(progress.state) }
        let next = progress.nextStep
        guard step == next, step != .done else { throw .outOfOrder(expected: next) }
    }
}

/// What the applicant has done so far. `state` is the stored application state; the flags record the
/// identity sub-steps inside `started` (id card → face → bank card) and the later steps.
public struct ApplicationProgress: Sendable, Codable, Equatable {
    public var state: ApplicationState
    public var idCardConfirmed: Bool
    public var faceVerified: Bool
    public var bankCardVerified: Bool
    public var authorizationSigned: Bool
    public var infoCompleted: Bool

    public init(
        state: ApplicationState = .started, idCardConfirmed: Bool = false, faceVerified: Bool = false,
        bankCardVerified: Bool = false, authorizationSigned: Bool = false, infoCompleted: Bool = false
    ) {
        self.state = state
        self.idCardConfirmed = idCardConfirmed
        self.faceVerified = faceVerified
        self.bankCardVerified = bankCardVerified
        self.authorizationSigned = authorizationSigned
        self.infoCompleted = infoCompleted
    }

    /// The step the applicant has to take now; `.done` when there is none (decided other than approved,
    /// loan requested or later, cancelled, expired).
    public var nextStep: JourneyStep {
        switch state {
        case .started:
            if !idCardConfirmed { return .idCard }
            if !faceVerified { return .face }
            return .bankCard
        case .identityVerified: return .authorization
        case .creditAuthorized: return .aboutYou
        case .infoCompleted: return .decision
        case .approved: return .loanRequest
        case .referred, .declined, .loanRequested, .contractSigned, .disbursing, .disbursed, .cancelled, .expired:
            return .done
        }
    }

    /// The steps done, in journey order. The phone step is done once an application exists.
    public var completedSteps: [JourneyStep] {
        let rank: Int
        switch state {
        case .started, .cancelled, .expired: rank = 0
        case .identityVerified: rank = 1
        case .creditAuthorized: rank = 2
        case .infoCompleted: rank = 3
        case .approved, .referred, .declined: rank = 4
        case .loanRequested, .contractSigned, .disbursing, .disbursed: rank = 5
        }
        var steps: [JourneyStep] = [.phone]
        if idCardConfirmed || rank >= 1 { steps.append(.idCard) }
        if faceVerified || rank >= 1 { steps.append(.face) }
        if bankCardVerified || rank >= 1 { steps.append(.bankCard) }
        if authorizationSigned || rank >= 2 { steps.append(.authorization) }
        if infoCompleted || rank >= 3 { steps.append(.aboutYou) }
        if rank >= 4 { steps.append(.decision) }
        if rank >= 5 { steps.append(.loanRequest) }
        return steps
    }

    /// Records that `step` was done, after checking it is the next one, and moves the state where the step ends one:
    /// bank card → identity_verified, authorization → credit_authorized, about you → info_completed,
    /// decision → `outcome` (approved, referred or declined; required for `.decision`), loan request → loan_requested.
    public mutating func complete(_ step: JourneyStep, outcome: ApplicationState? = nil) throws(JourneyError) {
        try ApplicationStateMachine.require(step, progress: self)
        switch step {
        case .idCard: idCardConfirmed = true
        case .face: faceVerified = true
        case .bankCard:
            try move(to: .identityVerified)
            bankCardVerified = true
        case .authorization:
            try move(to: .creditAuthorized)
            authorizationSigned = true
        case .aboutYou:
            try move(to: .infoCompleted)
            infoCompleted = true
        case .decision:
            guard let outcome, [.approved, .referred, .declined].contains(outcome) else {
                throw .invalidTransition(from: state, to: outcome ?? state)
            }
            try move(to: outcome)
        case .loanRequest: try move(to: .loanRequested)
        case .phone, .done: throw .outOfOrder(expected: nextStep)
        }
    }

    /// Moves to `newState` if the state machine allows it (a reviewer's decision, signing, disbursement,
    /// cancellation, expiry).
    public mutating func move(to newState: ApplicationState) throws(JourneyError) {
        try ApplicationStateMachine.transition(from: state, to: newState)
        state = newState
    }
}

/// A journey rule was broken: a step out of order, a transition the state machine forbids.
/// The App maps all of these to 409 Conflict.
public enum JourneyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The step asked for is not the next one; `expected` names the one that is.
    case outOfOrder(expected: JourneyStep)
    case invalidTransition(from: ApplicationState, to: ApplicationState)
    /// The application is declined, disbursed, cancelled or expired.
    case applicationClosed(ApplicationState)

    public var code: String {
        switch self {
        case .outOfOrder: "step_out_of_order"
        case .invalidTransition: "invalid_state_transition"
        case .applicationClosed: "application_closed"
        }
    }

    public var message: String {
        switch self {
        case .outOfOrder(.done): "This application has no further step for you to take now"
        case .outOfOrder(let expected): "Complete the \(expected.title) step first"
        case .invalidTransition(let from, let to): "An application that is \(from.title) cannot become \(to.title)"
        case .applicationClosed(let state): "This application is \(state.title); no further step is possible"
        }
    }

    public var messageZh: String {
        switch self {
        case .outOfOrder(.done): "当前申请暂无需要您办理的步骤"
        case .outOfOrder(let expected): "请先完成「\(expected.titleZh)」"
        case .invalidTransition(let from, let to): "申请状态不能从「\(from.titleZh)」变为「\(to.titleZh)」"
        case .applicationClosed(let state): "该申请\(state.titleZh)，无法继续办理"
        }
    }

    public var description: String { "\(code): \(message)" }
}
