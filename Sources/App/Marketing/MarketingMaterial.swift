import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// A customer manager's marketing material for one signed-in member of staff: the personal QR code (PNG, SVG), the
/// mini-program code, the micro-posters and the landing counts. Whose material may be had follows the role table's
/// `viewMarketingMaterial` (a manager their own; a branch head any manager of their branch and its sub-branches,
/// judged by the manager's branch; an admin bank-wide); anything else answers 404, like a code that does not exist.
struct MarketingMaterial {
    let db: Database
    let services: YidaiServices
    let principal: StaffPrincipal

    static let pngSizes = 160...1200
    static let defaultPNGSize = 600
    /// WeChat draws mini-program codes 280–1280 px wide; 430 is its default.
    static let miniProgramWidths = 280...1280
    static let defaultMiniProgramWidth = 430
    /// The mini-program page a scan opens (it reads the manager code from `scene`).
    static let miniProgramPage = "pages/index/index"

    struct Manager: Sendable, Equatable {
        let code: String
        let name: String
        let branchCode: String
        let branchName: String
    }

    static let noManagerCode = APIError(
        .notFound, code: "no_manager_code",
        message: "You have no customer-manager code, so there is no personal QR code or poster; a branch head or admin opens a manager's with /api/v1/staff/managers/{code}/….",
        messageZh: "您没有客户经理编号，因此没有个人推广码；分行负责人或管理员请按客户经理编号查看。")

    /// The signed-in member's own material: they need a manager code.
    func mine() async throws -> Manager {
        guard let code = principal.managerCode, !code.isEmpty else { throw Self.noManagerCode }
        return try await manager(code)
    }

