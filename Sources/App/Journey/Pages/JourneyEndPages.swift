import LendingCore
import Vapor

/// Where a journey ends on the pages: the loan request made (then the contract), or stopped (by a check, a lock,
/// the applicant or time), with what to do next.
struct JourneyEndPages: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.grouped(JourneyStepGuard(JourneyPaths.done)).get("done", use: donePage)
        routes.grouped(JourneyStepGuard(JourneyPaths.stopped)).get("stopped", use: stoppedPage)
    }

    func donePage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        guard let loan = s.view.loanRequest else { return req.redirect(to: JourneyPaths.result, redirectType: .normal) }
        let context = DonePageContext(
            page: s.chrome(req, .done, title: "申请已提交"),
            stateTitle: try s.application.applicationState.titleZh,
            amount: PageFormat.yuan(loan.amount), termMonths: loan.termMonths,
            method: PageFormat.methodTitle(try StoredValues.decode(loan.method, "repayment method")),
            purpose: PageFormat.purposeTitle(loan.purpose),
            firstPayment: loan.firstPayment.map(PageFormat.yuan),
            totalInterest: loan.totalInterest.map(PageFormat.yuan),
            apr: loan.apr.map { PageFormat.percent($0) }, bankCard: s.view.applicant.bankCard,
            bank: s.view.applicant.bank,
            requestedAt: PageFormat.time(loan.requestedAt))
        return try await req.renderPage("journey/done", context)
    }

    func stoppedPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let app = s.application
        let state = try app.applicationState
        let heading: String
        let message: String
        var detail: String?
        var retryAt: String?
        var canRestart = false
        switch app.stopReason {
        case "identity_mismatch":
            heading = "身份核验未通过"
            message = StopMessages.chinese(app.stopReason)
            detail = "为保障您的资金安全，您填写的姓名与身份证号码须与公安部公民身份信息一致。如您的证件信息有变更，请携带本人有效身份证件到我行任一网点办理。"
        case "liveness_failed", "face_mismatch":
            heading = "人脸识别暂时无法继续"
            message = StopMessages.chinese(app.stopReason)
            detail = "请在光线充足的环境下，由本人正对手机完成识别。"
            retryAt = app.faceLockedUntil.map(PageFormat.time)
        case "phone_not_owned":
            heading = "手机号核验未通过"
            message = StopMessages.chinese(app.stopReason)
            detail = "请使用您本人实名登记的手机号重新申请，或携带身份证到我行网点办理。"
        default:
            if state == .expired {
                heading = "申请已过期"
                message = "您的申请超过30天未操作，已自动失效。"
            } else if state == .cancelled {
                heading = "申请已取消"
                message = "您已取消本次申请。"
            } else {
                heading = "申请无法继续"
                message = StopMessages.chinese(app.stopReason)
            }
            detail = "如仍有资金需求，您可以重新发起申请。"
            canRestart = state == .expired || state == .cancelled
        }
        let context = StoppedPageContext(
            page: s.chrome(req, nil, title: heading), heading: heading, message: message, detail: detail,
            retryAt: retryAt, canRestart: canRestart)
        return try await req.renderPage("journey/stopped", context)
    }
}
