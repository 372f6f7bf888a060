import Foundation
import LendingCore

/// Builds what an applicant sees of their application: state, steps, masked personal data, decision.
struct ApplicationPresenter {
    let journey: JourneyService

    func view(_ application: LoanApplication) async throws -> ApplicationView {
        let progress = try journey.progress(application)
        let vault = journey.vault
        let phone = try MobileNumber(try await vault.open(application.phoneSealed))
        let name = try await vault.openOptional(application.nameSealed)
        let idNumber = try await vault.openOptional(application.idNumberSealed).flatMap { try? ChineseIDNumber($0) }
        let completed = progress.completedSteps
        var stopped: StopView?
        let lockRunOut = application.stopStep == JourneyStep.face.rawValue && (application.faceLockedUntil.map { $0 <= journey.now } ?? false)
        if let step = application.stopStep, !lockRunOut {
            stopped = StopView(step: step, reason: application.stopReason ?? "stopped", message: StopMessages.english(application.stopReason),
                               retryAfter: step == JourneyStep.face.rawValue ? application.faceLockedUntil : nil)
        }
        var decision: DecisionView?
        if let outcome = application.decision, let decidedAt = application.decidedAt {
            let reasons = (application.decisionReasons.flatMap { try? JSONDecoder().decode([PolicyReason].self, from: Data($0.utf8)) } ?? [])
                .map { ReasonView(code: $0.code, message: $0.message) }
            decision = DecisionView(outcome: outcome, creditLimit: application.creditLimit, annualRate: application.annualRate, apr: application.apr,
                                    reasons: reasons, decidedAt: decidedAt, validUntil: application.limitExpiresAt, policyVersion: application.policyVersion)
        }
        var loan: LoanRequestView?
        if let amount = application.loanAmount, let term = application.loanTermMonths, let method = application.loanMethod,
           let purpose = application.loanPurpose, let at = application.loanRequestedAt {
            // The amounts of a plan do not depend on its start date (30/360); the plan itself is LoanTermsBuilder's.
            let schedule = (try? LoanTermsBuilder.requestedLoan(application)).flatMap {
                try? LoanTermsBuilder.schedule($0, startDate: BusinessCalendar.civilDate(at))
            }
            loan = LoanRequestView(amount: amount, termMonths: term, method: method, purpose: purpose, requestedAt: at,
                                   firstPayment: schedule.map { Money.string($0.installments[0].payment) },
                                   totalInterest: schedule.map { Money.string($0.totalInterest) }, apr: schedule.map { Money.string($0.apr) })
        }
        let next = stopped != nil ? "stopped" : progress.nextStep.rawValue
        return ApplicationView(
            id: try application.requireID(),
            state: application.state,
            stateTitle: progress.state.title,
            nextStep: next,
            completedSteps: completed.map(\.rawValue),
            steps: JourneyStep.ordered.map { StepView(step: $0.rawValue, title: $0.titleZh, done: completed.contains($0)) },
            stopped: stopped,
            applicant: ApplicantView(
                phone: phone.masked, name: name.map(PersonalDataMask.name), idNumber: idNumber?.masked,
                bankCard: application.cardMasked, bank: application.cardBank),
            decision: decision,
            loanRequest: loan,
            sandbox: journey.services.providers.isSandbox,
            updatedAt: application.lastActivityAt)
    }
}
