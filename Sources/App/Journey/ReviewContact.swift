import Fluent
import Foundation
import LendingCore

/// Who gets back to a referred applicant and by when: the customer manager the application is attributed to (by
/// name, with their branch), otherwise the branch the bank's online loans belong to; within one business day of the
/// referral (the reviewers' service level).
struct ReviewContact: Sendable, Equatable {
    /// "客户经理 王磊（深圳分行）" or "深圳分行".
    let who: String
    let dueBy: Date

    /// A referral is to be decided within one business day (the next weekday at the same time).
    static func dueBy(referredAt: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        var due = referredAt.addingTimeInterval(86_400)
        while calendar.isDateInWeekend(due) { due = due.addingTimeInterval(86_400) }
        return due
    }

    static func find(for application: LoanApplication, on db: any Database, now: Date) async throws -> ReviewContact {
        let due = dueBy(referredAt: application.decidedAt ?? now)
        let code = application.cmLast ?? application.cmFirst
        if let code,
            let manager = try await StaffMember.query(on: db).filter(\.$managerCode == code).filter(\.$active == true).first()
        {
            let branch = try await Branch.query(on: db).filter(\.$code == manager.branchCode).first()
            return ReviewContact(
                who: "您的客户经理" + manager.displayName + (branch.map { "（\($0.name)）" } ?? ""), dueBy: due)
        }
        // A manager's code names its branch ("SZ-0001"); without one, the head office's online lending.
        let prefix = code.flatMap { $0.split(separator: "-").first.map(String.init) }
        var branch: Branch?
        if let prefix { branch = try await Branch.query(on: db).filter(\.$code == prefix).first() }
        if branch == nil { branch = try await Branch.query(on: db).filter(\.$parentCode == nil).first() }
        return ReviewContact(who: (branch?.name ?? "我行") + "的工作人员", dueBy: due)
    }
}
