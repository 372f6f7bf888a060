import Fluent
import LendingCore
import Providers
import Vapor

/// The applicant journey as a JSON API under /api/v1 (usable without the pages), for the signed-in applicant's own
/// application (routes.swift; signing in is SignInAPIController).
struct JourneyAPIController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let application = routes.grouped("applications", ":applicationID")
        application.get(use: show)
        application.on(.POST, "id-card", body: .collect(maxSize: "12mb"), use: uploadIDCard)
        application.post("id-card", "confirm", use: confirmIDCard)
        application.on(.POST, "face", body: .collect(maxSize: "12mb"), use: face)
        application.post("bank-card", use: bankCard)
        application.post("bank-card", "confirm", use: confirmBankCard)
        application.get("credit-authorization", use: authorizationText)
        application.post("credit-authorization", "sms-code", use: authorizationCode)
        application.post("credit-authorization", use: signAuthorization)
        application.put("about-you", use: aboutYou)
        application.post("decision", use: decide)
        application.post("loan-request", use: requestLoan)
        application.post("cancel", use: cancel)
    }

    func show(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        return try await ApplicationPresenter(journey: req.journey).view(application)
    }

    func uploadIDCard(_ req: Request) async throws -> IDCardReadingView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(IDCardUploadRequest.self)
        return try await req.journey.uploadIDCard(application, front: try Self.image(body.frontImage, field: "frontImage"),
                                                  back: try Self.image(body.backImage, field: "backImage"))
    }

    func confirmIDCard(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(IDCardConfirmRequest.self)
        let journey = req.journey
        try await journey.confirmIDCard(application, body)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func face(_ req: Request) async throws -> FaceCheckView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(FaceCheckRequest.self)
        let journey = req.journey
        let (result, left) = try await journey.checkFace(application, body)
        return FaceCheckView(passed: result.passed, livenessPassed: result.livenessPassed, similarity: "\(result.similarity)", threshold: "\(result.threshold)",
                             attemptsLeft: left, lockedUntil: application.faceLockedUntil, application: try await ApplicationPresenter(journey: journey).view(application))
    }

    func bankCard(_ req: Request) async throws -> Response {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(BankCardRequest.self)
        let sent = try await req.journey.submitBankCard(application, body)
        return try await sent.encodeResponse(status: .accepted, for: req)
    }

    func confirmBankCard(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(CodeRequest.self)
        let journey = req.journey
        try await journey.confirmBankCard(application, body)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func authorizationText(_ req: Request) async throws -> AuthorizationDocumentView {
        _ = try await req.ownedApplication()
        let document = CreditAuthorizationText.current
        return AuthorizationDocumentView(version: document.version, title: document.title, text: document.text, sha256: document.sha256)
    }

    func authorizationCode(_ req: Request) async throws -> Response {
        let application = try await req.ownedApplication()
        let sent = try await req.journey.sendAuthorizationCode(application)
        return try await sent.encodeResponse(status: .accepted, for: req)
    }

    func signAuthorization(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(AuthorizationSignRequest.self)
        let journey = req.journey
        try await journey.signAuthorization(application, body)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func aboutYou(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(AboutYouRequest.self)
        let journey = req.journey
        try await journey.saveAboutYou(application, body)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func decide(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let journey = req.journey
        try await journey.decide(application)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func requestLoan(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let body = try req.jsonBody(LoanRequestInput.self)
        let journey = req.journey
        _ = try await journey.requestLoan(application, body)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    func cancel(_ req: Request) async throws -> ApplicationView {
        let application = try await req.ownedApplication()
        let journey = req.journey
        try await journey.cancel(application)
        return try await ApplicationPresenter(journey: journey).view(application)
    }

    static func image(_ base64: String?, field: String) throws -> Data {
        guard let base64, !base64.isEmpty else { throw APIError.missing(field) }
        let cleaned = base64.hasPrefix("data:") ? String(base64.drop(while: { $0 != "," }).dropFirst()) : base64
        guard let data = Data(base64Encoded: cleaned, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw APIError.invalid(field, "\(field) must be base64-encoded image data.", zh: "图片格式不正确，请重新拍摄。")
        }
        guard data.count <= 5 * 1024 * 1024 else {
            throw APIError(.payloadTooLarge, code: "image_too_large", message: "\(field) must be at most 5 MB.", messageZh: "图片过大，请重新拍摄。", field: field)
        }
        return data
    }
}

extension Request {
    var journey: JourneyService {
        JourneyService(
            db: db, services: yidai, logger: logger,
            client: .init(address: clientAddress.address, device: headers.first(name: .userAgent) ?? "unknown"),
            readsOnly: method == .GET || method == .HEAD)
    }
}
