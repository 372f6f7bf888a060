"""Real-browser walk of a loan's life on the H5 pages ("我的贷款"): headless Chromium at 375x812, like
test_journey.py (whose browser and page helpers it reuses), against a running sandbox server at YIDAI_BASE_URL.

A sandbox applicant with a fresh phone (the sandbox treats it like P01, and it keeps this walk apart from the journey
walk on P01's own phone) and P01's test ID card and debit card walks to the loan request, signs the contract with the
SMS code on the contract page, sees the loan paid out in 我的贷款, prepays part of it (the new plan is shown before
confirming; the confirm form is sent three times with its one idempotency key and pays once), then pays the rest off
with the day's quote. A screenshot of every page goes to YIDAI_SCREENSHOTS (default e2e-screenshots/).
"""

import random
import re
import time

from selenium.webdriver.common.by import By

from test_journey import P01, Walk, browser  # noqa: F401  (browser is the pytest fixture)


def fresh_phone():
    """A valid phone that is not a sandbox person's (those are 13800000001-13800000011)."""
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


def yuan(text):
    """'12,345.67元' -> 1234567 (fen)."""
    match = re.search(r"-?[\d,]+\.\d{2}", text)
    assert match, f"no amount in {text!r}"
    return int(match.group(0).replace(",", "").replace(".", ""))


