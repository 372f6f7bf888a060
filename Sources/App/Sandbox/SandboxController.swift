import LendingCore
import Providers
import Vapor

/// Sandbox helpers (only registered when providers are simulated): the SMS outbox and the test ID-card images.
struct SandboxController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let sandbox = routes.grouped("sandbox")
        sandbox.get("sms", use: outbox)
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
