import LendingCore
import Vapor

/// The journey's order on the pages, in one place: a step's pages answer only while it is the person's current step;
/// any other request goes to the page that is. The loan page belongs to an approved application's result.
/// (After `SignedInPages`, which provides the page session.)
struct JourneyStepGuard: AsyncMiddleware {
    let path: String

    init(_ path: String) {
        self.path = path
    }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let session = try req.pageSession
        let destination = try Self.destination(of: session)
        let approved = try session.application.applicationState == .approved
        let allowed =
            destination == path || (path == JourneyPaths.loan && destination == JourneyPaths.result && approved)
        guard allowed else { return req.redirect(to: destination, redirectType: .normal) }
        return try await next.respond(to: req)
    }

    /// The page of the step that comes next for the session's application.
    static func destination(of session: PageSession) throws -> String {
        let application = session.application
        if let stop = application.stopStep {
            if stop == JourneyStep.face.rawValue, let until = application.faceLockedUntil, until <= session.journey.now {
                return JourneyPaths.face
            }
            return JourneyPaths.stopped
        }
        switch try application.applicationState {
        case .cancelled, .expired: return JourneyPaths.stopped
        case .referred, .declined: return JourneyPaths.result
        case .loanRequested, .contractSigned, .disbursed: return JourneyPaths.done
        default: break
        }
        switch try session.journey.progress(application).nextStep {
        case .phone, .idCard: return JourneyPaths.idCard
        case .face: return JourneyPaths.face
        case .bankCard: return JourneyPaths.bankCard
        case .authorization: return JourneyPaths.authorization
        case .aboutYou: return JourneyPaths.aboutYou
        case .decision, .loanRequest: return JourneyPaths.result
        case .done: return JourneyPaths.done
        }
    }
}

extension PageSession {
    /// After a service error: a step out of order or a stopped journey goes to the right page; anything else is shown
    /// on the form (nil).
    func redirect(after error: APIError, _ req: Request) throws -> Response? {
        if application.stopStep != nil || (error.status == .conflict && error.code != "limit_expired") {
            return req.redirect(to: try JourneyStepGuard.destination(of: self), redirectType: .normal)
        }
        return nil
    }
}
