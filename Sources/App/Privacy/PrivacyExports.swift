import Fluent
import Foundation
import LendingCore
import Vapor

/// A copy of the person's data (PIPL art. 45): made on request as JSON and as a readable PDF (the contract's PDF
/// engine), sealed under the person's key, downloadable for 24 hours, and recorded in the audit trail.
extension PrivacyCentre {
    struct ExportView: Content {
        let id: UUID
        let createdAt: Date
        let expiresAt: Date
        let json: String
        let pdf: String
    }

    static func exportView(_ row: PrivacyExport) throws -> ExportView {
        let id = try row.requireID().uuidString.lowercased()
        return ExportView(id: try row.requireID(), createdAt: row.createdAt, expiresAt: row.expiresAt,
                          json: "/api/v1/privacy/exports/\(id)?format=json", pdf: "/api/v1/privacy/exports/\(id)?format=pdf")
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    func createExport(_ phoneIndex: String) async throws -> ExportView {
        let data = try await data(phoneIndex)
        let json = try Self.encoder.encode(data)
        let document = Self.document(data, at: now)
        let pdf = try await NIOThreadPool.singleton.runIfActive { try PDFRenderer.render(document) }  // cairo blocks: off the event loops
        let row = PrivacyExport()
        row.id = RandomID.uuid()
        row.phoneIndex = phoneIndex
        row.jsonSealed = try await vault.seal(json.base64EncodedString(), phoneIndex: phoneIndex, as: .general)
        row.pdfSealed = try await vault.seal(pdf.base64EncodedString(), phoneIndex: phoneIndex, as: .general)
        row.createdAt = now
        row.expiresAt = now.addingTimeInterval(Self.exportLifetime)
        let services = services
        try await db.writeTransaction { tx in
            // Older copies of the same person are no longer needed once a new one exists.
            try await PrivacyExport.query(on: tx).filter(\.$phoneIndex == phoneIndex).delete()
            try await row.create(on: tx)
            try await AuditTrail(db: tx, services: services).record(
                application: nil, actor: "applicant", action: "privacy.exported",
                details: ["export": row.id!.uuidString, "jsonBytes": String(json.count), "pdfBytes": String(pdf.count)])
        }
        return try Self.exportView(row)
    }

    /// The person's own export while it lasts (24 hours); 404 for anyone else's, an unknown or an expired one.
    func exportRow(_ phoneIndex: String, id raw: String?) async throws -> PrivacyExport {
        guard let raw, let id = UUID(uuidString: raw), let row = try await PrivacyExport.find(id, on: db), row.phoneIndex == phoneIndex,
            row.expiresAt > now
        else { throw APIError.notFound("export") }
        return row
    }

    /// The export's JSON or PDF file.
    func exportFile(_ row: PrivacyExport, format: String) async throws -> Response {
        switch format {
        case "json":
            guard let json = Data(base64Encoded: try await vault.open(row.jsonSealed)) else { throw APIError.notFound("export") }
            return Self.download(json, type: "application/json; charset=utf-8", name: "yidai-my-data.json")
        case "pdf":
            guard let pdf = Data(base64Encoded: try await vault.open(row.pdfSealed)) else { throw APIError.notFound("export") }
            return Self.download(pdf, type: "application/pdf", name: "yidai-my-data.pdf")
        default:
            throw APIError.invalid("format", "format must be json or pdf.", zh: "下载格式应为JSON或PDF。")
        }
    }

    static func download(_ data: Data, type: String, name: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    // MARK: - The readable copy

    /// Beijing time to the minute, as the workbench shows it; a dash for none.
    static func time(_ date: Date?) -> String { date.map(ConsoleLabels.time) ?? "—" }

    static func document(_ data: PrivacyData, at: Date) -> PrintableDocument {
        typealias F = PrintableDocument.Field
        var blocks: [PrintableDocument.Block] = [
            .title("我的个人信息", subtitle: "易贷为手机号 \(data.phone ?? "—") 保存的全部信息 · 生成于 \(time(at))"),
            .note("本文件依照《个人信息保护法》第四十五条提供，仅供您本人查阅。生物识别信息（人脸图像）不做保存，故不在其中。"),
            .heading("身份信息"),
        ]
        if let id = data.identity {
            blocks.append(.fields([F(label: "姓名", value: id.name ?? "—"), F(label: "身份证号", value: id.idNumber ?? "—"),
                                   F(label: "地址", value: id.address ?? "—"), F(label: "有效期至", value: id.validUntil ?? "—")]))
        } else {
            blocks.append(.paragraph("尚未提供。"))
        }
        if !data.checks.isEmpty {
            blocks.append(.heading("核验结果"))
            blocks.append(.table(columns: [.init(title: "核验", weight: 3), .init(title: "结果", weight: 3), .init(title: "时间", weight: 2)],
                                 rows: data.checks.map { [$0.titleZh, $0.result, time($0.at)] }))
        }
        if let card = data.bankCard {
            blocks.append(.heading("银行卡"))
            blocks.append(.fields([F(label: "卡号", value: card.number), F(label: "银行", value: card.bank ?? "—"), F(label: "验证时间", value: time(card.verifiedAt))]))
        }
        if !data.creditAuthorizations.isEmpty {
            blocks.append(.heading("征信查询授权"))
            blocks.append(.table(columns: [.init(title: "文本版本", weight: 2), .init(title: "签署时间", weight: 2), .init(title: "短信凭证", weight: 3)],
                                 rows: data.creditAuthorizations.map { [$0.version, time($0.signedAt), $0.smsProof ?? "—"] }))
        }
        for report in data.creditReports {
            blocks.append(.heading("征信报告摘要（\(report.reportId)）"))
            blocks.append(.fields([F(label: "账户数", value: String(report.accounts)), F(label: "当前逾期金额", value: report.currentOverdueAmount + " 元"),
                                   F(label: "近24个月逾期月数", value: String(report.overdueMonthsLast24)),
                                   F(label: "近3个月查询次数", value: String(report.inquiriesLast3Months)),
                                   F(label: "月还款额", value: report.monthlyRepayments + " 元")]))
        }
        for facts in data.facts {
            blocks.append(.heading("您填写的信息"))
            blocks.append(.fields([F(label: "工作单位", value: facts.employer), F(label: "月收入", value: facts.monthlyIncome + " 元"),
                                   F(label: "紧急联系人", value: "\(facts.emergencyContact["name"] ?? "") \(facts.emergencyContact["phone"] ?? "")")]))
        }
        if !data.applications.isEmpty {
            blocks.append(.heading("申请与审批结果"))
            blocks.append(.table(columns: [.init(title: "申请时间", weight: 2), .init(title: "状态", weight: 2), .init(title: "结果与原因", weight: 4)],
                                 rows: data.applications.map { [time($0.startedAt), $0.state, ([$0.decision ?? "—"] + $0.reasons).joined(separator: "；")] }))
        }
        for loan in data.loans {
            blocks.append(.heading("借款 \(loan.principal) 元（\(loan.termMonths)期，年利率\(loan.annualRate)%）"))
            blocks.append(.table(columns: [.init(title: "期数", weight: 1), .init(title: "到期日", weight: 2), .init(title: "本金", weight: 2, alignRight: true),
                                           .init(title: "利息", weight: 2, alignRight: true), .init(title: "已还", weight: 2, alignRight: true), .init(title: "状态", weight: 2)],
                                 rows: loan.installments.map { [String($0.number), $0.dueDate, $0.principal, $0.interest, $0.paid, $0.status] }))
        }
        blocks.append(.heading("授权与同意"))
        blocks.append(.table(columns: [.init(title: "事项", weight: 4), .init(title: "版本", weight: 2), .init(title: "同意时间", weight: 2), .init(title: "撤回时间", weight: 2)],
                             rows: data.consents.map { [$0.titleZh, $0.version, time($0.givenAt), time($0.withdrawnAt)] }))
        if !data.messages.isEmpty {
            blocks.append(.heading("与客户经理的消息"))
            blocks.append(.table(columns: [.init(title: "时间", weight: 2), .init(title: "发送方", weight: 1), .init(title: "内容", weight: 5)],
                                 rows: data.messages.map { [time($0.sentAt), $0.from, $0.text] }))
        }
        blocks.append(.heading("银行工作人员查看您完整信息的记录"))
        if data.staffAccess.isEmpty {
            blocks.append(.paragraph("无。"))
        } else {
            blocks.append(.table(columns: [.init(title: "时间", weight: 2), .init(title: "工作人员", weight: 2), .init(title: "信息", weight: 1), .init(title: "原因", weight: 4)],
                                 rows: data.staffAccess.map { [time($0.at), $0.staff, $0.field, $0.reason] }))
        }
        return PrintableDocument(title: "我的个人信息", author: "易贷", footer: "易贷 · 个人信息副本", createdAt: at, blocks: blocks)
    }
}
