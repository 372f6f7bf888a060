import LendingCore
import Vapor

/// Step 6 on the pages: work, income, housing, family, the loan's purpose and an emergency contact.
struct AboutYouStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let step = routes.grouped(JourneyStepGuard(JourneyPaths.aboutYou))
        step.get("about-you", use: aboutYouPage)
        step.post("about-you", use: aboutYouPost)
    }

    struct AboutYouForm: Content {
        var employer: String?
        var employmentType: String?
        var monthlyIncome: String?
        var housing: String?
        var maritalStatus: String?
        var education: String?
        var loanPurpose: String?
        var contactName: String?
        var contactRelationship: String?
        var contactPhone: String?
    }

    static let aboutYouFields: [String: String] = {
        var map = FormState.same(
            "employer", "employmentType", "monthlyIncome", "housing", "maritalStatus", "education", "loanPurpose")
        map["emergencyContact.name"] = "contactName"
        map["emergencyContact.relationship"] = "contactRelationship"
        map["emergencyContact.phone"] = "contactPhone"
        map["emergencyContact"] = "contactName"
        return map
    }()

    func aboutYouPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        return try await renderAboutYou(req, s, form: FormState())
    }

    func aboutYouPost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let b = try req.content.decode(AboutYouForm.self)
        var form = FormState(values: [
            "employer": b.employer ?? "", "employmentType": b.employmentType ?? "",
            "monthlyIncome": b.monthlyIncome ?? "", "housing": b.housing ?? "",
            "maritalStatus": b.maritalStatus ?? "", "education": b.education ?? "", "loanPurpose": b.loanPurpose ?? "",
            "contactName": b.contactName ?? "",
            "contactRelationship": b.contactRelationship ?? "", "contactPhone": b.contactPhone ?? "",
        ])
        let income = b.monthlyIncome.map { $0.filter { $0 != "," && !$0.isWhitespace } }
        let request = AboutYouRequest(
            employer: b.employer, employmentType: b.employmentType, monthlyIncome: income, housing: b.housing,
            maritalStatus: b.maritalStatus,
            education: b.education, loanPurpose: b.loanPurpose,
            emergencyContact: EmergencyContactInput(
                name: b.contactName, relationship: b.contactRelationship,
                phone: b.contactPhone.map { $0.filter { !$0.isWhitespace && $0 != "-" } }))
        do {
            try await s.journey.saveAboutYou(s.application, request)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            form.record(error, fieldMap: Self.aboutYouFields)
            return try await renderAboutYou(req, s, form: form, status: error.status)
        }
        // The last facts are in: the decision runs now, so the next page is its result (no page in between).
        // Should it fail (a busy moment, a policy being published), the facts are kept and the result page shows
        // 核额中 with a button that asks again.
        do {
            try await s.journey.decide(s.application)
        } catch {
            req.logger.warning("decision after about-you deferred: \(String(describing: error))")
        }
        return req.redirect(to: JourneyPaths.result, redirectType: .normal)
    }

    func renderAboutYou(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let v = form.values
        let context = AboutYouPageContext(
            page: s.chrome(req, .aboutYou), form: form,
            employmentTypes: Choice.list(AboutYouFacts.employmentTypes, selected: v["employmentType"]),
            housingTypes: Choice.list(AboutYouFacts.housingTypes, selected: v["housing"]),
            maritalStatuses: Choice.list(AboutYouFacts.maritalStatuses, selected: v["maritalStatus"]),
            educationLevels: Choice.list(AboutYouFacts.educationLevels, selected: v["education"]),
            purposes: Choice.list(LoanOfferRules.purposes.map { ($0.code, $0.titleZh) }, selected: v["loanPurpose"]),
            relationships: Choice.list(AboutYouFacts.relationships, selected: v["contactRelationship"]))
        return try await req.renderPage("journey/about-you", context, status: status)
    }
}
