import Foundation
import LendingCore
import Testing

@Suite("Application state machine")
struct ApplicationStateMachineTests {
    /// Every legal transition of domain.md's "Application states", written out by hand.
    static let legal: [(ApplicationState, ApplicationState)] = {
        var pairs: [(ApplicationState, ApplicationState)] = [
            (.started, .identityVerified), (.identityVerified, .creditAuthorized), (.creditAuthorized, .infoCompleted),
            (.infoCompleted, .approved), (.infoCompleted, .referred), (.infoCompleted, .declined),
            (.referred, .approved), (.referred, .declined),
            (.approved, .loanRequested), (.loanRequested, .contractSigned), (.contractSigned, .disbursing),
            (.disbursing, .disbursed), (.disbursing, .contractSigned),
        ]
        let beforeDisbursed: [ApplicationState] = [
            .started, .identityVerified, .creditAuthorized, .infoCompleted, .approved, .referred, .loanRequested,
            .contractSigned,
        ]
        for s in beforeDisbursed { pairs += [(s, .cancelled), (s, .expired)] }
        return pairs
    }()

    @Test("every legal transition is allowed")
    func legalTransitions() throws {
        for (from, to) in Self.legal {
            #expect(throws: Never.self, "\(from) → \(to)") { try ApplicationStateMachine.transition(from: from, to: to) }
        }
    }

    @Test("every other pair of states is refused")
    func everythingElseRefused() {
        let legal = Set(Self.legal.map { "\($0.0.rawValue)>\($0.1.rawValue)" })
        var refused = 0
        for from in ApplicationState.allCases {
            for to in ApplicationState.allCases where !legal.contains("\(from.rawValue)>\(to.rawValue)") {
                #expect(!ApplicationStateMachine.canTransition(from: from, to: to), "\(from) → \(to)")
                refused += 1
            }
        }
        #expect(refused == 13 * 13 - Self.legal.count)
    }

    @Test("skipping a step, going back after a decision and reopening are refused with the states named")
    func sampleOfIllegal() {
        let samples: [(ApplicationState, ApplicationState)] = [
            (.started, .creditAuthorized),  // skipping identity
            (.started, .approved),
            (.identityVerified, .infoCompleted),  // skipping the authorization
            (.approved, .declined),  // no going back after a decision
            (.declined, .approved),
            (.approved, .referred),
            (.declined, .cancelled),
            (.disbursed, .cancelled),  // nothing after disbursement
            (.cancelled, .started),
            (.expired, .approved),
            (.loanRequested, .approved),
            (.approved, .disbursed),
        ]
        for (from, to) in samples {
            #expect(throws: JourneyError.invalidTransition(from: from, to: to)) {
                try ApplicationStateMachine.transition(from: from, to: to)
            }
        }
        let error = JourneyError.invalidTransition(from: .declined, to: .approved)
        #expect(error.code == "invalid_state_transition")
        #expect(error.message == "An application that is declined cannot become approved")
        #expect(error.messageZh == "申请状态不能从「暂未通过」变为「已获批额度」")
    }
}

