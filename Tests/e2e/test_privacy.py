"""Real-browser walk of the privacy centre (个人信息查询与删除, /privacy): a person who started an application through a
manager's code opens the page from the footer, proves the phone with a fresh SMS code, sees their data unmasked,
withdraws marketing consent, makes a copy (the PDF downloaded and checked), and asks for erasure (confirmed, with the
legal deadline shown). The compliance officer then sees the request with its deadline on the workbench."""

import urllib.request

from test_console import Desk, desktop
from test_managers import fresh_phone
from test_journey import BASE_URL, Walk, browser  # noqa: F401  (browser is the pytest fixture)


def test_a_person_sees_copies_and_erases_their_data_and_compliance_sees_the_request(browser):
    phone = fresh_phone()
    visitor = Walk(browser, "privacy")
    # Signed in on the journey first: the privacy page still asks for its own code.
    visitor.sign_in(phone)
    visitor.click("#footer-privacy")
    visitor.sees("个人信息查询与删除", "每次进入都需要短信验证")
    visitor.shot("privacy-sign-in")
    visitor.fill("#phone", phone)
    code = visitor.send_code(phone, lambda: visitor.press("获取验证码") if visitor._has_button("获取验证码") else visitor.press("重新获取"))
    visitor.fill("#smsCode", code)
    visitor.press("验证并查看")
    visitor.sees("以下是易贷为您保存的全部信息", phone, "授权与同意", "银行工作人员查看您完整信息的记录", "营销信息")
    visitor.shot("privacy-data")
    visitor.click("#withdraw-marketing")
    visitor.sees("已撤回该授权")
    # The privacy notice is needed by the application in progress: withdrawing it asks first.
    visitor.click("#withdraw-privacy_notice")
    visitor.sees("正在办理的借款申请将被取消", "确认撤回并取消申请")
    visitor.shot("privacy-withdraw-confirm")
    visitor.press("不撤回")
    visitor.press("生成我的信息副本（PDF与JSON，24小时内可下载）")
    visitor.sees("副本已生成")
    href = visitor.el("#download-pdf").get_attribute("href")
    cookie = visitor.d.get_cookie("yd_privacy")
    request = urllib.request.Request(href, headers={"Cookie": f"yd_privacy={cookie['value']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        pdf = response.read()
    assert response.headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF-"), response.headers
    visitor.shot("privacy-export")
    visitor.press("请求删除我的个人信息")
    visitor.sees("请求删除我的个人信息", "15个工作日")
    visitor.shot("privacy-erase-confirm")
    visitor.press("确认提交删除请求")
    visitor.sees("已收到您的删除请求", "删除请求", "处理中")
    visitor.shot("privacy-erase-accepted")

    driver = desktop()
    try:
        desk = Desk(driver, "compliance")
        desk.sign_in("compliance")
        desk.open("/console/privacy")
        masked = phone[:3] + "****" + phone[-4:]
        desk.sees("个人信息请求", masked, "待处理", "答复期限")
        assert phone not in desk.text()
        desk.shot("privacy-requests")
    finally:
        driver.quit()
