"""Real-browser walk of the staff workbench (/console) at a desktop's size: a risk reviewer signs in with the demo
TOTP code, approves the referred sandbox person P11 above the 50,000 threshold, a second reviewer confirms it, and
P11's phone then sees the approval. Screenshots go beside the journey's (YIDAI_SCREENSHOTS)."""

import base64
import hashlib
import hmac
import json
import struct
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from accessibility import assert_accessible
from test_journey import BASE_URL, SCREENSHOTS, Walk, _binary, browser  # noqa: F401  (browser is the pytest fixture)

DEMO_SECRET = "YIDAIDEMOTOTPSECRETYIDAIDEMO2345"
P11 = {"phone": "13800000011", "card": "6222020200110001100", "income": "12000"}


def totp(secret=DEMO_SECRET, at=None):
    """RFC 6238: HMAC-SHA1 over the 30-second step, 6 digits."""
    key = base64.b32decode(secret)
    step = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


_LAST_STEP = {}


def fresh_totp(login):
    """A code for `login` from a 30-second step it has not used yet (a used code never works twice): waits for the
    next step when this login already signed in during the current one."""
    step = int(time.time() // 30)
    if _LAST_STEP.get(login) == step:
        time.sleep((step + 1) * 30 - time.time() + 0.5)
        step = int(time.time() // 30)
    _LAST_STEP[login] = step
    return totp(at=step * 30 + 1)


def api(method, path, body=None, token=None, accept="application/json"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE_URL + path, data=data, method=method, headers={"Accept": accept})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if accept == "application/json" else raw


def newest_code(phone):
    messages = [m for m in api("GET", f"/sandbox/sms?phone={phone}") if "验证码" in m["text"]]  # codes, not notifications
    import re
    return re.search(r"(?<!\d)\d{6}(?!\d)", messages[0]["text"]).group(0)


def refer_p11():
    """P11 walks the journey through customer manager SZ-0001's code (the API is quicker than the pages here)."""
    phone = P11["phone"]
    api("POST", "/api/v1/sms-codes", {"phone": phone})
    session = api("POST", "/api/v1/sessions", {"phone": phone, "code": newest_code(phone), "cm": "SZ-0001", "ch": "qr"})
    token, app_id = session["token"], session["application"]["id"]
    base = f"/api/v1/applications/{app_id}"
    images = {s: base64.b64encode(api("GET", f"/sandbox/cards/P11-{s}.png", accept="image/png")).decode() for s in ("front", "back")}
    reading = api("POST", base + "/id-card", {"frontImage": images["front"], "backImage": images["back"]}, token)
    api("POST", base + "/id-card/confirm", {"name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"],
                                            "validUntil": reading["validUntil"] or "长期"}, token)
    api("POST", base + "/face", {"simulate": True}, token)
    api("POST", base + "/bank-card", {"cardNumber": P11["card"]}, token)
    api("POST", base + "/bank-card/confirm", {"code": newest_code(phone)}, token)
    text = api("GET", base + "/credit-authorization", token=token)
    api("POST", base + "/credit-authorization/sms-code", token=token)
    api("POST", base + "/credit-authorization", {"version": text["version"], "sha256": text["sha256"], "agree": True, "code": newest_code(phone)}, token)
    api("PUT", base + "/about-you", {
        "employer": "西安市测试软件有限公司", "employmentType": "salaried", "monthlyIncome": P11["income"], "housing": "rented",
        "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
        "emergencyContact": {"name": "孙丽", "relationship": "spouse", "phone": "13900000002"}}, token)
    decided = api("POST", base + "/decision", token=token)
    assert decided["state"] == "referred", decided
    return app_id


class Desk(Walk):
    """A member of staff at a desktop browser (1280 wide); screenshots of the whole page."""

    def shot(self, label):
        self.count += 1
        target = SCREENSHOTS / f"{self.who}-{self.count:02d}-{label}.png"
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1280, max(800, height + 40))
        self.d.save_screenshot(str(target))
        assert not self.d.find_elements(By.TAG_NAME, "script"), "the workbench needs no JavaScript"
        # Desktop first, usable on a phone: axe-core at the phone's widths too.
        try:
            assert_accessible(self.d, f"{self.path()} ({label})")
        finally:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return target

    def sign_in(self, login):
        self.open("/console")
        assert self.path() == "/console/sign-in", self.path()
        self.fill("#login", login)
        self.fill("#password", "yidai-demo")
        self.fill("#totp", fresh_totp(login))
        self.shot("sign-in")
        self.click("#sign-in")
        assert self.path() == "/console/queue", f"{self.path()}: {self.text()[:500]}"


def desktop():
    options = Options()
    options.binary_location = _binary("CHROME_BIN", "chromium", "chromium-browser", "google-chrome")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                     "--lang=zh-CN", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=_binary("CHROMEDRIVER", "chromedriver")))
    driver.set_page_load_timeout(30)
    return driver


def test_a_reviewer_approves_p11_a_second_reviewer_confirms_and_p11_sees_the_approval(browser):
    app_id = refer_p11()
    # P11's phone first sees the referral: who will call and by when; 我的贷款 says 审核中.
    phone = Walk(browser, "console-p11")
    phone.sign_in(P11["phone"])
    phone.open("/apply/result")
    phone.sees("人工审核中", "您的客户经理林晓（深圳南山支行）将在")
    phone.shot("p11-referred")
    phone.open("/loans")
    phone.sees("审核中", "查看审核进度")
    phone.shot("p11-my-loans-referred")
    driver = desktop()
    try:
        # risk1: the queue, the application, the approval with its APR shown before it is confirmed.
        desk = Desk(driver, "console-risk1")
        desk.sign_in("risk1")
        desk.sees("审核队列", "孙*", "138****0011", "人工审核中")
        desk.shot("queue")
        desk.click("#queue .queue-link")
        desk.sees("机审结果", "征信摘要", "身份核验", "近3个月查询次数")
        assert "13800000011" not in desk.text(), "personal data is masked"
        desk.shot("application")
        desk.fill("#credit-limit", "60000")
        desk.fill("#annual-rate", "12.00")
        desk.click("#approve-preview")
        desk.sees("年化利率（APR，按IRR计算）", "12.00%")
        assert desk.d.find_elements(By.CSS_SELECTOR, "#needs-second"), "60,000 needs a second reviewer"
        desk.shot("approve-preview")
        desk.click("#approve-submit")
        desk.sees("待复核", "您的审批决定正等待另一位审核员复核")
        assert not desk.d.find_elements(By.CSS_SELECTOR, "#confirm-yes"), "nobody confirms their own decision"
        desk.shot("awaiting-second-review")
        desk.click("#sign-out")

        # risk2 confirms.
        second = Desk(driver, "console-risk2")
        second.count = desk.count
        second.sign_in("risk2")
        second.open(f"/console/applications/{app_id.lower()}")
        second.sees("复核", "risk1 提议批准", "60000.00")
        second.shot("confirmation")
        second.fill("#confirm-note", "收入与负债核实无误，同意")
        second.click("#confirm-yes")
        second.sees("已获批", "已复核通过")
        second.shot("approved")
    finally:
        driver.quit()

    # P11's phone sees the approval and can borrow.
    phone.open("/apply/result")
    phone.sees("恭喜，您已获得授信额度", "60,000", "年化利率（APR）")
    phone.shot("p11-approved")
