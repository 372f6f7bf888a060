"""Real-browser walk of the head office's rollout and funnel: a visitor arriving through a manager of 上海分行 (not
online yet) sees 该地区即将开通 with the lead page offered; the admin switches 上海分行 online with a reason on 机构上线;
the same link now opens the phone page; the admin reads the funnel (SVG chart beside its table) and its CSV."""

import urllib.request

from test_console import Desk, desktop, totp
from test_journey import BASE_URL, Walk, browser  # noqa: F401  (browser is the pytest fixture)


def admin_sign_in(desk, login):
    desk.open("/console")
    desk.fill("#login", login)
    desk.fill("#password", "yidai-demo")
    desk.fill("#totp", totp())
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
        desk.sees("机构上线", "上海分行", "未上线")
        if "该地区即将开通" in visitor.text():
            visitor.sees("留下联系方式")
            visitor.shot("coming-soon")
            desk.shot("branches-before")
            desk.el("#branch-SH input[name=online]").click()
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
