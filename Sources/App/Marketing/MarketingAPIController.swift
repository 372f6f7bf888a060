import Foundation
import Providers
import Vapor

/// A customer manager's codes, posters and landing counts under /api/v1/staff (routes.swift: the role table's
/// `viewMarketingMaterial`). `me/…` is the signed-in manager's own; `managers/{code}/…` any manager's within scope.
enum MarketingAPIController {
    static func material(_ req: Request) throws -> MarketingMaterial {
        MarketingMaterial(db: req.db, services: req.yidai, principal: try req.staff)
    }

    /// The manager asked for: `managers/{code}/…` names one; `me/…` is the member's own.
    static func manager(_ req: Request) async throws -> MarketingMaterial.Manager {
        let material = try material(req)
        if let code = req.parameters.get("managerCode") { return try await material.manager(code) }
        return try await material.mine()
    }

    static func image(_ data: Data, type: HTTPMediaType, fileName: String, headers extra: HTTPHeaders = [:]) -> Response {
        var headers = extra
        headers.contentType = type
        headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename=\"\(fileName)\"")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    @Sendable static func qrPNG(_ req: Request) async throws -> Response {
        let size = try MarketingMaterial.size(req.query[String.self, at: "size"], default: MarketingMaterial.defaultPNGSize, range: MarketingMaterial.pngSizes)
        let manager = try await manager(req)
        return image(try material(req).qrPNG(manager, size: size), type: .png, fileName: "yidai-qr-\(manager.code)-\(size).png")
    }

    @Sendable static func qrSVG(_ req: Request) async throws -> Response {
        let manager = try await manager(req)
        return image(Data(try material(req).qrSVG(manager).utf8), type: HTTPMediaType(type: "image", subType: "svg+xml"),
                     fileName: "yidai-qr-\(manager.code).svg")
    }

    /// Marks the sandbox's stand-in: WeChat was not called and the image is the plain QR code.
    static let sandboxHeader = "X-Yidai-Sandbox"

    @Sendable static func miniProgramCode(_ req: Request) async throws -> Response {
        let width = try MarketingMaterial.size(req.query[String.self, at: "size"], default: MarketingMaterial.defaultMiniProgramWidth,
                                               range: MarketingMaterial.miniProgramWidths)
        let manager = try await manager(req)
        let code = try await material(req).miniProgramCode(manager, width: width)
        var headers = HTTPHeaders()
        if code.isSandbox {
            headers.replaceOrAdd(name: sandboxHeader, value: "mini-program code simulated: plain QR code of the landing page")
        }
        return image(code.png, type: .png, fileName: "yidai-miniprogram-\(manager.code)-\(width).png", headers: headers)
    }

    @Sendable static func poster(_ req: Request) async throws -> Response {
        let template = try MarketingMaterial.template(req.query[String.self, at: "template"])
        let manager = try await manager(req)
        let poster = try await material(req).poster(manager, template: template)
        return image(poster.png, type: .png, fileName: "yidai-poster-\(manager.code)-\(template.rawValue).png")
    }

    @Sendable static func landings(_ req: Request) async throws -> LandingCountsView {
        let material = try material(req)
        let manager: MarketingMaterial.Manager
        if let code = req.query[String.self, at: "manager"], !code.isEmpty {
            manager = try await material.manager(code)
        } else {
            manager = try await material.mine()
        }
        return try await material.landings(manager, from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"])
    }
}
