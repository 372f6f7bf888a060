import Crypto
import Foundation
import LendingCore

/// The credit-report authorization (征信查询授权书) the applicant reads in full and signs with an SMS code.
/// The version and the SHA-256 of the exact text are kept with the application (征信业管理条例 art. 18).
struct CreditAuthorizationText: Sendable {
    let version: String
    let title: String
    let text: String
    var sha256: String { Hex.string(SHA256.hash(data: Data(text.utf8))) }

    static let current = CreditAuthorizationText(
        version: "2026-01",
        title: "个人征信查询及报送授权书",
        text: """
        致：易贷合作银行（以下简称“贵行”）

        一、授权事项
        本人同意并不可撤销地授权贵行，在办理本人个人信用贷款业务（包括贷前审查、贷款审批、贷后管理）时，通过中国人民银行征信中心金融信用信息基础数据库及依法设立的其他征信机构，查询、打印、保存本人的信用报告。

        二、查询用途
        1. 审核本人的个人贷款申请；
        2. 对已发放的个人贷款进行贷后风险管理；
        3. 处理本人提出的异议或投诉。

        三、信息报送
        本人同意贵行按照国家有关规定，将本人的基本信息、贷款信息及还款情况报送至金融信用信息基础数据库及其他依法设立的征信机构。

        四、授权期限
        本授权自本人签署之日起生效，至本人在贵行的所有业务结清之日止。若本人的申请未获批准，本授权在申请结束之日终止。

        五、信息保护
        贵行应依法保护本人信息，仅在上述用途范围内使用，不得向任何第三方泄露或用于其他目的。

        六、本人声明
        本人已仔细阅读并完全理解本授权书的全部内容，特别是加粗部分。本人以输入短信验证码的方式签署本授权书，与手写签名具有同等法律效力。
        """)
}
