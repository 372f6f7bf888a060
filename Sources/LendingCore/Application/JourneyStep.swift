/// One action of the applicant journey, in page order (domain.md, "The applicant journey").
/// `done` means nothing is left for the applicant to do in the journey (decided, loan requested, cancelled...).
public enum JourneyStep: String, Sendable, Codable, CaseIterable {
    case phone
    case idCard = "id_card"
    case face
    case bankCard = "bank_card"
    case authorization
    case aboutYou = "about_you"
    case decision
    case loanRequest = "loan_request"
    case done

    /// English name used in messages: "Complete the ID card step first".
    public var title: String {
        switch self {
        case .phone: "phone"
        case .idCard: "ID card"
        case .face: "face"
        case .bankCard: "bank card"
        case .authorization: "credit authorization"
        case .aboutYou: "about you"
        case .decision: "decision"
        case .loanRequest: "loan request"
        case .done: "done"
        }
    }

    /// Page title on the H5 pages.
    public var titleZh: String {
        switch self {
        case .phone: "手机号验证"
        case .idCard: "身份证识别"
        case .face: "人脸识别"
        case .bankCard: "银行卡验证"
        case .authorization: "征信授权"
        case .aboutYou: "补充信息"
        case .decision: "智能核额"
        case .loanRequest: "申请借款"
        case .done: "完成"
        }
    }

    /// The page number of domain.md's table (1–7); the decision and the loan request share page 7.
    public var page: Int? {
        switch self {
        case .phone: 1
        case .idCard: 2
        case .face: 3
        case .bankCard: 4
        case .authorization: 5
        case .aboutYou: 6
        case .decision, .loanRequest: 7
        case .done: nil
        }
    }

    /// Which of the three steps of the progress indicator this page belongs to (nil after them).
    public var group: JourneyStepGroup? {
        switch self {
        case .phone, .idCard, .face, .bankCard: .identity
        case .authorization: .creditAuthorization
        case .aboutYou: .moreInformation
        case .decision, .loanRequest, .done: nil
        }
    }

    /// "第1步，共3步" for the progress indicator; the result pages show "智能核额" instead.
    public var progressLabelZh: String {
        if let group { return "第\(group.rawValue)步，共\(JourneyStepGroup.allCases.count)步 · \(group.titleZh)" }
        return titleZh
    }

    /// Steps in order, `done` excluded.
    public static let ordered: [JourneyStep] = [.phone, .idCard, .face, .bankCard, .authorization, .aboutYou, .decision, .loanRequest]
}

/// The three steps of the progress indicator ("step n of 3").
public enum JourneyStepGroup: Int, Sendable, Codable, CaseIterable {
    case identity = 1
    case creditAuthorization = 2
    case moreInformation = 3

    public var titleZh: String {
        switch self {
        case .identity: "身份校验"
        case .creditAuthorization: "征信授权"
        case .moreInformation: "补充信息"
        }
    }

    public var title: String {
        switch self {
        case .identity: "identity"
        case .creditAuthorization: "credit authorization"
        case .moreInformation: "more information"
        }
    }

    /// The step number n of "step n of 3".
    public var number: Int { rawValue }
}