    /// A manager by code, if they exist, are active and are within the member's scope; 404 otherwise.
    func manager(_ raw: String?) async throws -> Manager {
        let code = (raw ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        guard !code.isEmpty, code.count <= 20,
            let member = try await StaffMember.query(on: db).filter(\.$managerCode == code).filter(\.$active == true).first()
        else { throw APIError.notFound("customer manager") }
        let branches = try await Branch.query(on: db).all()
        let parents = Dictionary(branches.compactMap { b in b.parentCode.map { (b.code, $0) } }, uniquingKeysWith: { a, _ in a })
        let target = TargetScopeFacts(lastTouchManagerCode: code, branchCode: member.branchCode, branchParents: parents)
        guard StaffPermissions.allows(role: principal.role, action: .viewMarketingMaterial, staff: principal.scopeFacts, target: target) else {
            throw APIError.notFound("customer manager")
        }
        let branchName = branches.first { $0.code == member.branchCode }?.name ?? member.branchCode
        return Manager(code: code, name: member.displayName, branchCode: member.branchCode, branchName: branchName)
    }

    /// `<public base URL>/?cm=CODE&ch=qr`: what every code and poster of this manager holds.
    func landingURL(_ manager: Manager) -> String {
        let code = manager.code.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? manager.code
        return services.config.publicBaseURL + "/?cm=" + code + "&ch=" + LandingCounter.scanChannel
    }

    static func size(_ raw: String?, default value: Int, range: ClosedRange<Int>, field: String = "size") throws -> Int {
        guard let raw, !raw.isEmpty else { return value }
        guard let size = Int(raw), range.contains(size) else {
            throw APIError.invalid(
                field, "\(field) must be a whole number of pixels from \(range.lowerBound) to \(range.upperBound) (got \(raw.prefix(12))).",
                zh: "尺寸须为\(range.lowerBound)至\(range.upperBound)之间的整数像素。")
        }
        return size
    }

    static func template(_ raw: String?) throws -> PosterTemplate {
        guard let raw, !raw.isEmpty else { return .classic }
        guard let number = Int(raw), let template = PosterTemplate(rawValue: number) else {
            let choices = PosterTemplate.allCases.map { String($0.rawValue) }.joined(separator: " or ")
            throw APIError.invalid("template", "template must be \(choices) (got \(raw.prefix(12))).", zh: "海报模板须为\(choices.replacingOccurrences(of: " or ", with: "或"))。")
        }
        return template
    }

    func qrPNG(_ manager: Manager, size: Int) throws -> Data {
        guard let png = try QRCode(landingURL(manager)).png(pixels: size) else {
            throw APIError(.internalServerError, code: "qr_code_failed", message: "The QR code could not be drawn.", messageZh: "二维码生成失败。")
        }
        return png
    }

    func qrSVG(_ manager: Manager) throws -> String {
        try QRCode(landingURL(manager)).svg(pixels: 480, label: "\(manager.name)的推广二维码")
    }

    func miniProgramCode(_ manager: Manager, width: Int) async throws -> MiniProgramCodeImage {
        let request = MiniProgramCodeRequest(scene: manager.code, page: Self.miniProgramPage, width: width, fallbackURL: landingURL(manager))
        do {
            return try await services.providers.miniProgram.unlimitedCode(request)
        } catch let error as ProviderError {
            throw APIError(.badGateway, code: error.code, message: "WeChat's mini-program code: \(error.message)", messageZh: error.messageZh)
        }
    }

    /// The rates the active policy can give; 503 when no policy is published or its rates cannot be read.
    func offeredRates() async throws -> OfferedRates {
        guard let version = try await services.policies.active(on: db) else {
            throw APIError(.serviceUnavailable, code: "no_active_policy", message: "No credit policy is published yet, so a poster cannot state a rate.",
                           messageZh: "暂无生效的审批策略，无法生成海报。")
        }
        do {
            return try OfferedRates.read(from: version)
        } catch let error as OfferedRates.Unreadable {
            throw APIError(.serviceUnavailable, code: "policy_rates_unreadable", message: error.description, messageZh: "无法从审批策略读取利率范围，暂不能生成海报。")
        }
    }

    func posterContent(_ manager: Manager) async throws -> PosterContent {
        PosterContent.make(rates: try await offeredRates(), managerName: manager.name, branchName: manager.branchName,
                           managerCode: manager.code, qrURL: landingURL(manager))
    }

    func poster(_ manager: Manager, template: PosterTemplate) async throws -> RenderedPoster {
        let content = try await posterContent(manager)
        do {
            // cairo and pango block: off the event loops
            return try await NIOThreadPool.singleton.runIfActive { try MicroPoster.render(content, template: template) }
        } catch let error as PosterRenderingError {
            throw APIError(.internalServerError, code: "poster_failed", message: error.description, messageZh: "海报生成失败。")
        }
    }

    /// The manager's landing counts from `from` to `to` (`YYYY-MM-DD`, inclusive; the last 30 days by default, at most 366).
    func landings(_ manager: Manager, from rawFrom: String?, to rawTo: String?) async throws -> LandingCountsView {
        let today = BusinessCalendar.civilDate(services.clock.now())
        func day(_ raw: String?, _ field: String, _ fallback: CivilDate) throws -> CivilDate {
            guard let raw, !raw.isEmpty else { return fallback }
            guard let date = CivilDate(iso: raw) else {
                throw APIError.invalid(field, "\(field) must be a date like 2026-07-25.", zh: "日期格式须为YYYY-MM-DD。")
            }
            return date
        }
        let to = try day(rawTo, "to", today)
        let from = try day(rawFrom, "from", to.adding(days: -29))
        guard !(to < from) else { throw APIError.invalid("from", "from must not be after to.", zh: "开始日期不能晚于结束日期。") }
        guard from.days(until: to) < 366 else { throw APIError.invalid("from", "At most 366 days at once.", zh: "一次最多查询366天。") }
        let rows = try await LandingCounter(db: db, clock: services.clock).rows(manager: manager.code, from: from, to: to)
        return LandingCountsView(manager: manager.code, from: from.iso, to: to.iso, rows: rows)
    }
}
