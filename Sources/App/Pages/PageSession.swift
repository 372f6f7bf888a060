import LendingCore
import Vapor

/// What a signed-in applicant's page works with: the journey, the session's application and what it shows.
struct PageSession: Sendable {
    let journey: JourneyService
    let application: LoanApplication
    let view: ApplicationView

    var applicantLabel: String {
        if let name = view.applicant.name { return "\(name) · \(view.applicant.phone)" }
        return view.applicant.phone
    }

    func chrome(_ req: Request, _ step: JourneyStep?, title: String? = nil, script: String? = nil) -> PageChrome {
        PageChrome(req: req, step: step, title: title, applicant: applicantLabel, signedIn: true, script: script)
    }
}

/// The guard of the signed-in pages (after `ApplicantAuthenticator(.sessionCookie)`): without a signed-in applicant,
/// or when the session's application is gone, the phone page; otherwise the page session for the handlers
/// (`req.pageSession`).
struct SignedInPages: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let applicant = req.auth.get(SignedInApplicant.self) else {
            return req.redirect(to: JourneyPaths.phone, redirectType: .normal)
        }
        let journey = req.journey
        guard let application = try await req.signedInApplication(applicant) else {
            return req.redirect(to: JourneyPaths.phone, redirectType: .normal)
        }
        let view = try await ApplicationPresenter(journey: journey).view(application)
        req.storage[PageSessionKey.self] = PageSession(journey: journey, application: application, view: view)
        return try await next.respond(to: req)
    }

    struct PageSessionKey: StorageKey {
        typealias Value = PageSession
    }
}

extension Request {
    /// The page session `SignedInPages` put on this request (routes.swift puts every signed-in page behind it).
    var pageSession: PageSession {
        get throws {
            guard let session = storage[SignedInPages.PageSessionKey.self] else {
                throw Abort(.internalServerError, reason: "page route without SignedInPages")
            }
            return session
        }
    }
}
