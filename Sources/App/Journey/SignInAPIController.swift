import Vapor

/// Signing in on the API, open to anyone: an SMS code to the phone, then the code for a session token (bearer) and
/// the phone's open application, resumed or new.
struct SignInAPIController: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        routes.post("sms-codes", use: sendCode)
        routes.post("sessions", use: signIn)
    }

    func sendCode(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(SMSCodeRequest.self)
        let sent = try await req.journey.sendSignInCode(body)
        return try await sent.encodeResponse(status: .accepted, for: req)
    }

    func signIn(_ req: Request) async throws -> Response {
        let body = try req.jsonBody(SignInRequest.self)
        let journey = req.journey
        let (token, expiresAt, application) = try await journey.signIn(body)
        let view = try await ApplicationPresenter(journey: journey).view(application)
        return try await SessionResponse(token: token, expiresAt: expiresAt, application: view)
            .encodeResponse(status: .created, for: req)
    }
}
