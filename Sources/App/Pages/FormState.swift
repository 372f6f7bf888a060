/// What the person typed and what was wrong with it, so a page re-renders with both.
/// Errors are keyed by the form field's name; an error for a field the page does not show goes to `formError`.
struct FormState: Encodable {
    var values: [String: String] = [:]
    var errors: [String: String] = [:]
    var formError: String?
    var notice: String?

    init(values: [String: String] = [:]) {
        self.values = values
    }

    /// Puts the service's error next to its field. `fieldMap` maps the service's field names (e.g.
    /// "emergencyContact.phone") to the page's form field names (e.g. "contactPhone"); unknown fields and
    /// field-less errors go to `fallbackField` when given, else to the top of the form.
    mutating func record(_ error: APIError, fieldMap: [String: String], fallbackField: String? = nil) {
        if let field = error.field, let formField = fieldMap[field] {
            errors[formField] =
                Self.missingPrompts[formField].flatMap { error.code == "missing_field" ? $0 : nil } ?? error.messageZh
        } else if let fallbackField {
            errors[fallbackField] = error.messageZh
        } else {
            formError = error.messageZh
        }
    }

    /// What to say for an empty field, more helpful than the API's generic "请填写此项。".
    static let missingPrompts: [String: String] = [
        "phone": "请输入手机号。", "code": "请输入短信验证码。",
        "frontImage": "请拍摄或选择身份证人像面照片。", "backImage": "请拍摄或选择身份证国徽面照片。",
        "name": "请填写姓名。", "idNumber": "请填写身份证号码。", "address": "请填写住址。", "validUntil": "请填写证件有效期。",
        "capture": "请先拍摄照片，或开启摄像头完成识别。", "cardNumber": "请输入借记卡卡号。",
    ]

    /// Identity field maps: the page uses the service's names.
    static func same(_ names: String...) -> [String: String] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, $0) })
    }
}

/// One option of a `<select>` or radio group.
struct Choice: Encodable {
    let value: String
    let label: String
    let selected: Bool

    static func list(_ options: [(String, String)], selected: String?) -> [Choice] {
        options.map { Choice(value: $0.0, label: $0.1, selected: $0.0 == selected) }
    }
}
