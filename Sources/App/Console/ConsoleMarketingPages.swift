import Fluent
import Foundation
import LendingCore
import Providers
import Vapor

/// /console/marketing (我的推广码): the signed-in manager's code (or, for a branch head or admin, a manager within
/// their scope chosen with `?manager=`), download links for the PNG sizes, the SVG, the mini-program code and both
/// posters, and the landing counts. The images are served under /console/marketing/{code}/… by the same handlers as
/// the API, so the page works with the workbench's cookie and the same scope.
enum ConsoleMarketingPages {
    static let sizes = [160, 300, 600, 1200]

    @Sendable static func page(_ req: Request) async throws -> Response {
        let principal = try req.staff
        let material = MarketingMaterial(db: req.db, services: req.yidai, principal: principal)
        let chosen = req.query[String.self, at: "manager"].flatMap { $0.isEmpty ? nil : $0 }
        let manager: MarketingMaterial.Manager?
        if let chosen {
            manager = try await material.manager(chosen)
        } else if principal.managerCode != nil {
            manager = try await material.mine()
        } else {
            manager = nil
        }
        let choices = try await managerChoices(principal, db: req.db, selected: manager?.code)
        var context = ConsoleMarketingContext(
            page: ConsolePagesController().chrome(req, "我的推广码", principal), manager: nil, choices: choices, downloads: [], posters: [],
            miniProgram: nil, sandbox: req.yidai.providers.miniProgram.isSandbox, qrSVG: nil, counts: [], totalScans: 0, totalVisits: 0,
            from: "", to: "", rates: nil)
        if let manager {
            let base = "/console/marketing/\(manager.code)"
            let counts = try await material.landings(manager, from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"])
            context = ConsoleMarketingContext(
                page: context.page,
                manager: .init(code: manager.code, name: manager.name, branch: manager.branchName, url: material.landingURL(manager)),
                choices: choices,
                downloads: sizes.map {
                    ConsoleMarketingContext.Download(title: "PNG \($0)×\($0)", href: "\(base)/qr-code.png?size=\($0)", fileName: "yidai-qr-\(manager.code)-\($0).png", id: "download-png-\($0)")
                } + [ConsoleMarketingContext.Download(title: "SVG 矢量图", href: "\(base)/qr-code.svg", fileName: "yidai-qr-\(manager.code).svg", id: "download-svg")],
                posters: PosterTemplate.allCases.map {
                    ConsoleMarketingContext.Poster(title: "海报\($0.rawValue)：\($0.titleZh)", href: "\(base)/poster.png?template=\($0.rawValue)",
                          fileName: "yidai-poster-\(manager.code)-\($0.rawValue).png", id: "download-poster-\($0.rawValue)")
                },
                miniProgram: .init(title: "小程序码", href: "\(base)/mini-program-code.png", fileName: "yidai-miniprogram-\(manager.code).png", id: "download-miniprogram"),
                sandbox: context.sandbox,
                qrSVG: try? material.qrSVG(manager),
                counts: counts.rows, totalScans: counts.rows.reduce(0) { $0 + $1.scans }, totalVisits: counts.rows.reduce(0) { $0 + $1.visits },
                from: counts.from, to: counts.to,
                rates: (try? await material.offeredRates())?.rangeText)
        }
        return try await req.renderPage("console/marketing", context)
    }

    /// The managers whose material this member may open, by branch then code (a customer manager: only themselves).
    static func managerChoices(_ principal: StaffPrincipal, db: Database, selected: String?) async throws -> [ConsoleMarketingContext.Choice] {
        let scope = StaffPermissions.scope(for: principal.role, action: .viewMarketingMaterial)
        guard scope == .branch || scope == .bankWide else { return [] }
        let branches = try await Branch.query(on: db).all()
        let parents = Dictionary(branches.compactMap { b in b.parentCode.map { (b.code, $0) } }, uniquingKeysWith: { a, _ in a })
        let names = Dictionary(branches.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
        let members = try await StaffMember.query(on: db).filter(\.$managerCode != nil).filter(\.$active == true).all()
        return members
            .filter { scope == .bankWide || StaffPermissions.isBranch($0.branchCode, within: principal.branchCode, parents: parents) }
            .sorted { ($0.branchCode, $0.managerCode ?? "") < ($1.branchCode, $1.managerCode ?? "") }
            .map { ConsoleMarketingContext.Choice(code: $0.managerCode!, title: "\($0.displayName) · \(names[$0.branchCode] ?? $0.branchCode) · \($0.managerCode!)", selected: $0.managerCode == selected) }
    }
}