def post_form_from_page(walk, form_css, times):
    """Sends the form's fields `times` times at once, as a double-tapping browser would (same cookies, same hidden
    fields), without leaving the page; returns each answer's type ("opaqueredirect" for the redirect to a receipt)."""
    return walk.d.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const form = document.querySelector(arguments[0]);
        const body = new URLSearchParams(new FormData(form)).toString();
        const send = () => fetch(form.action, {method: 'POST', body, redirect: 'manual', credentials: 'same-origin',
                                               headers: {'Content-Type': 'application/x-www-form-urlencoded'}})
          .then(r => r.type + ':' + r.status).catch(e => 'error:' + e);
        Promise.all(Array.from({length: arguments[1]}, send)).then(done);
        """,
        form_css, times)


def fetch_bytes(walk, path):
    """Downloads a link with the page's cookies; returns [status, first bytes as text, length]."""
    return walk.d.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'})
          .then(async r => { const b = new Uint8Array(await r.arrayBuffer());
                             done([r.status, String.fromCharCode(...b.slice(0, 5)), b.length, r.headers.get('content-type')]); })
          .catch(e => done([0, String(e), 0, '']));
        """,
        path)


def walk_to_loan_request(walk, phone, browser):
    walk.sign_in(phone)
    walk.expect_path("/apply/id-card")
    walk.shot("id-card")
    walk.click("#sample-P01")
    walk.expect_path("/apply/id-card")
    assert walk.el("#name").get_attribute("value") == P01["name"]
    walk.shot("id-card-confirm")
    walk.press("确认无误，下一步")

    walk.expect_path("/apply/face")
    walk.shot("face")
    walk.click("#simulate-face")

    walk.expect_path("/apply/bank-card")
    walk.shot("bank-card")

    def submit_card():
        if browser.find_elements(By.CSS_SELECTOR, "#cardNumber"):
            walk.fill("#cardNumber", P01["card"])
            walk.press("下一步，获取验证码")
        else:
            walk.press("重新发送验证码")

    code = walk.send_code(phone, submit_card)
    walk.shot("bank-card-code")
    walk.fill("#code", code)
    walk.press("确认绑定")

    walk.expect_path("/apply/authorization")
    walk.click("#agree", navigates=False)
    code = walk.send_code(phone, lambda: walk.press("获取验证码") if walk._has_button("获取验证码") else walk.press("重新获取"))
    walk.fill("#code", code)
    walk.shot("authorization")
    walk.press("同意授权并签署")

    walk.expect_path("/apply/about-you")
    walk.fill("#employer", "深圳市科技有限公司")
    walk.select("#employmentType", "salaried")
    walk.fill("#monthlyIncome", "25000")
    walk.select("#housing", "owned")
    walk.select("#maritalStatus", "married")
    walk.select("#education", "bachelor")
    walk.select("#loanPurpose", "consumption")
    walk.fill("#contactName", "李娜")
    walk.select("#contactRelationship", "spouse")
    walk.fill("#contactPhone", "13912345678")
    walk.shot("about-you")
    walk.press("提交，查看额度")

    # The decision runs as the last facts are saved: the next page is its result.
    walk.expect_path("/apply/result")
    walk.sees("恭喜，您已获得授信额度")
    walk.shot("result-approved")
    walk.click("#borrow")

    walk.expect_path("/apply/loan")
    walk.fill("#amount", "20000")
    walk.select("#termMonths", "12")
    walk.click("input[name=method][value=equal-installment]", navigates=False)
    walk.press("试算")
    walk.expect_path("/apply/loan")
    walk.sees("借款20,000.00元 · 12个月 · 等额本息")
    walk.shot("loan-request")
    walk.press("提交申请")
    walk.expect_path("/apply/done")
    walk.sees("申请已提交", "20,000.00元")
    walk.shot("done")


def test_a_borrower_signs_receives_the_money_prepays_and_pays_off_on_the_pages(browser):  # noqa: F811
    walk = Walk(browser, "LOAN")
    phone = fresh_phone()
    walk_to_loan_request(walk, phone, browser)

    # 我的贷款 from the done page: the application waits for the signature.
    walk.click("#go-my-loans")
    walk.expect_path("/loans")
    walk.sees("我的贷款", "申请记录", "待签约", "暂无已放款的贷款")
    walk.shot("my-loans-to-sign")
    assert walk.el("#application-list .app-action").text.startswith("签署合同")
    walk.click("#application-list .app-action")

    # The contract page: read, agree, SMS code, sign.
    walk.expect_path("/loan/contract")
    walk.sees("个人借款合同", "年化利率（APR）", "还款计划")
    walk.shot("contract")
    walk.click("#agree", navigates=False)
    code = walk.send_code(phone, lambda: walk.click("#send-code"))
    walk.fill("#code", code)
    walk.shot("contract-code")
    walk.click("#sign-contract")
    walk.expect_path("/loan/contract")
    walk.sees("合同已签署")
    walk.shot("contract-signed")

    # Back to 我的贷款 through the top bar. Viewing a page never moves money: the server's payout job pays the
    # signed loan within seconds, and until then the application shows 放款中.
    walk.click("#my-loans")
    walk.expect_path("/loans")
    for _ in range(30):
        if "暂无已放款的贷款" not in walk.text():
            break
        assert "放款中" in walk.text(), walk.text()[:2000]
        time.sleep(1)
        walk.open("/loans")
    walk.sees("20,000.00元", "还款中", "已放款", "剩余本金", "下期应还")
    walk.shot("my-loans-disbursed")
    walk.click("#loan-list .loan-link")
    assert re.fullmatch(r"/loans/[0-9a-f-]{36}", walk.path()), walk.path()
    loan_path = walk.path()

    # The loan page: 12 scheduled rows, balances, next payment, the contract files.
    walk.sees("还款中", "还款计划", "剩余本金", "下期应还（第1期）", "6222 **** **** 0102")
    rows = browser.find_elements(By.CSS_SELECTOR, "#loan-schedule tbody tr")
    assert len(rows) == 12 and all(r.get_attribute("data-status") == "scheduled" for r in rows)
    assert yuan(walk.el("#balances").text.split("剩余本金")[1]) == 2_000_000
    pdf = fetch_bytes(walk, walk.el("#contract-pdf").get_attribute("href"))
    assert pdf[0] == 200 and pdf[1] == "%PDF-", pdf
    p7s = fetch_bytes(walk, walk.el("#contract-p7s").get_attribute("href"))
    assert p7s[0] == 200 and p7s[2] > 500 and "pkcs7" in p7s[3], p7s
    walk.shot("loan")

    # Repay: on the day of disbursement nothing is due yet; the page says so and offers prepayment and payoff.
    walk.click("#go-repay")
    walk.expect_path(loan_path + "/repay")
    walk.sees("当前无到期应还", "提前还款（部分）", "全部结清")
    walk.shot("repay-nothing-due")
    walk.click("#go-prepay")

    # Partial prepayment: a wrong amount is refused next to the field; then the new plan for "减少月供".
    walk.expect_path(loan_path + "/prepay")
    walk.shot("prepay")
    walk.fill("#amount", "abc")
    walk.click("#mode-lower-installment", navigates=False)
    walk.click("#prepay-quote")
    assert walk.field_error("amount"), "a malformed amount is refused next to the field"
    walk.shot("prepay-error")
    walk.fill("#amount", "5000")
    walk.click("#mode-lower-installment", navigates=False)
    walk.click("#prepay-quote")
    walk.sees("新的还款计划（减少月供）", "还款前", "还款后", "节省利息", "确认提前还款")
    new_rows = browser.find_elements(By.CSS_SELECTOR, "#new-plan tbody tr")
    assert len(new_rows) == 12, "lower installment keeps the 12 installments"
    to_pay = yuan(walk.el("#prepay-amount").text)
    assert to_pay >= 500_000
    walk.shot("prepay-plan")

    # The borrower's choice: shorten the term instead, then confirm that plan.
    walk.click("#mode-shorten-term", navigates=False)
    walk.click("#prepay-quote")
    walk.sees("新的还款计划（缩短期限）")
    shorter = browser.find_elements(By.CSS_SELECTOR, "#new-plan tbody tr")
    assert len(shorter) < 12, f"shorten term leaves fewer installments, got {len(shorter)}"
    to_pay = yuan(walk.el("#prepay-amount").text)
    walk.shot("prepay-plan-shorter")

    # A double (here triple) submit of the confirm form with its one idempotency key pays once.
    answers = post_form_from_page(walk, ".confirm-form", 2)
    assert answers == ["opaqueredirect:0", "opaqueredirect:0"], answers  # both answered with the receipt's redirect
    walk.click("#confirm-prepay")
    assert re.fullmatch(loan_path + r"/payments/[0-9a-f-]{36}", walk.path()), walk.path()
    walk.sees("还款成功", "部分提前还款 · 缩短期限", "还款中")
    assert yuan(walk.el("#receipt-amount").text) == to_pay
    assert yuan(walk.el("#receipt-outstanding").text) == 1_500_000
    walk.shot("prepay-receipt")

    walk.click("#back-to-loan")
    walk.expect_path(loan_path)
    payments = browser.find_elements(By.CSS_SELECTOR, "#payment-list .payment-item")
    assert len(payments) == 1, f"one payment for one idempotency key, got {len(payments)}"
    assert yuan(walk.el("#balances").text.split("剩余本金")[1]) == 1_500_000
    assert len(browser.find_elements(By.CSS_SELECTOR, "#loan-schedule tbody tr")) == len(shorter)
    walk.shot("loan-after-prepay")

    # Payoff: the day's quote, then confirm; the loan is closed.
    walk.click("#go-payoff")
    walk.expect_path(loan_path + "/payoff")
    walk.sees("今日结清需还", "当日有效", "剩余本金", "15,000.00元")
    payoff = yuan(walk.el("#payoff-amount").text)
    assert payoff >= 1_500_000
    walk.shot("payoff-quote")
    walk.click("#confirm-payoff")
    walk.sees("还款成功，贷款已结清", "已结清")
    assert yuan(walk.el("#receipt-amount").text) == payoff
    walk.shot("payoff-receipt")
    walk.click("#back-to-loan")
    walk.expect_path(loan_path)
    walk.sees("已结清")
    assert not browser.find_elements(By.CSS_SELECTOR, "#go-repay"), "a closed loan offers no repayment"
    assert browser.find_elements(By.CSS_SELECTOR, "#loan-schedule tr.row-paid")
    walk.shot("loan-paid-off")

    walk.open("/loans")
    walk.sees("已结清")
    walk.shot("my-loans-paid-off")
