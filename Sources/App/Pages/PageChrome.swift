import LendingCore
import Vapor

/// What every page shows around its content: title, the journey's "第n步，共3步" indicator, the sandbox banner,
/// the CSRF token for its forms and (once known) the masked applicant.
struct PageChrome: Encodable {
    let title: String
    let progressLabel: String?
    let progress: [ProgressSegment]
    let sandbox: Bool
    let csrf: String
    let applicant: String?
    let signedIn: Bool
    /// A page script under /js (only the face page has one).
    let script: String?

    struct ProgressSegment: Encodable {
        let number: Int
        let title: String
        /// "done", "current" or "todo": a CSS class.
        let state: String
    }

    init(
        req: Request, step: JourneyStep?, title: String? = nil, applicant: String? = nil, signedIn: Bool,
        script: String? = nil
    ) {
        self.title = title ?? step?.titleZh ?? "易贷"
        self.progressLabel = step?.progressLabelZh
        let current = step?.group?.number ?? (step == nil ? 0 : JourneyStepGroup.allCases.count + 1)
        self.progress =
            step == nil
            ? []
            : JourneyStepGroup.allCases.map { group in
                ProgressSegment(
                    number: group.number, title: group.titleZh,
                    state: group.number < current ? "done" : (group.number == current ? "current" : "todo"))
            }
        self.sandbox = req.yidai.providers.isSandbox
        self.csrf = req.csrfToken
        self.applicant = applicant
        self.signedIn = signedIn
        self.script = script
    }
}
