"""Real-browser walk of the head office's rollout and funnel: a visitor arriving through a manager of 上海分行 (not
online yet) sees 该地区即将开通 with the lead page offered; the admin switches 上海分行 online with a reason on 机构上线;
the same link now opens the phone page; the admin reads the funnel (SVG chart beside its table) and its CSV."""

import urllib.request

from test_console import Desk, desktop, fresh_totp
from test_journey import BASE_URL, Walk, browser  # noqa: F401  (browser is the pytest fixture)


def admin_sign_in(desk, login):
    desk.open("/console")
    desk.fill("#login", login)
    desk.fill("#password", "yidai-demo")
    desk.fill("#totp", fresh_totp(login))
    desk.click("#sign-in")
    assert desk.path().startswith("/console") and desk.path() != "/console/sign-in", desk.text()[:500]


def test_the_admin_opens_a_branch_and_reads_the_funnel(browser):
    visitor = Walk(browser, "visitor-sh")
    visitor.open("/?cm=SH-0001&ch=qr")
    driver = desktop()
    try:
        desk = Desk(driver, "head-office-admin")
        admin_sign_in(desk, "admin")
        desk.open("/console/branches")
        desk.sees("机构上线", "上海分行")
        if "该地区即将开通" in visitor.text():  # a fresh server: 上海分行 is not online yet
            desk.sees("未上线")
            visitor.sees("留下联系方式")
            visitor.shot("coming-soon")
            desk.shot("branches-before")
            desk.select("#online-SH", "on")
            desk.fill("#reason-SH", "上海分行试点上线")
            desk.click("#save-SH")
            desk.sees("上海分行（SH）已上线")
            desk.shot("branches-after")
        visitor.open("/?cm=SH-0001&ch=qr")
        visitor.sees("手机号验证")
        desk.open("/console/reports?by=page")
        desk.sees("转化漏斗", "手机号验证", "身份证识别", "流失率")
        assert driver.find_elements("css selector", "svg.chart title"), "the chart is an SVG with a title"
        desk.shot("funnel")
        href = desk.el("#csv").get_attribute("href")
        assert href.startswith(BASE_URL + "/console/reports.csv")
        cookie = driver.get_cookie("yd_staff")
        request = urllib.request.Request(href, headers={"Cookie": f"yd_staff={cookie['value']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode("utf-8-sig")
        assert text.startswith("key,entered,completed,dropOffPercent,medianSeconds") and "\r\nphone," in text, text
    finally:
        driver.quit()


def older_candidate(folder):
    """The shipped policy with the maximum age 55 → 56 (and the cases expecting the age decline removed)."""
    import json
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2] / "Policies" / "credit"
    credit = (root / "credit.json").read_text("utf-8").replace('"> 55"', '"> 56"')
    cases = json.loads((root / "cases.json").read_text("utf-8"))
    cases["cases"] = [c for c in cases["cases"] if "AGE_ABOVE_MAXIMUM" not in json.dumps(c)]
    paths = []
    for name, text in (("credit.json", credit), ("cases.json", json.dumps(cases, ensure_ascii=False))):
        path = pathlib.Path(folder) / name
        path.write_text(text, "utf-8")
        paths.append(str(path))
    return paths


def decide_p09():
    """P09 (age 56) through the API to the decision: declined for age by the policy in force."""
    import base64
    from test_console import api, newest_code
    phone = "13800000009"
    api("POST", "/api/v1/sms-codes", {"phone": phone})
    session = api("POST", "/api/v1/sessions", {"phone": phone, "code": newest_code(phone)})
    token, app_id = session["token"], session["application"]["id"]
    base = f"/api/v1/applications/{app_id}"
    if session["application"]["state"] != "started":
        return
    images = {s: base64.b64encode(api("GET", f"/sandbox/cards/P09-{s}.png", accept="image/png")).decode() for s in ("front", "back")}
    reading = api("POST", base + "/id-card", {"frontImage": images["front"], "backImage": images["back"]}, token)
    api("POST", base + "/id-card/confirm", {"name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"],
                                            "validUntil": reading["validUntil"] or "长期"}, token)
    api("POST", base + "/face", {"simulate": True}, token)
    api("POST", base + "/bank-card", {"cardNumber": "6222020200110000904"}, token)
    api("POST", base + "/bank-card/confirm", {"code": newest_code(phone)}, token)
    text = api("GET", base + "/credit-authorization", token=token)
    api("POST", base + "/credit-authorization/sms-code", token=token)
    api("POST", base + "/credit-authorization", {"version": text["version"], "sha256": text["sha256"], "agree": True, "code": newest_code(phone)}, token)
    api("PUT", base + "/about-you", {
        "employer": "青岛市测试机械有限公司", "employmentType": "salaried", "monthlyIncome": "20000", "housing": "owned",
        "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
        "emergencyContact": {"name": "周丽", "relationship": "spouse", "phone": "13900000003"}}, token)
    api("POST", base + "/decision", token=token)


