/// The page URLs of the journey, in one place (the contract and loan pages link to them, and the signed-in pages'
/// guard sends a visitor without a session to the phone page).
enum JourneyPaths {
    static let phone = "/"
    static let signOut = "/sign-out"
    static let resume = "/apply"
    static let idCard = "/apply/id-card"
    static let idCardSample = "/apply/id-card/sample"
    static let idCardConfirm = "/apply/id-card/confirm"
    static let face = "/apply/face"
    static let bankCard = "/apply/bank-card"
    static let bankCardConfirm = "/apply/bank-card/confirm"
    static let authorization = "/apply/authorization"
    static let aboutYou = "/apply/about-you"
    static let result = "/apply/result"
    static let loan = "/apply/loan"
    static let done = "/apply/done"
    static let stopped = "/apply/stopped"
    static let cancel = "/apply/cancel"
}
