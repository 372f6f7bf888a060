import Foundation
import LendingCore

/// What a loan contract is made of, from the facts of one loan request. The same content is shown as the page's
/// text and printed as the PDF, and it is stored with the signed contract (what was signed, in words).
struct ContractContent: Codable, Sendable, Equatable {
    static let templateVersion = "YD-LOAN-2026-01"
    static let lenderName = "易贷合作银行（演示）"
    static let title = "个人借款合同"

    /// The facts a contract is generated from (read from the application; personal data already masked except the name).
    struct Facts: Sendable {
        var applicationID: UUID
        var requestedOn: CivilDate
        /// Today's business date: the repayment plan is laid out as if the money were paid out today.
        var businessDate: CivilDate
        var borrowerName: String
        var borrowerIDMasked: String
        var borrowerPhoneMasked: String
        var amount: Decimal
        var termMonths: Int
        var method: RepaymentMethod
        var annualRatePercent: Decimal
        var purpose: String
        var cardMasked: String
        var cardBank: String
        var authorizationVersion: String
        var authorizationSHA256: String
        var authorizationSignedAt: Date
    }

    struct Field: Codable, Sendable, Equatable {
        let label: String
        let value: String
        var prominent = false
    }

    struct Section: Codable, Sendable, Equatable {
        let title: String
        let paragraphs: [String]
    }

    struct PlanRow: Codable, Sendable, Equatable {
        let number: Int
        let dueDate: String
        let payment: String
        let principal: String
        let interest: String
        let remainingPrincipal: String
    }

    let templateVersion: String
    let contractNumber: String
    let title: String
    let businessDate: String
    let lender: String
    let borrowerName: String
    let borrowerIDMasked: String
    let borrowerPhoneMasked: String
    let amount: String
    let amountInWords: String
    let termMonths: Int
    let method: String
    let methodTitle: String
    /// Percent with two decimals at least: "7.20".
    let annualRate: String
    let apr: String
    let penaltyRate: String
    let purpose: String
    let purposeTitle: String
    let totalInterest: String
    let totalPayment: String
    let cardMasked: String
    let cardBank: String
    let authorizationVersion: String
    let authorizationSHA256: String
    let authorizationSignedAt: String
    let summary: [Field]
    let sections: [Section]
    let plan: [PlanRow]
    let planNote: String