def test_a_risk_person_uploads_a_candidate_replays_it_and_a_second_one_publishes_it(browser, tmp_path):
    import time
    decide_p09()
    driver = desktop()
    try:
        desk = Desk(driver, "policy-risk1")
        desk.sign_in("risk1")
        desk.open("/console/policies")
        desk.sees("审批策略", "credit@v1", "生效中")
        desk.el("#files").send_keys("\n".join(older_candidate(tmp_path)))
        desk.fill("#note", "放宽年龄上限至56岁")
        desk.click("#upload-policy")
        desk.sees("已上传", "待复核", "须另一位风险人员复核")
        desk.shot("uploaded")
        desk.click("#versions tr:first-child form[action$='shadow-replays'] button")
        for _ in range(60):
            if "回放中" not in desk.text():
                break
            time.sleep(0.5)
            desk.open(desk.path())
        desk.sees("通过率", "拒绝率", "利率分布", "结果改变的申请", "AGE_ABOVE_MAXIMUM")
        desk.shot("shadow-replay")
        desk.click("#sign-out")

        second = Desk(driver, "policy-risk2")
        second.count = desk.count
        time.sleep(1)
        second.sign_in("risk2")
        second.open("/console/policies")
        second.click("#pending-changes form button")
        second.sees("已生效", "risk2")
        second.shot("published")
    finally:
        driver.quit()


def test_the_head_office_reads_the_daily_figures_and_the_auditor_verifies_the_trail(browser):
    driver = desktop()
    try:
        desk = Desk(driver, "head-office-daily")
        admin_sign_in(desk, "ho-retail")
        desk.open("/console/reports/daily")
        desk.sees("每日数据", "新申请", "批准率", "放款金额", "逾期金额", "线索状态")
        assert driver.find_elements("css selector", "svg.chart title"), "the chart is an SVG with a title"
        assert driver.find_elements("css selector", "table#daily caption")
        desk.shot("daily-figures")
        href = desk.el("#csv").get_attribute("href")
        cookie = driver.get_cookie("yd_staff")
        request = urllib.request.Request(href, headers={"Cookie": f"yd_staff={cookie['value']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode("utf-8-sig")
        assert text.startswith("day,newApplicants,approved,declined,referred,approvalRatePercent") and "\r\ntotal," in text, text
    finally:
        driver.quit()
    driver = desktop()
    try:
        desk = Desk(driver, "auditor")
        admin_sign_in(desk, "auditor")
        desk.open("/console/audit")
        desk.sees("审计日志", "序号", "操作人", "校验哈希链")
        desk.shot("audit-trail")
        desk.click("#verify")
        desk.sees("哈希链完整")
        desk.shot("audit-verified")
        desk.fill("#action", "staff.signed_in")
        desk.click("#filter")
        desk.sees("staff.signed_in")
        desk.open("/console/audit/reveals")
        desk.sees("个人信息查看记录")
        desk.shot("audit-reveals")
        desk.open("/console/audit")
        href = desk.el("#export-csv").get_attribute("href")
        cookie = driver.get_cookie("yd_staff")
        request = urllib.request.Request(href, headers={"Cookie": f"yd_staff={cookie['value']}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode("utf-8-sig")
        assert text.startswith("verification,entries,anchorsChecked") and "\r\nintact," in text, text[:300]
    finally:
        driver.quit()
