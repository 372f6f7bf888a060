import Fluent
import Foundation
import LendingCore
import SQLKit
import Vapor

/// One application's step of the journey, for the funnel: when it became the current page and when it was done.
final class JourneyStepRecord: Model, @unchecked Sendable {
    static let schema = "journey_steps"
    @ID(key: .id) var id: UUID?
    @Field(key: "application_id") var applicationID: UUID
    @Field(key: "step") var step: String
    /// The Beijing date the step was entered (YYYY-MM-DD): the reports' date range.
    @Field(key: "day") var day: String
    @Field(key: "entered_at") var enteredAt: Date
    @OptionalField(key: "completed_at") var completedAt: Date?
    @OptionalField(key: "seconds") var seconds: Double?
    /// On the last step (loan_request): from the application's start to its completion.
    @OptionalField(key: "journey_seconds") var journeySeconds: Double?
    @OptionalField(key: "channel") var channel: String?
    @OptionalField(key: "campaign") var campaign: String?
    @OptionalField(key: "manager_code") var managerCode: String?
    @OptionalField(key: "branch_code") var branchCode: String?

    init() {}
}

/// Records the funnel from the application itself, in the transaction of every change (`ApplicationStore.commit`
/// and the sign-in that creates it), so the pages and the API count the same: a step is entered when it becomes the
/// applicant's current step (the pages show it at once) and completed when the application says it is done,
/// whichever of the two did it. Rows are only ever added or completed, never removed.
enum JourneyFunnel {
    static let steps: [JourneyStep] = [.phone, .idCard, .face, .bankCard, .authorization, .aboutYou, .decision, .loanRequest]

    static func record(_ application: LoanApplication, on tx: any Database, services: YidaiServices) async throws {
        let id = try application.requireID()
        let progress = try application.progress
        let completed = Set(progress.completedSteps)
        let next = application.stopStep == nil ? progress.nextStep : nil
        let existing = Dictionary(
            try await JourneyStepRecord.query(on: tx).filter(\.$applicationID == id).all().map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
        let now = services.clock.now()
        var branch: String?
        var branchLooked = false
        for step in steps {
            let isDone = completed.contains(step)
            let isCurrent = step == next
            guard isDone || isCurrent else { continue }
            if let row = existing[step.rawValue] {
                if isDone && row.completedAt == nil {
                    row.completedAt = now
                    row.seconds = max(0, now.timeIntervalSince(row.enteredAt))
                    if step == .loanRequest, let started = application.createdAt { row.journeySeconds = max(0, now.timeIntervalSince(started)) }
                    try await row.save(on: tx)
                    services.metrics.recordJourneyStep(step.rawValue, "completed")
                }
                continue
            }
            if !branchLooked, let code = application.cmLast {
                branch = try await StaffMember.query(on: tx).filter(\.$managerCode == code).first()?.branchCode
                branchLooked = true
            }
            let row = JourneyStepRecord()
            row.applicationID = id
            row.step = step.rawValue
            row.day = BusinessCalendar.civilDate(now).iso
            row.enteredAt = now
            row.completedAt = isDone ? now : nil
            row.seconds = isDone ? 0 : nil
            row.channel = application.channelLast
            row.campaign = application.campaign
            row.managerCode = application.cmLast
            row.branchCode = branch
            try await row.create(on: tx)
            services.metrics.recordJourneyStep(step.rawValue, "entered")
            if isDone { services.metrics.recordJourneyStep(step.rawValue, "completed") }
        }
    }
}