    static func make(_ facts: Facts) throws(FieldError) -> ContractContent {
        let terms = LoanTerms(
            principal: facts.amount, annualRatePercent: facts.annualRatePercent, termMonths: facts.termMonths,
            method: facts.method, startDate: facts.businessDate)
        let schedule = try LoanCalculator.schedule(for: terms)
        let compactID = facts.applicationID.uuidString.replacingOccurrences(of: "-", with: "").prefix(10).uppercased()
        let number = "YD\(facts.requestedOn.iso.replacingOccurrences(of: "-", with: ""))-\(compactID)"
        let rate = ContractFormat.percent(facts.annualRatePercent)
        let apr = ContractFormat.percent(schedule.apr)
        let penalty = ContractFormat.percent(facts.annualRatePercent * PenaltyInterest.markup)  // what servicing accrues
        let amount = ContractFormat.yuan(Money.string(facts.amount))
        let amountFen = Money.fen(exactly: Money.roundHalfEven(facts.amount)) ?? 0
        let words = ContractFormat.chineseUppercase(fen: amountFen)
        let purposeTitle = LoanOfferRules.purposes.first { $0.code == facts.purpose }?.titleZh ?? facts.purpose
        let methodTitle = ContractFormat.methodTitle(facts.method)
        let first = schedule.installments.first!
        let last = schedule.installments.last!
        let signedAt = ContractFormat.time(facts.authorizationSignedAt)
        let rows = schedule.installments.map {
            PlanRow(
                number: $0.number, dueDate: $0.dueDate.iso,
                payment: ContractFormat.yuan(Money.string(fen: $0.paymentFen)),
                principal: ContractFormat.yuan(Money.string(fen: $0.principalFen)),
                interest: ContractFormat.yuan(Money.string(fen: $0.interestFen)),
                remainingPrincipal: ContractFormat.yuan(Money.string(fen: $0.remainingPrincipalFen)))
        }
        let totalInterest = ContractFormat.yuan(Money.string(schedule.totalInterest))
        let totalPayment = ContractFormat.yuan(Money.string(schedule.totalPayment))
        let planNote =
            "以下还款计划按\(ContractFormat.civil(facts.businessDate))放款测算，还款日以实际放款日为准（每期还款日为放款日在各月的对应日，无对应日的为该月最后一日），各期金额按实际放款日重新计算并以放款通知为准。单位：元。"

        let summary = [
            Field(label: "借款金额", value: "\(amount)元", prominent: true),
            Field(label: "年利率（单利）", value: "\(rate)%", prominent: true),
            Field(label: "年化利率（APR）", value: "\(apr)%", prominent: true),
            Field(label: "借款期限", value: "\(facts.termMonths)个月"),
            Field(label: "还款方式", value: methodTitle),
            Field(label: "借款用途", value: purposeTitle),
            Field(label: "利息总额（测算）", value: "\(totalInterest)元"),
            Field(label: "还款总额（测算）", value: "\(totalPayment)元"),
            Field(label: "罚息年利率", value: "\(penalty)%"),
            Field(label: "放款及还款账户", value: "\(facts.cardBank) \(facts.cardMasked)"),
        ]
        let sections = [
            Section(
                title: "合同当事人",
                paragraphs: [
                    "贷款人：\(lenderName)（以下简称“贷款人”）。",
                    "借款人：\(facts.borrowerName)，居民身份证号码 \(facts.borrowerIDMasked)，手机号码 \(facts.borrowerPhoneMasked)（以下简称“借款人”）。",
                    "借款人通过易贷平台在线申请个人信用贷款，经贷款人审批同意。双方依据《中华人民共和国民法典》《商业银行互联网贷款管理暂行办法》等法律法规，经平等协商，订立本合同。",
                ]),
            Section(
                title: "第一条 借款金额与用途",
                paragraphs: [
                    "贷款人向借款人发放个人信用贷款人民币\(amount)元（大写：\(words)）。",
                    "借款用途：\(purposeTitle)。借款人保证借款用于上述合法消费用途，不用于购房、偿还住房贷款，不用于股票、证券、期货、理财等投资，不用于任何法律法规禁止的用途。贷款人有权检查借款用途。",
                ]),
            Section(
                title: "第二条 借款期限",
                paragraphs: [
                    "借款期限为\(facts.termMonths)个月，自实际放款日起算。按\(ContractFormat.civil(facts.businessDate))放款测算，首期还款日为\(ContractFormat.civil(first.dueDate))，末期还款日为\(ContractFormat.civil(last.dueDate))；实际日期以实际放款日为准。"
                ]),
            Section(
                title: "第三条 利率、年化利率与费用",
                paragraphs: [
                    "借款年利率为\(rate)%（单利，按月计息，月利率为年利率除以12）。按内部收益率（IRR）法计算的年化利率（APR）为\(apr)%。",
                    "除本合同约定的利息和罚息外，贷款人不向借款人收取任何其他费用。",
                ]),
            Section(
                title: "第四条 还款方式",
                paragraphs: [
                    "还款方式为\(methodTitle)：\(ContractFormat.methodDescription(facts.method))",
                    "借款人授权贷款人在每期还款日从下述放款账户扣收当期应还款项。借款人应在还款日前存入足额资金。",
                ]),
            Section(
                title: "第五条 放款",
                paragraphs: [
                    "贷款人在本合同生效后将借款一次性发放至借款人本人名下、已经银联鉴权核验的借记卡：\(facts.cardBank) \(facts.cardMasked)。该账户同时为还款账户。"
                ]),
            Section(
                title: "第六条 逾期与罚息",
                paragraphs: [
                    "借款人未按期足额归还本金的，对逾期本金自逾期之日起按罚息利率计收罚息，直至清偿之日。罚息利率为本合同利率上浮50%，即年利率\(penalty)%，按实际逾期天数计算，日罚息利率为罚息年利率除以360。",
                    "借款人逾期的，贷款人有权依法向金融信用信息基础数据库报送逾期信息，并可依法催收。",
                ]),
            Section(
                title: "第七条 提前还款",
                paragraphs: [
                    "借款人可随时申请提前归还全部或部分借款，贷款人不收取违约金或手续费。提前归还的本金自上一还款日（首期前为放款日）起至提前还款日止按实际天数计息（年利率除以360）。",
                    "部分提前还款后，借款人可选择缩短借款期限（每期还款额不变）或减少每期还款额（期数不变），剩余各期还款日不变。",
                ]),
            Section(
                title: "第八条 征信授权与信息报送",
                paragraphs: [
                    "本借款以借款人于\(signedAt)以短信验证码签署的《个人征信查询授权书》（版本 \(facts.authorizationVersion)，SHA-256 \(facts.authorizationSHA256)）为依据查询的个人信用报告为基础审批。",
                    "借款人同意贷款人依法向金融信用信息基础数据库报送本合同项下的借款及还款信息。",
                ]),
            Section(
                title: "第九条 个人信息保护",
                paragraphs: [
                    "贷款人依照《中华人民共和国个人信息保护法》处理借款人的个人信息，仅用于本借款的审批、发放、管理和依法报送，加密存储，按法律法规要求的期限保存。借款人可依法查阅、复制、更正其个人信息。"
                ]),
            Section(
                title: "第十条 电子签名与合同生效",
                paragraphs: [
                    "借款人以发送至其本人手机的短信验证码确认签署本合同，贷款人以其数字证书对本合同文件进行电子签名。依照《中华人民共和国电子签名法》第十三条、第十四条，该电子签名与手写签名或者盖章具有同等的法律效力。",
                    "本合同文件的SHA-256摘要、签署时间、借款人身份核验记录（身份证、人脸、银行卡）、短信验证记录、签署设备与网络地址一并保存；对合同文件或签名的任何改动均可被发现。本合同自借款人签署、贷款人电子签名完成之日起生效。",
                ]),
            Section(
                title: "第十一条 争议解决",
                paragraphs: [
                    "因本合同发生的争议，双方协商解决；协商不成的，任何一方可向贷款人住所地有管辖权的人民法院提起诉讼。"
                ]),
        ]
        return ContractContent(
            templateVersion: templateVersion, contractNumber: number, title: title,
            businessDate: facts.businessDate.iso,
            lender: lenderName, borrowerName: facts.borrowerName, borrowerIDMasked: facts.borrowerIDMasked,
            borrowerPhoneMasked: facts.borrowerPhoneMasked, amount: Money.string(facts.amount), amountInWords: words,
            termMonths: facts.termMonths, method: facts.method.rawValue, methodTitle: methodTitle, annualRate: rate,
            apr: apr,
            penaltyRate: penalty, purpose: facts.purpose, purposeTitle: purposeTitle, totalInterest: totalInterest,
            totalPayment: totalPayment, cardMasked: facts.cardMasked, cardBank: facts.cardBank,
            authorizationVersion: facts.authorizationVersion, authorizationSHA256: facts.authorizationSHA256,
            authorizationSignedAt: signedAt, summary: summary, sections: sections, plan: rows, planNote: planNote)
    }

