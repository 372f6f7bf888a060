import LendingCore
import Providers
import Vapor

/// Sandbox helpers (only registered when providers are simulated): the SMS outbox and the test ID-card images.
struct SandboxController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let sandbox = routes.grouped("sandbox")
        sandbox.get("sms", use: outbox)
        sandbox.put("sms", "outage", use: outage)
        sandbox.post("sms", "replies", use: reply)
        sandbox.get("cards", ":file", use: card)
    }

    struct OutboxMessage: Content {
        let phone: String
        let text: String
        let sentAt: Date
    }

    struct OutboxPage: Encodable {
        let messages: [OutboxMessage]
        let phone: String
        let sandbox = true
    }

    func outbox(_ req: Request) async throws -> Response {
        guard let gateway = req.yidai.providers.sms as? SandboxSMSGateway else { throw APIError.notFound("page") }
        var filter: MobileNumber?
        if let raw = req.query[String.self, at: "phone"], !raw.isEmpty {
            do { filter = try MobileNumber(raw) } catch { throw APIError(error, status: .badRequest) }
        }
        let messages = await gateway.outbox(phone: filter).map { OutboxMessage(phone: $0.phone, text: $0.text, sentAt: $0.sentAt) }
        let accepts = req.headers.accept.mediaTypes
        if accepts.contains(.json) && !accepts.contains(.html) {
            return try await messages.encodeResponse(for: req)
        }
        return try await req.view.render("sandbox/sms", OutboxPage(messages: messages, phone: filter?.value ?? "")).encodeResponse(for: req)
    }

    struct OutageBody: Content { var down: Bool? }
    struct OutageView: Content {
        let down: Bool
        let sandbox = true
    }

    /// `PUT /sandbox/sms/outage {"down": true|false}`: the simulated operator is down (every send fails) or back.
    func outage(_ req: Request) async throws -> OutageView {
        guard let gateway = req.yidai.providers.sms as? SandboxSMSGateway else { throw APIError.notFound("page") }
        guard let down = try req.jsonBody(OutageBody.self).down else {
            throw APIError.invalid("down", "down must be true (the gateway fails every send) or false.", zh: "请指定 down。")
        }
        await gateway.setOutage(down ? ProviderError(code: "sms_gateway_down", message: "the sandbox SMS operator is down (simulated outage)", messageZh: "短信服务暂时不可用（沙箱模拟故障）") : nil)
        req.logger.warning("[SANDBOX] SMS gateway outage \(down ? "on" : "off")")
        return OutageView(down: down)
    }

    struct ReplyBody: Content {
        var phone: String?
        var text: String?
    }
    struct ReplyView: Content {
        let optedOut: Bool
        let sandbox = true
    }

    /// `POST /sandbox/sms/replies {"phone", "text"}`: a reply from a phone, as the operator's uplink would deliver it;
    /// 退订 opts the phone out of marketing.
    func reply(_ req: Request) async throws -> ReplyView {
        let body = try req.jsonBody(ReplyBody.self)
        let phone = try JourneyService.phone(body.phone)
        guard let text = body.text, !text.isEmpty else { throw APIError.missing("text") }
        guard MarketingOptOuts.isOptOutReply(text) else { return ReplyView(optedOut: false) }
        let (services, index) = (req.yidai, req.yidai.cipher.blindIndex(phone.value, purpose: "phone"))
        try await req.db.writeTransaction { tx in try await MarketingOptOuts.record(phoneIndex: index, source: "sms_reply", on: tx, services: services) }
        return ReplyView(optedOut: true)
    }

    func card(_ req: Request) async throws -> Response {
        let file = req.parameters.get("file") ?? ""
        let parts = file.replacingOccurrences(of: ".png", with: "").split(separator: "-")
        guard parts.count == 2, let side = IDCardSide(rawValue: String(parts[1])), let data = SandboxCards.image(person: String(parts[0]), side: side) else {
            throw APIError.notFound("test card")
        }
        var headers = HTTPHeaders()
        headers.contentType = .png
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}
