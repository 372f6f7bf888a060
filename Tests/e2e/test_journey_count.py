"""How much the first journey asks of a person, counted in the browser: from the phone page to a signed contract
with a fresh phone (the sandbox treats it like P01), taking no detour. Screens are pages loaded, taps are buttons,
links and ticks, fields are values typed or chosen. README.md ("The journey, counted") states the same numbers; a
change to the pages that adds a screen, a tap or a field fails here until both are updated on purpose."""

from selenium.webdriver.common.by import By

from test_journey import P01, Walk, browser  # noqa: F401  (browser is the pytest fixture)
from test_loan_life import fresh_phone

EXPECTED = {"screens": 13, "taps": 19, "fields": 16, "sms_codes": 4}


def test_the_first_journey_takes_the_documented_screens_taps_and_fields(browser):  # noqa: F811
    walk = Walk(browser, "COUNT")
    phone = fresh_phone()
    codes = 0

    walk.sign_in(phone)  # 2 ticks, the phone, 获取验证码, the code, 登录
    codes += 1
    walk.expect_path("/apply/id-card")
    walk.click("#sample-P01")  # the photo of the ID card (the sandbox's sample stands for the camera)
    walk.expect_path("/apply/id-card")
    walk.press("确认无误，下一步")
    walk.expect_path("/apply/face")
    walk.click("#simulate-face")  # the face scan
    walk.expect_path("/apply/bank-card")
    code = walk.send_code(phone, lambda: (walk.fill("#cardNumber", P01["card"]), walk.press("下一步，获取验证码")))
    codes += 1
    walk.fill("#code", code)
    walk.press("确认绑定")
    walk.expect_path("/apply/authorization")
    walk.click("#agree", navigates=False)
    code = walk.send_code(phone, lambda: walk.press("获取验证码"))
    codes += 1
    walk.fill("#code", code)
    walk.press("同意授权并签署")
    walk.expect_path("/apply/about-you")
    walk.fill("#employer", "深圳市科技有限公司")
    walk.select("#employmentType", "salaried")
    walk.fill("#monthlyIncome", "25000")
    walk.select("#housing", "rented")
    walk.select("#maritalStatus", "married")
    walk.select("#education", "bachelor")
    walk.select("#loanPurpose", "consumption")
    walk.fill("#contactName", "李娜")
    walk.select("#contactRelationship", "spouse")
    walk.fill("#contactPhone", "13912345678")
    walk.press("提交，查看额度")
    walk.expect_path("/apply/result")
    walk.sees("恭喜，您已获得授信额度")
    walk.click("#borrow")
    walk.expect_path("/apply/loan")
    walk.press("提交申请")  # the offered amount, 12 months, equal installments: no field needs changing
    walk.expect_path("/apply/done")
    walk.click("#go-contract")
    walk.expect_path("/loan/contract")
    walk.click("#agree", navigates=False)
    code = walk.send_code(phone, lambda: walk.click("#send-code", navigates=not _sends_in_place(walk)))
    codes += 1
    walk.fill("#code", code)
    walk.click("#sign-contract")
    walk.expect_path("/loan/contract")
    walk.sees("合同已签署")
    walk.shot("signed")

    counted = {"screens": walk.screens, "taps": walk.taps, "fields": walk.fields, "sms_codes": codes}
    assert counted == EXPECTED, f"the journey now takes {counted}; README.md says {EXPECTED}"


def _sends_in_place(walk):
    """True when the page sends the code without loading a new page (its script is on)."""
    return bool(walk.d.find_elements(By.CSS_SELECTOR, "form[data-sends-in-place]"))
