import Crypto
import Fluent
import Foundation
import LendingCore

/// The two documents the applicant agrees to, separately, on the phone page before the phone number (the first
/// personal data) is taken: the user agreement and the privacy notice (个人信息保护法 art. 14 and 17: informed,
/// specific consent). Each is readable in full on its own page; each consent is recorded with the document's version
/// and the SHA-256 of its exact text, like the credit authorization.
struct ConsentDocument: Sendable {
    /// "user_agreement" or "privacy_notice": the stored kind.
    let kind: String
    let version: String
    let title: String
    /// Where it is read in full.
    let path: String
    let text: String
    var sha256: String { Hex.string(SHA256.hash(data: Data(text.utf8))) }

    static let all = [userAgreement, privacyNotice]

    static func named(_ kind: String) -> ConsentDocument? { all.first { $0.kind == kind } }

    static let userAgreement = ConsentDocument(
        kind: "user_agreement", version: "YD-UA-2026-01", title: "易贷用户服务协议", path: "/terms/user-agreement",
        text: """
            一、协议双方
            本协议由您与易贷合作银行（以下简称“我行”）订立。您在手机号验证页面勾选同意本协议，即表示您已阅读、理解并同意本协议全部内容。

            二、服务内容
            易贷为您提供个人信用贷款的线上申请服务：身份核验、征信查询授权、额度审批、借款申请、电子合同签署及贷后还款。具体贷款以您另行签署的《个人借款合同》为准。

            三、您的义务
            1. 您应使用本人实名登记的手机号，如实提供本人信息，不得冒用他人身份。
            2. 您应妥善保管手机及短信验证码。以您的手机号和验证码完成的操作，视为您本人的操作。
            3. 您应按约定用途使用贷款资金，不得用于购房、投资股票、理财等国家禁止的用途。

            四、我行的义务
            1. 我行在审批后明示年利率及年化利率（APR），不收取合同约定以外的任何费用。
            2. 我行依照《易贷个人信息保护政策》处理您的个人信息。
            3. 我行在合同签署前允许您随时取消申请，不产生任何费用。

            五、服务的中止
            发现冒用身份、提供虚假信息或其他违法违规情形的，我行可以中止服务，并依法处理。

            六、争议解决
            本协议适用中华人民共和国法律。因本协议发生的争议，双方协商解决；协商不成的，向我行住所地人民法院提起诉讼。

            七、协议的变更
            本协议如有变更，我行将公布新的版本；新的版本须经您再次同意后方对您生效。
            """)

    static let privacyNotice = ConsentDocument(
        kind: "privacy_notice", version: "YD-PN-2026-01", title: "易贷个人信息保护政策", path: "/terms/privacy",
        text: """
            一、个人信息处理者
            易贷合作银行（以下简称“我行”）。如您对本政策有任何疑问，可通过我行客服热线或任一网点联系我们。

            二、我们处理的个人信息及目的
            1. 手机号：用于验证您的身份、发送验证码和通知。
            2. 身份证信息及人脸图像（敏感个人信息）：用于核验您的身份，防止他人冒用。人脸图像仅用于本次比对。
            3. 银行卡信息（敏感个人信息）：用于核验银行卡并发放贷款、扣收还款。
            4. 职业、收入、居住、婚姻、学历及紧急联系人信息：用于评估您的还款能力与审批额度。
            5. 信用报告：经您另行签署《个人征信查询及报送授权书》后查询，用于审批与贷后管理。

            三、处理方式与保存期限
            您的个人信息在我行系统中加密保存，在页面和对内使用时脱敏显示。申请未获批准的，相关信息自申请结束之日起保存五年；贷款发放的，保存至贷款结清后五年，以满足法律法规与监管要求。期满后删除或匿名化处理。

            四、对外提供
            为完成核验，我们会将必要信息提供给公安部公民身份信息核查服务、电信运营商、银联及征信机构，仅限核验所需。除法律法规另有规定外，我们不会将您的个人信息用于营销或向其他第三方提供。

            五、您的权利
            您有权查阅、复制、更正、补充您的个人信息，有权撤回同意、要求删除，并有权要求我们解释本政策。撤回同意不影响撤回前基于同意已进行的处理。

            六、敏感个人信息
            身份证信息、人脸图像和银行卡信息属于敏感个人信息。我们仅在办理贷款所必需的范围内处理，并采取加密等严格保护措施。在核验身份证、人脸和银行卡的页面，我们会再次告知。

            七、政策的更新
            本政策如有变更，我们将公布新的版本；变更涉及处理目的、方式和种类的，须经您再次同意。
            """)
}

/// One consent given to one version of a document, by the holder of a phone (by its blind index), with the address
/// and device it came from.
final class Consent: Model, @unchecked Sendable {
    static let schema = "consents"
    @ID(key: .id) var id: UUID?
    @Field(key: "phone_index") var phoneIndex: String
    @Field(key: "document") var document: String
    @Field(key: "version") var version: String
    @Field(key: "sha256") var sha256: String
    @Field(key: "given_at") var givenAt: Date
    @Field(key: "client") var client: String
    @Field(key: "device") var device: String
    /// When the person withdrew it in the privacy centre (nil: in force).
    @OptionalField(key: "withdrawn_at") var withdrawnAt: Date?

    init() {}
}
