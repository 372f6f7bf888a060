import Foundation

/// Every text message Yidai sends an applicant about their loan, as data in one place: each template has a key,
/// a version (stored with every message sent from it, so the text of any message can be explained later), a
/// purpose (service messages follow the person's own application; marketing is never sent to a phone that opted
/// out and never between 21:00 and 08:00) and its text with `{placeholders}`.
///
/// No template contains "验证码", so a tester reading the newest code off a phone is never misled.
struct NotificationTemplate: Sendable, Equatable {
    enum Purpose: String, Sendable { case service, marketing }

    let key: String
    let version: String
    let purpose: Purpose
    let text: String

    /// The text with each `{name}` replaced; a placeholder without a value is an error, never sent half-filled.
    func render(_ values: [String: String]) throws -> String {
        var out = text
        for (name, value) in values { out = out.replacingOccurrences(of: "{\(name)}", with: value) }
        if let open = out.range(of: "{"), out[open.upperBound...].contains("}") {
            throw NotificationError("template \(key) has a placeholder without a value: \(out)")
        }
        return out
    }

    static let decisionApproved = Self(
        key: "decision_approved", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的借款申请已审批通过，可借额度{limit}元，年化利率（单利）{rate}%。请进入易贷完成借款申请。")
    static let decisionDeclined = Self(
        key: "decision_declined", version: "2026-12-01", purpose: .service,
        text: "【易贷】很抱歉，您的借款申请本次未能通过审批。结果详情可进入易贷“我的贷款”查看。")
    static let contractReady = Self(
        key: "contract_ready", version: "2026-12-01", purpose: .service,
        text: "【易贷】您申请的{amount}元借款合同已生成，请进入易贷“我的贷款”阅读并签署电子合同。")
    static let paidOut = Self(
        key: "paid_out", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的{amount}元借款已发放至尾号{card}的银行卡，首期还款日{firstDue}。")
    static let dueSoon = Self(
        key: "installment_due_soon", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的借款第{number}期应还{amount}元将于{dueDate}到期，请确保还款卡余额充足。")
    static let overdueDay1 = Self(
        key: "installment_overdue_1", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的借款第{number}期（{dueDate}到期）尚未还清，已逾期1天，请尽快还款，以免产生更多罚息并影响征信。")
    static let overdueDay7 = Self(
        key: "installment_overdue_7", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的借款第{number}期（{dueDate}到期）已逾期7天，请尽快还款。如有困难请联系您的客户经理。")
    static let paidOff = Self(
        key: "paid_off", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的{amount}元借款已全部结清，感谢您的信任。")
    static let newMessage = Self(
        key: "conversation_message", version: "2026-12-01", purpose: .service,
        text: "【易贷】您的客户经理给您留言了，请进入易贷“联系我的客户经理”查看。")
    /// Marketing: a reminder to finish an application. Carries the opt-out instruction the law asks for.
    static let nudge = Self(
        key: "nudge", version: "2026-12-01", purpose: .marketing,
        text: "【易贷】您的借款申请还差一步（{stoppedAt}），进入易贷即可继续，您的客户经理{manager}随时为您服务。拒收请回复退订")

    static let all: [Self] = [decisionApproved, decisionDeclined, contractReady, paidOut, dueSoon, overdueDay1, overdueDay7, paidOff, newMessage, nudge]

    static func named(_ key: String) -> Self? { all.first { $0.key == key } }
}

struct NotificationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
