/// Where an application stands (domain.md, "Application states"). Stored as the raw string.
public enum ApplicationState: String, Sendable, Codable, CaseIterable {
    case started
    case identityVerified = "identity_verified"
    case creditAuthorized = "credit_authorized"
    case infoCompleted = "info_completed"
    case approved
    case referred
    case declined
    case loanRequested = "loan_requested"
    case contractSigned = "contract_signed"
    /// The payout instruction exists (it may be at the payments provider): cancelling is no longer possible.
    case disbursing
    case disbursed
    case cancelled
    case expired

    /// Nothing can happen to the application any more.
    public var isTerminal: Bool {
        switch self {
        case .declined, .disbursed, .cancelled, .expired: true
        default: false
        }
    }

    /// The decision has been made (approved, referred, declined) or the journey has gone past it.
    public var isDecided: Bool {
        switch self {
        case .approved, .referred, .declined, .loanRequested, .contractSigned, .disbursing, .disbursed: true
        default: false
        }
    }

    public var titleZh: String {
        switch self {
        case .started: "身份校验中"
        case .identityVerified: "身份已核验"
        case .creditAuthorized: "已授权查询征信"
        case .infoCompleted: "信息已补充"
        case .approved: "已获批额度"
        case .referred: "人工审核中"
        case .declined: "暂未通过"
        case .loanRequested: "已申请借款"
        case .contractSigned: "合同已签署"
        case .disbursing: "放款中"
        case .disbursed: "已放款"
        case .cancelled: "已取消"
        case .expired: "已过期"
        }
    }

    public var title: String {
        switch self {
        case .started: "identity checks in progress"
        case .identityVerified: "identity verified"
        case .creditAuthorized: "credit report authorized"
        case .infoCompleted: "information completed"
        case .approved: "approved"
        case .referred: "under manual review"
        case .declined: "declined"
        case .loanRequested: "loan requested"
        case .contractSigned: "contract signed"
        case .disbursing: "paying out"
        case .disbursed: "disbursed"
        case .cancelled: "cancelled"
        case .expired: "expired"
        }
    }
}
