import Fluent
import LendingCore
import Vapor

/// "我的贷款": the H5 pages (server-rendered, Chinese, mobile-first, no JavaScript needed) where a borrower sees every
/// application and loan of the signed-in phone, a loan's schedule and balances, and repays: the amount due, any
/// other amount, a payoff quote for the business date, or a partial prepayment with the new plan shown before
/// confirming. Every rule lives in the servicing services; these handlers only call them and lay out their answers.
///
/// Signed-in pages only (routes.swift); a loan of another phone is a 404, exactly like one that does not exist. Every
/// payment form carries a hidden idempotency key made when the form is rendered, so a double submit (or a reload of
/// the POST) pays once.
struct LoanPagesController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let pages = routes.grouped("loans")
        pages.get(use: list)
        let loan = pages.grouped(":loanID")
        loan.get(use: show)
        loan.get("repay", use: repayPage)
        loan.get("payoff", use: payoffPage)
        loan.get("prepay", use: prepayPage)
        loan.post("prepay", use: prepayQuote)
        loan.post("repayments", use: repay)
        loan.get("payments", ":paymentID", use: receipt)
        loan.get("contract.pdf", use: { try await contractFile($0, signature: false) })
        loan.get("contract.p7s", use: { try await contractFile($0, signature: true) })
    }

    // MARK: - Session

    struct LoanSession {
        let page: PageSession
        let servicing: ServicingContext
        /// The signed-in phone: every loan and application of it is the borrower's.
        let phoneIndex: String

        func chrome(_ req: Request, _ title: String) -> PageChrome { page.chrome(req, nil, title: title) }
    }

    func session(_ req: Request) throws -> LoanSession {
        LoanSession(page: try req.pageSession, servicing: req.servicing, phoneIndex: try req.applicant.phoneIndex)
    }

    /// Wraps a handler that needs the session and the loan in the path (of this phone; any other id is 404).
    func withLoan(_ req: Request, _ body: (LoanSession, Loan) async throws -> Response) async throws -> Response {
        let s = try session(req)
        return try await body(s, try await req.ownedLoan(s.servicing))
    }

    static func newKey() -> String { CSRFMiddleware.newToken() }

    // MARK: - The list

    func list(_ req: Request) async throws -> Response {
        let s = try session(req)
        let db = s.servicing.db
        let date = try await s.servicing.businessDates.current()
        let now = s.page.journey.now
        let applications = try await LoanApplication.query(on: db).filter(\.$phoneIndex == s.phoneIndex)
            .sort(\.$createdAt, .descending).all()
        let loans = try await Loan.query(on: db).filter(\.$phoneIndex == s.phoneIndex).sort(\.$disbursedAt, .descending)
            .all()
        var loanItems: [LoansListPageContext.LoanItem] = []
        for loan in loans {
            let positions = try await s.servicing.loans.positions(loan)
            let summary = try LoanPresenter.summary(loan, positions: positions, on: date)
            let (label, tone) = LoanPageLabels.loan(try loan.loanStatus)
            let next = summary.nextPayment
            loanItems.append(
                .init(
                    href: LoanPaths.loan(summary.id), amount: LoanPageLabels.yuan(summary.principal), status: label,
                    tone: tone,
                    terms: "\(loan.termMonths)个月 · \(LoanPageLabels.method(try loan.repaymentMethod))",
                    disbursedOn: LoanPageLabels.civil(summary.disbursedOn),
                    outstanding: LoanPageLabels.yuan(summary.outstandingPrincipal),
                    closed: try loan.loanStatus.isClosed,
                    closedOn: summary.closedOn.map { LoanPageLabels.civil($0) },
                    nextAmount: next.map { LoanPageLabels.yuan($0.amount) },
                    nextDue: next.map { LoanPageLabels.civil($0.dueDate) },
                    nextOverdue: next.map { (CivilDate(iso: $0.dueDate) ?? date) < date } ?? false))
        }
        let current = s.page.application.id
        var appItems: [LoansListPageContext.ApplicationItem] = []
        for application in applications {
            let (label, tone) = try LoanPageLabels.application(application, now: now)
            let loan = loans.first { $0.applicationID == application.id }
            let created = application.createdAt.map(PageFormat.date) ?? ""
            var detail = "申请于 \(created)"
            if let amount = application.loanAmount, let months = application.loanTermMonths {
                detail = "借款\(PageFormat.yuan(amount))元 · \(months)个月 · 申请于 \(created)"
            } else if let limit = application.creditLimit, try application.applicationState == .approved {
                detail = "可借额度\(PageFormat.wholeYuan(limit))元 · 申请于 \(created)"
            }
            // What a stopped or waiting application is waiting for, and what the applicant can do.
            let state = try application.applicationState
            if application.stopStep != nil && !state.isTerminal {
                if let until = application.faceLockedUntil, until > now {
                    detail = "人脸识别失败次数过多，已锁定至 \(PageFormat.time(until))，届时可继续申请。"
                } else {
                    detail = StopMessages.chinese(application.stopReason)
                }
            } else if state == .referred {
                let contact = try await ReviewContact.find(for: application, on: db, now: now)
                detail = "预计 \(PageFormat.time(contact.dueBy)) 前完成审核，\(contact.who)将与您联系。"
            }
            var href: String?
            var action: String?
            if let loan, let id = loan.id {
                (href, action) = (LoanPaths.loan(id), "查看贷款")
            } else if application.id == current {
                switch try application.applicationState {
                case .loanRequested: (href, action) = (ContractPagesController.page, "签署合同")
                case .contractSigned, .disbursing: (href, action) = (ContractPagesController.page, "查看合同")
                case .cancelled, .expired, .disbursed: break
                case .referred: (href, action) = (JourneyPaths.result, "查看审核进度")
                case .declined: (href, action) = (JourneyPaths.result, "查看原因")
                default:
                    if application.stopStep != nil {
                        (href, action) = (JourneyPaths.resume, "查看原因与办理方式")
                    } else {
                        (href, action) = (JourneyPaths.resume, "继续申请")
                    }
                }
            }
            appItems.append(
                .init(
                    title: application.id == current ? "当前申请" : "申请记录", status: label, tone: tone, detail: detail,
                    href: href,
                    action: action))
        }
        let context = LoansListPageContext(
            page: s.chrome(req, "我的贷款"), businessDate: PageFormat.civil(date), loans: loanItems, applications: appItems,
            hasLoans: !loanItems.isEmpty, hasApplications: !appItems.isEmpty)
        return try await req.renderPage("loans/list", context)
    }

    // MARK: - One loan

    func show(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            let id = try loan.requireID()
            let detail = try await s.servicing.loans.detail(loan)
            let date = CivilDate(iso: detail.businessDate)!
            let (label, tone) = LoanPageLabels.loan(try loan.loanStatus)
            let payments = try await Payment.query(on: s.servicing.db).filter(\.$loanID == id).filter(
                \.$kind != "disbursement"
            )
            .sort(\.$createdAt, .descending).all()
            // Everything collected from the card for this loan (a prepayment's principal leaves the re-planned schedule).
            let collectedFen = payments.filter { $0.state == .succeeded }.reduce(Int64(0)) {
                $0 + ($1.movedFen ?? 0)
            }
            let next = detail.loan.nextPayment.map { next in
                let due = CivilDate(iso: next.dueDate) ?? date
                return LoanDetailPageContext.NextPayment(
                    installment: next.installment, dueDate: LoanPageLabels.civil(next.dueDate),
                    amount: LoanPageLabels.yuan(next.amount), owedNow: due <= date, overdue: due < date)
            }
            let b = detail.balances
            let balances = LoanDetailPageContext.Balances(
                outstandingPrincipal: LoanPageLabels.yuan(b.outstandingPrincipal),
                dueNow: LoanPageLabels.yuan(b.dueNow),
                hasDue: !LoanPageLabels.isZero(b.dueNow), overduePrincipal: LoanPageLabels.yuan(b.overduePrincipal),
                overdueInterest: LoanPageLabels.yuan(b.overdueInterest),
                penaltyInterest: LoanPageLabels.yuan(b.penaltyInterest),
                hasOverdue: !LoanPageLabels.isZero(b.overduePrincipal) || !LoanPageLabels.isZero(b.overdueInterest)
                    || !LoanPageLabels.isZero(b.penaltyInterest),
                paidTotal: LoanPageLabels.yuan(Money.string(fen: collectedFen)))
            let rows = detail.schedule.map { row in
                LoanDetailPageContext.ScheduleRow(
                    number: row.number, dueDate: row.dueDate, status: row.status, statusZh: row.statusZh,
                    payment: LoanPageLabels.yuan(row.payment), principal: LoanPageLabels.yuan(row.principal),
                    interest: LoanPageLabels.yuan(row.interest),
                    penalty: LoanPageLabels.isZero(row.penaltyInterest)
                        ? nil : LoanPageLabels.yuan(row.penaltyInterest),
                    paid: row.status != "paid" && !LoanPageLabels.isZero(row.paid)
                        ? LoanPageLabels.yuan(row.paid) : nil,
                    isNext: row.number == detail.loan.nextPayment?.installment)
            }
            let paymentRows = try payments.prefix(30).compactMap { payment -> LoanDetailPageContext.PaymentRow? in
                guard let pid = payment.id else { return nil }
                let (state, tone) = Self.paymentState(payment.state)
                return .init(
                    date: payment.businessDate,
                    kind: payment.kind == "autodebit" ? "自动扣款" : LoanPageLabels.repaymentType(try payment.repayment),
                    // What moved when it succeeded, else what was asked (a refused auto-debit moved nothing).
                    amount: LoanPageLabels.yuan(
                        Money.string(
                            fen: payment.state == .succeeded
                                ? (payment.movedFen ?? payment.requestedFen) : payment.requestedFen)),
                    state: state,
                    tone: tone, href: LoanPaths.payment(id, pid))
            }
            let application = try await LoanApplication.find(loan.applicationID, on: s.servicing.db)
            let signed = try await SignedContract.query(on: s.servicing.db).filter(
                \.$applicationID == loan.applicationID
            ).first()
            // The contract's own routes serve the session's application; another loan of the phone downloads here.
            let isSessionLoan = loan.applicationID == s.page.application.id
            let context = LoanDetailPageContext(
                page: s.chrome(req, "贷款详情"), notice: nil, amount: LoanPageLabels.yuan(detail.loan.principal),
                status: label,
                tone: tone, closed: try loan.loanStatus.isClosed,
                closedOn: detail.loan.closedOn.map { LoanPageLabels.civil($0) },
                annualRate: PageFormat.percent(loan.annualRate), termMonths: loan.termMonths,
                method: LoanPageLabels.method(try loan.repaymentMethod),
                disbursedOn: LoanPageLabels.civil(loan.startDate),
                businessDate: PageFormat.civil(date), card: application?.cardMasked, bank: application?.cardBank,
                next: next,
                balances: balances, rows: rows, payments: paymentRows, hasPayments: !paymentRows.isEmpty,
                repayHref: LoanPaths.repay(id),
                prepayHref: LoanPaths.prepay(id), payoffHref: LoanPaths.payoff(id),
                contractPDF: signed == nil ? nil : (isSessionLoan ? "/loan/contract.pdf" : LoanPaths.contractPDF(id)),
                contractSignature: signed == nil
                    ? nil : (isSessionLoan ? "/loan/contract.p7s" : LoanPaths.contractSignature(id)),
                contractPage: isSessionLoan ? ContractPagesController.page : nil)
            return try await req.renderPage("loans/loan", context)
        }
    }

    static func paymentState(_ state: PaymentState) -> (String, String) {
        switch state {
        case .succeeded: ("成功", "ok")
        case .failed: ("失败", "warn")
        case .pending: ("处理中", "pending")
        }
    }

    // MARK: - Repay: the amount due or any other amount

    func repayPage(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            guard try !loan.loanStatus.isClosed else {
                return req.redirect(to: LoanPaths.loan(try loan.requireID()), redirectType: .normal)
            }
            return try await renderRepay(req, s, loan, form: FormState())
        }
    }

    func renderRepay(_ req: Request, _ s: LoanSession, _ loan: Loan, form: FormState, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let id = try loan.requireID()
        let detail = try await s.servicing.loans.detail(loan)
        let date = CivilDate(iso: detail.businessDate)!
        let next = detail.loan.nextPayment
        let upcoming = next.flatMap { CivilDate(iso: $0.dueDate).map { $0 > date } } ?? false
        let context = RepayPageContext(
            page: s.chrome(req, "还款"), form: form, loanHref: LoanPaths.loan(id), action: LoanPaths.repayments(id),
            businessDate: PageFormat.civil(date), dueNow: LoanPageLabels.yuan(detail.balances.dueNow),
            hasDue: !LoanPageLabels.isZero(detail.balances.dueNow), overdue: try loan.loanStatus == .overdue,
            dueKey: Self.newKey(),
            amountKey: Self.newKey(), nextAmount: upcoming ? next.map { LoanPageLabels.yuan($0.amount) } : nil,
            nextDue: upcoming ? next.map { LoanPageLabels.civil($0.dueDate) } : nil, prepayHref: LoanPaths.prepay(id),
            payoffHref: LoanPaths.payoff(id))
        return try await req.renderPage("loans/repay", context, status: status)
    }

    // MARK: - Payoff: the quote for today's business date, then confirm

    func payoffPage(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            guard try !loan.loanStatus.isClosed else {
                return req.redirect(to: LoanPaths.loan(try loan.requireID()), redirectType: .normal)
            }
            return try await renderPayoff(req, s, loan, form: FormState())
        }
    }

    func renderPayoff(_ req: Request, _ s: LoanSession, _ loan: Loan, form: FormState, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let id = try loan.requireID()
        let quote = try await s.servicing.loans.payoffQuote(loan)
        let context = PayoffPageContext(
            page: s.chrome(req, "提前结清"), form: form, loanHref: LoanPaths.loan(id), action: LoanPaths.repayments(id),
            validOn: LoanPageLabels.civil(quote.validOn), amount: LoanPageLabels.yuan(quote.amount),
            rawAmount: quote.amount,
            principal: LoanPageLabels.yuan(quote.principal), interest: LoanPageLabels.yuan(quote.interest),
            accruedInterest: LoanPageLabels.yuan(quote.accruedInterest), accruedDays: quote.accruedDays,
            penaltyInterest: LoanPageLabels.yuan(quote.penaltyInterest),
            hasPenalty: !LoanPageLabels.isZero(quote.penaltyInterest),
            interestSaved: LoanPageLabels.yuan(quote.interestSaved), key: Self.newKey())
        return try await req.renderPage("loans/payoff", context, status: status)
    }

    // MARK: - Partial prepayment: choose, see the new plan, confirm

    struct PrepayForm: Content {
        var amount: String?
        var prepaymentMode: String?
    }

    static let prepayFields = FormState.same("amount", "prepaymentMode")

    func prepayPage(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            guard try !loan.loanStatus.isClosed else {
                return req.redirect(to: LoanPaths.loan(try loan.requireID()), redirectType: .normal)
            }
            let form = FormState(values: ["prepaymentMode": PrepaymentOption.shortenTerm.rawValue])
            return try await renderPrepay(req, s, loan, form: form, quote: nil)
        }
    }

    /// "试算": the new plan for the amount and choice, shown with the confirm button (nothing is paid yet).
    func prepayQuote(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            let body = try req.content.decode(PrepayForm.self)
            let amount = Self.cleanAmount(body.amount)
            var form = FormState(values: ["amount": body.amount ?? "", "prepaymentMode": body.prepaymentMode ?? ""])
            do {
                let quote = try await s.servicing.loans.prepaymentQuote(
                    loan, PrepaymentQuoteRequest(amount: amount, prepaymentMode: body.prepaymentMode))
                return try await renderPrepay(req, s, loan, form: form, quote: .init(quote, rawPrincipal: amount))
            } catch let error as APIError {
                if error.code == "loan_closed" {
                    return req.redirect(to: LoanPaths.loan(try loan.requireID()), redirectType: .normal)
                }
                form.record(error, fieldMap: Self.prepayFields)
                return try await renderPrepay(req, s, loan, form: form, quote: nil, status: error.status)
            }
        }
    }

    func renderPrepay(
        _ req: Request, _ s: LoanSession, _ loan: Loan, form: FormState, quote: PrepayPageContext.Quote?,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let id = try loan.requireID()
        let detail = try await s.servicing.loans.detail(loan)
        let modes = [
            (PrepaymentOption.shortenTerm, "月供基本不变，减少还款期数，节省利息更多"),
            (PrepaymentOption.lowerInstallment, "还款期数不变，每月还款金额减少"),
        ].map {
            PrepayPageContext.ModeChoice(
                value: $0.0.rawValue, label: LoanPageLabels.mode($0.0.rawValue), hint: $0.1,
                selected: form.values["prepaymentMode"] == $0.0.rawValue)
        }
        let context = PrepayPageContext(
            page: s.chrome(req, "提前还款"), form: form, loanHref: LoanPaths.loan(id), quoteAction: LoanPaths.prepay(id),
            payAction: LoanPaths.repayments(id), businessDate: PageFormat.civil(CivilDate(iso: detail.businessDate)!),
            outstandingPrincipal: LoanPageLabels.yuan(detail.balances.outstandingPrincipal), modes: modes, quote: quote,
            key: Self.newKey())
        return try await req.renderPage("loans/prepay", context, status: status)
    }

    static func cleanAmount(_ raw: String?) -> String {
        (raw ?? "").filter { $0 != "," && $0 != "，" && !$0.isWhitespace && $0 != "元" }
    }

    // MARK: - Paying (every payment form posts here)

    struct RepaymentForm: Content {
        var type: String?
        var amount: String?
        var prepaymentMode: String?
        var idempotencyKey: String?
    }

    func repay(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            let id = try loan.requireID()
            let body = try req.content.decode(RepaymentForm.self)
            let amount = body.amount.map { Self.cleanAmount($0) }
            let request = RepaymentRequest(type: body.type, amount: amount, prepaymentMode: body.prepaymentMode)
            do {
                let answer = try await s.servicing.repayments.repay(
                    loanID: id, request, idempotencyKey: body.idempotencyKey)
                return req.redirect(to: LoanPaths.payment(id, answer.view.id), redirectType: .normal)
            } catch let error as APIError {
                if error.code == "loan_closed" { return req.redirect(to: LoanPaths.loan(id), redirectType: .normal) }
                switch body.type {
                case "payoff":
                    var form = FormState()
                    form.record(error, fieldMap: [:])
                    return try await renderPayoff(req, s, loan, form: form, status: error.status)
                case "prepayment":
                    var form = FormState(values: [
                        "amount": body.amount ?? "", "prepaymentMode": body.prepaymentMode ?? "",
                    ])
                    form.record(error, fieldMap: Self.prepayFields)
                    let quote = try? await s.servicing.loans.prepaymentQuote(
                        loan, PrepaymentQuoteRequest(amount: amount, prepaymentMode: body.prepaymentMode))
                    return try await renderPrepay(
                        req, s, loan, form: form, quote: quote.map { .init($0, rawPrincipal: amount ?? "") },
                        status: error.status)
                default:
                    var form = FormState(values: ["amount": body.type == "amount" ? body.amount ?? "" : ""])
                    form.record(error, fieldMap: body.type == "amount" ? ["amount": "amount"] : [:])
                    return try await renderRepay(req, s, loan, form: form, status: error.status)
                }
            }
        }
    }

    // MARK: - The receipt

    func receipt(_ req: Request) async throws -> Response {
        try await withLoan(req) { s, loan in
            let id = try loan.requireID()
            guard let raw = req.parameters.get("paymentID"), let paymentID = UUID(uuidString: raw),
                let payment = try await Payment.find(paymentID, on: s.servicing.db), payment.loanID == id
            else { throw APIError.notFound("payment") }
            // A pending payment (its answer was lost) is finished by the server's worker, never by viewing a page:
            // GET moves no money.
            let stored = try RepaymentService.storedAnswer(payment).view
            let current = try await Loan.find(id, on: s.servicing.db) ?? loan
            let detail = try await s.servicing.loans.detail(current)
            let closed = try current.loanStatus.isClosed
            let (heading, message): (String, String) =
                switch payment.state {
                case .succeeded:
                    closed
                        ? ("还款成功，贷款已结清", "本笔贷款已全部还清，感谢您的信任。")
                        : ("还款成功", "款项已从您的银行卡扣划，并已计入您的贷款。")
                case .failed:
                    (
                        "还款未成功",
                        payment.failureCode == "insufficient_funds"
                            ? "银行卡余额不足，本次未扣款。请确认余额后重新还款。" : "银行卡扣款未成功，本次未扣款。请稍后重新还款。"
                    )
                case .pending: ("还款处理中", "银行正在确认扣款结果，请稍后刷新本页查看。同一笔还款不会重复扣款。")
                }
            let split = stored.allocation
            let context = ReceiptPageContext(
                page: s.chrome(req, heading), loanHref: LoanPaths.loan(id),
                refreshHref: LoanPaths.payment(id, paymentID),
                state: payment.state.rawValue, heading: heading, message: message,
                kind: payment.kind == "autodebit" ? "自动扣款" : LoanPageLabels.repaymentType(try payment.repayment),
                mode: payment.prepaymentMode.map { LoanPageLabels.mode($0) },
                amount: LoanPageLabels.yuan(stored.amount),
                collected: stored.collected.map(LoanPageLabels.yuan),
                penalty: split.map { LoanPageLabels.yuan($0.penalty) },
                interest: split.map { LoanPageLabels.yuan($0.interest) },
                principal: split.map { LoanPageLabels.yuan($0.principal) },
                businessDate: LoanPageLabels.civil(payment.businessDate), reference: payment.providerReference,
                loanStatus: LoanPageLabels.loan(try current.loanStatus).label, loanClosed: closed,
                outstandingPrincipal: LoanPageLabels.yuan(detail.balances.outstandingPrincipal),
                nextLabel: detail.loan.nextPayment.map { $0.dueDate <= detail.businessDate } == true ? "当前应还" : "下期应还",
                nextAmount: detail.loan.nextPayment.map { LoanPageLabels.yuan($0.amount) },
                nextDue: detail.loan.nextPayment.map { LoanPageLabels.civil($0.dueDate) })
            return try await req.renderPage("loans/receipt", context)
        }
    }

    // MARK: - Contract files of a loan that is not the session's application

    func contractFile(_ req: Request, signature: Bool) async throws -> Response {
        try await withLoan(req) { s, loan in
            let contracts = ContractService(journey: s.page.journey, threadPool: req.application.threadPool)
            guard let application = try await LoanApplication.find(loan.applicationID, on: s.servicing.db),
                let record = try await contracts.signedContract(of: application)
            else { throw APIError.notFound("contract") }
            if signature {
                return ContractAPIController.download(
                    record.signature, type: HTTPMediaType(type: "application", subType: "pkcs7-signature"),
                    fileName: "contract-\(record.contractNumber).p7s")
            }
            return ContractAPIController.download(
                try await contracts.pdf(of: record), type: HTTPMediaType(type: "application", subType: "pdf"),
                fileName: "contract-\(record.contractNumber).pdf")
        }
    }
}
