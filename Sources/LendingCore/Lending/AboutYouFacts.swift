import Foundation

/// The facts an applicant adds on page 6 (补充信息), validated.
public struct AboutYouFacts: Sendable, Codable, Equatable {
    public struct EmergencyContact: Sendable, Codable, Equatable {
        public let name: String
        public let relationship: String
        public let phone: String
    }

    public let employer: String
    public let employmentType: String
    public let monthlyIncome: Decimal
    public let housing: String
    public let maritalStatus: String
    public let education: String
    public let loanPurpose: String
    public let emergencyContact: EmergencyContact

    public static let employmentTypes = [("salaried", "企业员工"), ("civil_servant", "公务员/事业单位"), ("self_employed", "个体/企业主"), ("freelancer", "自由职业"), ("retired", "退休"), ("other", "其他")]
    public static let housingTypes = [("owned", "自有住房（无贷款）"), ("mortgaged", "自有住房（有按揭）"), ("rented", "租房"), ("family", "与家人同住"), ("other", "其他")]
    public static let maritalStatuses = [("single", "未婚"), ("married", "已婚"), ("divorced", "离异"), ("widowed", "丧偶")]
    public static let educationLevels = [("doctorate", "博士"), ("master", "硕士"), ("bachelor", "本科"), ("college", "大专"), ("high_school", "高中/中专"), ("other", "其他")]
    public static let relationships = [("parent", "父母"), ("spouse", "配偶"), ("sibling", "兄弟姐妹"), ("child", "子女"), ("friend", "朋友"), ("colleague", "同事")]
    public static let maximumMonthlyIncome: Decimal = 10_000_000

    public init(employer rawEmployer: String?, employmentType: String?, monthlyIncome rawIncome: String?, housing: String?, maritalStatus: String?,
                education: String?, loanPurpose: String?, contactName: String?, contactRelationship: String?, contactPhone: String?,
                applicantPhone: MobileNumber) throws(FieldError) {
        let employer = (rawEmployer ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !employer.isEmpty else { throw Self.missing("employer", zh: "请填写工作单位。") }
        guard employer.count <= 60 else {
            throw FieldError(field: "employer", code: "too_long", message: "employer must be at most 60 characters.", messageZh: "工作单位不能超过60个字。")
        }
        self.employer = employer
        self.employmentType = try Self.choice(employmentType, field: "employmentType", from: Self.employmentTypes, zh: "请选择职业类型。")
        guard let rawIncome, !rawIncome.trimmingCharacters(in: .whitespaces).isEmpty else { throw Self.missing("monthlyIncome", zh: "请填写月收入。") }
        guard let income = Money.parse(rawIncome.trimmingCharacters(in: .whitespaces)), income > 0, income <= Self.maximumMonthlyIncome else {
            throw FieldError(field: "monthlyIncome", code: "out_of_range", message: "monthlyIncome must be a positive amount of yuan up to 10,000,000.",
                             messageZh: "请填写正确的税后月收入（元）。")
        }
        self.monthlyIncome = income
        self.housing = try Self.choice(housing, field: "housing", from: Self.housingTypes, zh: "请选择居住情况。")
        self.maritalStatus = try Self.choice(maritalStatus, field: "maritalStatus", from: Self.maritalStatuses, zh: "请选择婚姻状况。")
        self.education = try Self.choice(education, field: "education", from: Self.educationLevels, zh: "请选择学历。")
        self.loanPurpose = try Self.choice(loanPurpose, field: "loanPurpose", from: LoanOfferRules.purposes.map { ($0.code, $0.titleZh) }, zh: "请选择借款用途。")
        let contactName = (contactName ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !contactName.isEmpty else { throw Self.missing("emergencyContact.name", zh: "请填写紧急联系人姓名。") }
        // Digits and punctuation are refused; Chinese numerals are ordinary name characters (王五, 张三).
        let nameCharacterAllowed: (Character) -> Bool = { ch in
            ch == "·" || (!ch.isPunctuation && !ch.unicodeScalars.contains { $0.properties.numericType == .decimal })
        }
        guard (2...20).contains(contactName.count), contactName.allSatisfy(nameCharacterAllowed) else {
            throw FieldError(field: "emergencyContact.name", code: "invalid", message: "emergencyContact.name must be 2 to 20 letters.", messageZh: "请填写正确的联系人姓名。")
        }
        let relationship = try Self.choice(contactRelationship, field: "emergencyContact.relationship", from: Self.relationships, zh: "请选择与联系人的关系。")
        guard let rawPhone = contactPhone, !rawPhone.isEmpty else { throw Self.missing("emergencyContact.phone", zh: "请填写联系人手机号。") }
        let phone: MobileNumber
        do { phone = try MobileNumber(rawPhone) } catch {
            throw FieldError(field: "emergencyContact.phone", code: error.code, message: "emergencyContact.phone: " + error.message, messageZh: error.messageZh)
        }
        guard phone != applicantPhone else {
            throw FieldError(field: "emergencyContact.phone", code: "same_as_applicant", message: "emergencyContact.phone must not be your own phone number.",
                             messageZh: "紧急联系人手机号不能是您本人的号码。")
        }
        self.emergencyContact = EmergencyContact(name: contactName, relationship: relationship, phone: phone.value)
    }

    /// What the audit trail records: categories, never the contact's data or the employer's name.
    public var auditSummary: [String: String] {
        ["employmentType": employmentType, "monthlyIncome": Money.string(monthlyIncome), "housing": housing, "maritalStatus": maritalStatus,
         "education": education, "loanPurpose": loanPurpose, "employer": PersonalDataMask.name(employer), "emergencyContact": PersonalDataMask.name(emergencyContact.name)]
    }

    static func choice(_ raw: String?, field: String, from options: [(String, String)], zh: String) throws(FieldError) -> String {
        guard let raw, !raw.isEmpty else { throw missing(field, zh: zh) }
        guard options.contains(where: { $0.0 == raw }) else {
            throw FieldError(field: field, code: "invalid", message: "\(field) must be one of \(options.map(\.0).joined(separator: ", ")).", messageZh: zh)
        }
        return raw
    }

    static func missing(_ field: String, zh: String) -> FieldError {
        FieldError(field: field, code: "missing_field", message: "\(field) is required.", messageZh: zh)
    }
}