@Suite("Journey steps in order")
struct JourneyOrderTests {
    @Test("a new application asks for the ID card first and names it when a later step is tried")
    func idCardFirst() {
        let progress = ApplicationProgress()
        #expect(progress.nextStep == .idCard)
        #expect(progress.completedSteps == [.phone])
        #expect(throws: JourneyError.outOfOrder(expected: .idCard)) {
            try ApplicationStateMachine.require(.face, progress: progress)
        }
        #expect(throws: JourneyError.outOfOrder(expected: .idCard)) {
            try ApplicationStateMachine.require(.decision, progress: progress)
        }
        #expect(throws: Never.self) { try ApplicationStateMachine.require(.idCard, progress: progress) }
        let error = JourneyError.outOfOrder(expected: .idCard)
        #expect(error.code == "step_out_of_order")
        #expect(error.message == "Complete the ID card step first")
        #expect(error.messageZh == "请先完成「身份证识别」")
    }

    @Test("the whole journey walks through every step and state in order")
    func fullWalk() throws {
        var p = ApplicationProgress()
        try p.complete(.idCard)
        #expect(p.nextStep == .face)
        #expect(p.state == .started)
        try p.complete(.face)
        #expect(p.nextStep == .bankCard)
        try p.complete(.bankCard)
        #expect(p.state == .identityVerified)
        #expect(p.nextStep == .authorization)
        try p.complete(.authorization)
        #expect(p.state == .creditAuthorized)
        #expect(p.nextStep == .aboutYou)
        try p.complete(.aboutYou)
        #expect(p.state == .infoCompleted)
        #expect(p.nextStep == .decision)
        try p.complete(.decision, outcome: .approved)
        #expect(p.state == .approved)
        #expect(p.nextStep == .loanRequest)
        try p.complete(.loanRequest)
        #expect(p.state == .loanRequested)
        #expect(p.nextStep == .done)
        #expect(p.completedSteps == JourneyStep.ordered)
    }

    @Test("a step already done cannot be repeated: the error names the step that comes next")
    func noRepeat() throws {
        var p = ApplicationProgress()
        try p.complete(.idCard)
        try p.complete(.face)
        #expect(throws: JourneyError.outOfOrder(expected: .bankCard)) { try p.complete(.idCard) }
        #expect(JourneyError.outOfOrder(expected: .bankCard).message == "Complete the bank card step first")
        #expect(p == ApplicationProgress(idCardConfirmed: true, faceVerified: true))
    }

    @Test("nothing is skipped: the bank card cannot come before the face")
    func noSkipping() throws {
        var p = ApplicationProgress()
        try p.complete(.idCard)
        #expect(throws: JourneyError.outOfOrder(expected: .face)) { try p.complete(.bankCard) }
        #expect(p.state == .started)
        #expect(!p.bankCardVerified)
    }

    @Test("the next step follows each state")
    func nextStepPerState() {
        let expected: [ApplicationState: JourneyStep] = [
            .identityVerified: .authorization, .creditAuthorized: .aboutYou, .infoCompleted: .decision,
            .approved: .loanRequest, .referred: .done, .declined: .done, .loanRequested: .done,
            .contractSigned: .done, .disbursing: .done, .disbursed: .done, .cancelled: .done, .expired: .done,
        ]
        for (state, step) in expected {
            #expect(ApplicationProgress(state: state).nextStep == step, "\(state)")
        }
    }

    @Test("a decision needs an outcome of approved, referred or declined")
    func decisionOutcome() throws {
        var p = ApplicationProgress(state: .infoCompleted)
        #expect(throws: JourneyError.invalidTransition(from: .infoCompleted, to: .loanRequested)) {
            try p.complete(.decision, outcome: .loanRequested)
        }
        #expect(throws: JourneyError.invalidTransition(from: .infoCompleted, to: .infoCompleted)) {
            try p.complete(.decision)
        }
        try p.complete(.decision, outcome: .referred)
        #expect(p.completedSteps.last == .decision)
        // a reviewer approves; the applicant may then request the loan
        try p.move(to: .approved)
        #expect(p.nextStep == .loanRequest)
    }

    @Test("a declined, cancelled or expired application refuses every step")
    func closedApplications() {
        for state in [ApplicationState.declined, .cancelled, .expired, .disbursed] {
            #expect(throws: JourneyError.applicationClosed(state)) {
                try ApplicationStateMachine.require(.loanRequest, progress: ApplicationProgress(state: state))
            }
        }
        #expect(JourneyError.applicationClosed(.declined).code == "application_closed")
    }

    @Test("a referred application waits: no step for the applicant")
    func referredWaits() {
        let p = ApplicationProgress(state: .referred)
        #expect(throws: JourneyError.outOfOrder(expected: .done)) {
            try ApplicationStateMachine.require(.loanRequest, progress: p)
        }
        #expect(JourneyError.outOfOrder(expected: .done).messageZh == "当前申请暂无需要您办理的步骤")
    }

    @Test("pages are grouped into three steps for the progress indicator")
    func groups() {
        #expect(JourneyStep.phone.group == .identity)
        #expect(JourneyStep.bankCard.group == .identity)
        #expect(JourneyStep.authorization.group?.number == 2)
        #expect(JourneyStep.aboutYou.group?.number == 3)
        #expect(JourneyStep.decision.group == nil)
        #expect(JourneyStep.face.progressLabelZh == "第1步，共3步 · 身份校验")
        #expect(JourneyStep.decision.page == 7)
        #expect(JourneyStep.ordered.compactMap(\.page) == [1, 2, 3, 4, 5, 6, 7, 7])
    }

    @Test("progress survives a JSON round trip with its raw state")
    func codable() throws {
        let p = ApplicationProgress(state: .identityVerified, idCardConfirmed: true, faceVerified: true, bankCardVerified: true)
        let data = try JSONEncoder().encode(p)
        #expect(String(decoding: data, as: UTF8.self).contains("\"identity_verified\""))
        #expect(try JSONDecoder().decode(ApplicationProgress.self, from: data) == p)
    }
}

@Suite("Credit report facts")
struct CreditReportCodingTests {
    @Test("a credit report survives a JSON round trip with its decimals and date")
    func codable() throws {
        let report = CreditReport(
            thinFile: false, accounts: 4, currentOverdueAmount: Decimal(string: "2300.50")!, overdueMonthsLast24: 3,
            inquiriesLast3Months: 9, cardUtilization: Decimal(string: "0.20")!, monthlyRepayments: 7200,
            reportId: "SANDBOX-CR-1", generatedOn: CivilDate(iso: "2026-11-27"))
        let data = try JSONEncoder().encode(report)
        #expect(String(decoding: data, as: UTF8.self).contains("\"2026-11-27\""))
        #expect(try JSONDecoder().decode(CreditReport.self, from: data) == report)
    }
}