    /// The PDF's layout of this content.
    func printable(createdAt: Date) -> PrintableDocument {
        var blocks: [PrintableDocument.Block] = [
            .title(title, subtitle: "合同编号 \(contractNumber) · 模板版本 \(templateVersion) · 生成日期 \(businessDate)"),
            .heading("主要条款"),
            .fields(summary.map { PrintableDocument.Field(label: $0.label, value: $0.value, prominent: $0.prominent) }),
        ]
        for section in sections {
            blocks.append(.heading(section.title))
            blocks += section.paragraphs.map { .paragraph($0) }
        }
        blocks.append(.heading("附件 还款计划"))
        blocks.append(.note(planNote))
        blocks.append(
            .table(
                columns: [
                    .init(title: "期数", weight: 0.7), .init(title: "还款日", weight: 1.6),
                    .init(title: "应还金额", weight: 1.6, alignRight: true),
                    .init(title: "本金", weight: 1.6, alignRight: true),
                    .init(title: "利息", weight: 1.4, alignRight: true),
                    .init(title: "剩余本金", weight: 1.7, alignRight: true),
                ],
                rows: plan.map {
                    [String($0.number), $0.dueDate, $0.payment, $0.principal, $0.interest, $0.remainingPrincipal]
                }
                    + [
                        [
                            "合计", "", totalPayment, ContractFormat.yuan(Money.string(Money.parse(amount) ?? 0)),
                            totalInterest, "",
                        ]
                    ]))
        blocks.append(.heading("签署"))
        blocks.append(.paragraph("借款人（电子签名）：\(borrowerName)　　以短信验证码确认签署"))
        blocks.append(.paragraph("贷款人（电子签名）：\(lender)　　以数字证书签名（CMS，随附签名文件 .p7s）"))
        blocks.append(.note("签署时间、签名与核验记录见随附的签名文件和签署证据；本文件的任何改动都会使签名验证失败。"))
        return PrintableDocument(
            title: "\(title) \(contractNumber)", author: lender,
            footer: "\(title) · 合同编号 \(contractNumber) · 模板 \(templateVersion)", createdAt: createdAt, blocks: blocks)
    }
}

