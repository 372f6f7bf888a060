import Foundation

/// What a loan advert must say and must not say, in one place. Every text a poster draws is checked against
/// `banned` before it is drawn (`MicroPoster` refuses to render otherwise), and the tests name the list.
///
/// Sources: 《关于进一步规范大学生互联网消费贷款监督管理工作的通知》, the CBIRC and PBOC rules on internet loans and
/// their advertising (银保监办发〔2021〕… on 互联网贷款营销; 广告法 art. 25 on financial adverts promising returns or
/// playing down risk): no promise of approval or speed that depends on the credit decision, no "free" or
/// "low/zero interest" lure, no invitation to people with bad credit, no playing down of the risk.
enum AdvertWording {
    /// Words and phrases a loan advert of the bank must not carry.
    static let banned: [String] = [
        // Promising the credit decision or its speed.
        "秒批", "秒到", "秒下", "秒贷", "秒放", "极速放款", "当天放款", "当日放款", "立即到账", "马上到账",
        "100%通过", "百分百通过", "包过", "必过", "必下款", "必放款", "稳下款", "零拒绝", "无视征信",
        // Lowering the bar as a lure.
        "无门槛", "零门槛", "低门槛", "不看征信", "不查征信", "无需征信", "黑户可贷", "黑户", "白户秒批", "逾期可贷",
        "无抵押无担保", "无抵押", "无担保", "凭身份证", "只需身份证", "无需审核", "免审核", "不审核",
        // Free or cheap money as a lure.
        "零利息", "0利息", "免息", "低息", "超低利率", "最低利率", "利息最低", "日息", "日利率", "月息", "0首付", "免费借",
        // Playing down the risk or the duty to repay.
        "零风险", "无风险", "不用还", "想借就借", "随借随花", "借钱不用愁",
        // Targeting students, forbidden for this product.
        "学生贷", "大学生", "校园贷",
    ]

    /// The risk notice a loan advert carries (with the lender's name).
    static let riskNotice = "贷款有风险，借款需谨慎。请根据个人能力合理贷款，理性消费，避免逾期。"

    /// The banned phrases `text` contains (empty when it may be printed). Spaces and full-width forms are ignored, so
    /// "秒 批" or "１００％通过" are caught too.
    static func violations(in text: String) -> [String] {
        let plain = normalised(text)
        return banned.filter { plain.contains(normalised($0)) }
    }

    static func normalised(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            // Full-width ASCII forms (U+FF01–U+FF5E) to ASCII; every kind of space dropped.
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                scalars.append(ascii)
            } else if !scalar.properties.isWhitespace {
                scalars.append(scalar)
            }
        }
        return String(scalars).lowercased()
    }
}
