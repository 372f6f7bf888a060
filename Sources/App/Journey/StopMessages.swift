enum StopMessages {
    static func english(_ reason: String?) -> String {
        switch reason {
        case "identity_mismatch": "The citizen registry did not confirm this identity, so the application cannot continue online."
        case "liveness_failed", "face_mismatch": "Face verification failed 3 times; try again after 24 hours."
        case "phone_not_owned": "This phone number is not registered to the applicant, so the application cannot continue online."
        default: "This application cannot continue online."
        }
    }

    static func chinese(_ reason: String?) -> String {
        switch reason {
        case "identity_mismatch": "身份信息核查未通过，无法在线继续办理。请携带身份证到网点办理。"
        case "liveness_failed", "face_mismatch": "人脸识别失败次数过多，请24小时后再试。"
        case "phone_not_owned": "该手机号不是您本人实名登记，无法在线继续办理。"
        default: "该申请无法在线继续办理。"
        }
    }
}