/// Number and date formats of the contract (the page shows the same strings).
enum ContractFormat {
    /// "200000.00" → "200,000.00", as the pages write it.
    static func yuan(_ amount: String) -> String { PageFormat.yuan(amount) }

    /// At least two decimals, at most four, no trailing zeros beyond two: 7.2 → "7.20", 11.025 → "11.025".
    static func percent(_ value: Decimal) -> String {
        var v = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &v, 4, .bankers)
        var text = NSDecimalNumber(decimal: rounded).stringValue
        if !text.contains(".") { text += "." }
        let decimals =
            text.count - (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? 0) - 1
        if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
        return text
    }

    /// 2026-12-15 → 2026年12月15日.
    static func civil(_ date: CivilDate) -> String { PageFormat.civil(date) }

    /// A time in China Standard Time: "2026-07-25 15:04:05".
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func methodTitle(_ method: RepaymentMethod) -> String { PageFormat.methodTitle(method) }

    static func methodDescription(_ method: RepaymentMethod) -> String {
        switch method {
        case .equalInstallment: "每期偿还相同金额（含本金和利息），末期偿还剩余全部本息。"
        case .equalPrincipal: "每期偿还相同本金，利息按剩余本金计算，逐期递减。"
        case .interestFirst: "每期偿还当期利息，末期偿还全部本金及当期利息。"
        }
    }

    /// The amount in capital Chinese numerals, as written on financial documents: 50000.00 → 人民币伍万元整.
    static func chineseUppercase(fen: Int64) -> String {
        let digits = Array("零壹贰叁肆伍陆柒捌玖").map(String.init)
        let units = ["", "拾", "佰", "仟"]
        let groupUnits = ["", "万", "亿", "万亿"]
        let powers = [1, 10, 100, 1000]
        var yuan = fen / 100
        let jiao = Int(fen / 10 % 10)
        let cents = Int(fen % 10)
        var text = ""
        if yuan > 0 {
            var groups: [Int] = []
            while yuan > 0 {
                groups.append(Int(yuan % 10_000))
                yuan /= 10_000
            }
            var zeroPending = false
            for index in stride(from: groups.count - 1, through: 0, by: -1) {
                let group = groups[index]
                if group == 0 {
                    zeroPending = true
                    continue
                }
                if !text.isEmpty && (zeroPending || group < 1000) { text += "零" }
                zeroPending = false
                var groupText = ""
                var zero = false
                for position in stride(from: 3, through: 0, by: -1) {
                    let digit = group / powers[position] % 10
                    if digit == 0 {
                        if !groupText.isEmpty { zero = true }
                        continue
                    }
                    if zero {
                        groupText += "零"
                        zero = false
                    }
                    groupText += digits[digit] + units[position]
                }
                text += groupText + groupUnits[index]
            }
            text += "元"
        }
        if jiao == 0 && cents == 0 { return "人民币" + (text.isEmpty ? "零元" : text) + "整" }
        if jiao > 0 { text += digits[jiao] + "角" }
        if cents > 0 {
            if jiao == 0 && !text.isEmpty { text += "零" }
            text += digits[cents] + "分"
        } else {
            text += "整"
        }
        return "人民币" + text
    }
}
