"""Real-browser walk of the H5 journey: headless Chromium (Debian's chromium + chromium-driver) at a phone's
screen size (375x812), driven by Selenium, using only the pages.

It starts nothing itself: run a sandbox server first and point YIDAI_BASE_URL at it, e.g.

    YIDAI_DATA_DIR=$(mktemp -d) .build/debug/yidai serve --port 8090 &
    YIDAI_BASE_URL=http://127.0.0.1:8090 python3 -m pytest Tests/e2e -q

SMS codes are read from the sandbox outbox (GET /sandbox/sms?phone=... with Accept: application/json), as a
tester would read them off the phone. A screenshot of every page goes to YIDAI_SCREENSHOTS (default
e2e-screenshots/). The sandbox sends at most one SMS per phone per 60 s, so the P01 walk takes about two minutes.
"""

import json
import os
import pathlib
import re
import shutil
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from accessibility import assert_accessible

BASE_URL = os.environ.get("YIDAI_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
SCREENSHOTS = pathlib.Path(os.environ.get("YIDAI_SCREENSHOTS", "e2e-screenshots"))
WIDTH, HEIGHT = 375, 812

P01 = {"phone": "13800000001", "name": "张伟", "card": "6222020200110000102"}
P03 = {"phone": "13800000003", "name": "李强"}


# ---------------------------------------------------------------------------------------------------------
# Browser


def _binary(env, *names):
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"{names[0]} not found: install Debian's chromium and chromium-driver (or set {env})")


def new_browser():
    """Headless Chromium emulating a 375x812 phone."""
    options = Options()
    options.binary_location = _binary("CHROME_BIN", "chromium", "chromium-browser", "google-chrome")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDTH},{HEIGHT}", "--lang=zh-CN", "--hide-scrollbars",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"):
        options.add_argument(argument)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2.0, "touch": True},
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1 yidai-e2e",
    })
    service = Service(executable_path=_binary("CHROMEDRIVER", "chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser():
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


def staleness_of(element):
    """True once `element` no longer belongs to the page (a new page has loaded). Chromium reports a node of a
    replaced document either as stale or as "does not belong to the document", depending on timing."""

    def gone(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    return gone


class Walk:
    """One person's walk through the pages: finds things, fills forms, saves numbered screenshots."""

    def __init__(self, driver, who):
        self.d = driver
        self.who = who
        self.count = 0
        # What the applicant does, counted: pages loaded, taps (buttons, links, ticks) and fields filled or chosen.
        self.screens = 0
        self.taps = 0
        self.fields = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # -- navigation and screenshots --

    def open(self, path):
        self.d.get(BASE_URL + path)
        self.screens += 1
        self.settle()

    def settle(self):
        WebDriverWait(self.d, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def path(self):
        return urllib.parse.urlparse(self.d.current_url).path

    def expect_path(self, path):
        WebDriverWait(self.d, 20).until(lambda d: urllib.parse.urlparse(d.current_url).path == path,
                                        message=f"expected {path}, at {self.d.current_url}")
        self.settle()

    def shot(self, label):
        """Saves the whole page (not only the viewport) as <who>-NN-<label>.png."""
        self.count += 1
        # Every page works without JavaScript: only the face page (camera capture), the loan page (a live plan on
        # top of the "试算" button) and the pages that send an SMS code (sent in place) load a script, from the site.
        scripts = [re.sub(r"\.[0-9a-f]{12}\.js$", ".js", e.get_attribute("src"))
                   for e in self.d.find_elements(By.TAG_NAME, "script")]
        allowed = {"/apply/face": [BASE_URL + "/js/camera.js"], "/apply/loan": [BASE_URL + "/js/loan.js"],
                   "/": [BASE_URL + "/js/code.js"], "/apply/authorization": [BASE_URL + "/js/code.js"],
                   "/loan/contract": [BASE_URL + "/js/code.js"]}
        assert set(scripts) <= set(allowed.get(self.path(), [])), f"{self.path()} loads scripts {scripts}"
        # Every page the walk shows is checked by axe-core at 375 and 320 px.
        assert_accessible(self.d, f"{self.path()} ({label})")
        target = SCREENSHOTS / f"{self.who}-{self.count:02d}-{label}.png"
        try:
            metrics = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            height = max(HEIGHT, int(size["height"]))
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": WIDTH, "height": height, "deviceScaleFactor": 2, "mobile": True})
            try:
                self.d.save_screenshot(str(target))
            finally:
                self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                    "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
        except Exception:  # CDP not available: the viewport is better than nothing
            self.d.save_screenshot(str(target))
        assert target.exists() and target.stat().st_size > 0
        return target

    # -- page content --

    def el(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def text(self):
        return self.el("body").text

    def sees(self, *phrases):
        body = self.text()
        for phrase in phrases:
            assert phrase in body, f"{phrase!r} not on {self.d.current_url}:\n{body[:2000]}"

    def banner_and_progress(self, progress=None):
        self.sees("测试环境 · 所有外部服务均为模拟")
        if progress:
            assert progress in self.el(".progress-label").text

    def fill(self, css, value):
        self.fields += 1
        field = self.el(css)
        field.clear()
        field.send_keys(value)

    def select(self, css, value):
        self.fields += 1
        Select(self.el(css)).select_by_value(value)

    def click(self, css, navigates=True):
        """Clicks; when the click submits a form or follows a link, waits for the next page (or, for a form the page's
        script sends in place, for the form to come back)."""
        old = self.el("html")
        target = self.el(css)
        target.click()
        self.taps += 1
        if navigates:
            self._wait_for_answer(old, target, css)
        self.settle()

    def _wait_for_answer(self, old_html, target, what):
        WebDriverWait(self.d, 30).until(staleness_of(target), message=f"{what} did not load a page")
        if staleness_of(old_html)(self.d):
            self.screens += 1

    def button(self, text):
        for candidate in self.d.find_elements(By.CSS_SELECTOR, "button, a.btn"):
            if candidate.is_displayed() and candidate.text.strip() == text:
                return candidate
        raise NoSuchElementException(f"no visible button {text!r} on {self.d.current_url}")

    def press(self, text):
        """Presses a submit button (or a link styled as one) and waits for the page it loads."""
        old = self.el("html")
        button = self.button(text)
        button.click()
        self.taps += 1
        self._wait_for_answer(old, button, f"pressing {text!r}")
        self.settle()

    def field_error(self, field_id):
        return self.el(f"#{field_id}-error").text

    # -- SMS codes from the sandbox outbox --

    @staticmethod
    def outbox(phone):
        request = urllib.request.Request(f"{BASE_URL}/sandbox/sms?phone={phone}", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            # One-time codes only: milestone notifications (decision ready, contract ready) arrive in between.
            return [m for m in json.load(response) if "验证码" in m["text"]]

    @classmethod
    def newest(cls, phone):
        messages = cls.outbox(phone)
        return (messages[0]["sentAt"], messages[0]["text"]) if messages else None

    def send_code(self, phone, do_send):
        """Does what sends a code (`do_send`), waiting out the 60-second resend limit when the page asks to,
        and returns the new code from the outbox."""
        for _ in range(4):
            before = self.newest(phone)
            do_send()
            deadline = time.time() + 5
            while time.time() < deadline:
                now = self.newest(phone)
                if now is not None and now != before:
                    match = re.search(r"(?<!\d)(\d{6})(?!\d)", now[1])
                    assert match, f"no 6-digit code in {now[1]!r}"
                    # Sent in place, the form is replaced by the server's answer only after the SMS went out: wait
                    # for that (the send button, disabled while the request runs, is a fresh enabled one again) so
                    # the code is typed into the field that stays.
                    WebDriverWait(self.d, 20).until(lambda d: d.execute_script(
                        "var b = document.querySelector('button[name=\"action\"][value=\"send\"]'); return !b || !b.disabled;"),
                        message="the form did not come back after sending the code")
                    self.settle()
                    return match.group(1)
                time.sleep(0.3)
            wait = re.search(r"(\d+)秒后再试", self.text())
            assert wait, f"no SMS was sent and the page does not say why:\n{self.text()[:1500]}"
            self.shot("sms-wait")
            time.sleep(int(wait.group(1)) + 1)
        pytest.fail("could not get an SMS code")

    # -- step 1: phone + code --

    def sign_in(self, phone):
        self.open("/")
        self.banner_and_progress("第1步，共3步")
        # Two separate consents, neither ticked in advance, each readable in full on its own page.
        assert not self.el("#agreeTerms").is_selected() and not self.el("#agreePrivacy").is_selected()
        self.shot("phone")
        self.fill("#phone", phone)
        self.click("#agreeTerms", navigates=False)
        self.click("#agreePrivacy", navigates=False)
        code = self.send_code(phone, lambda: self.press("获取验证码") if self._has_button("获取验证码") else self.press("重新获取"))
        masked = phone[:3] + "****" + phone[-4:]
        self.sees(f"验证码已发送至{masked}")
        assert self.el("#phone").get_attribute("value") == phone, "the phone number typed is kept"
        self.shot("phone-code-sent")
        self.fill("#code", code)
        self.press("登录/继续申请")
        assert self.path().startswith("/apply/"), f"signed in, but at {self.d.current_url}"

    def _has_button(self, text):
        try:
            self.button(text)
            return True
        except NoSuchElementException:
            return False


def fresh_application(walk, phone):
    """Signs in; if this phone already has an application in progress from an earlier run against the same
    server, withdraws it on the page and starts again, so the walk always begins at the ID card."""
    walk.sign_in(phone)
    if walk.path() == "/apply/id-card" and not walk.d.find_elements(By.CSS_SELECTOR, "#name"):
        return
    if walk.path() == "/apply/result" and walk.d.find_elements(By.CSS_SELECTOR, "#borrow"):
        walk.click("#borrow")
    if walk.path() == "/apply/loan":
        walk.click("#submit-loan")
    if walk.path() == "/apply/done":
        walk.click("#cancel-application")
    if walk.path() == "/apply/stopped" and walk._has_button("重新申请"):
        walk.press("重新申请")
        walk.sign_in(phone)
    assert walk.path() == "/apply/id-card" or walk.d.find_elements(By.CSS_SELECTOR, "#name"), \
        f"could not start a fresh application (at {walk.d.current_url}); use a fresh server"


# ---------------------------------------------------------------------------------------------------------
# The walks


def test_p01_walks_every_page_to_the_loan_request(browser):
    walk = Walk(browser, "P01")
    fresh_application(walk, P01["phone"])

    # 2 ID card: the sandbox test card, then confirm what OCR read.
    if not browser.find_elements(By.CSS_SELECTOR, "#name"):
        walk.expect_path("/apply/id-card")
        walk.banner_and_progress("第1步，共3步")
        walk.sees("拍摄身份证", "使用测试样卡 P01", "使用测试样卡 P11")
        walk.shot("id-card")
        walk.click("#sample-P01")
    walk.expect_path("/apply/id-card")
    walk.sees("核对身份证信息")
    assert walk.el("#name").get_attribute("value") == P01["name"]
    assert walk.el("#idNumber").get_attribute("value") == "440305198803152013"
    assert walk.el("#validUntil").get_attribute("value") == "2038-03-20"
    walk.shot("id-card-confirm")
    walk.press("确认无误，下一步")

    # 3 face: no camera in CI, so the sandbox's simulate button.
    walk.expect_path("/apply/face")
    walk.banner_and_progress("第1步，共3步")
    walk.sees("人脸识别", "还可尝试", "模拟人脸识别", "申请人：张*")
    assert "440305198803152013" not in walk.text(), "the ID number is masked after confirmation"
    walk.shot("face")
    walk.click("#simulate-face")

    # 4 bank card: a bad number first (error next to the field, typed value kept), then the test card + SMS code.
    walk.expect_path("/apply/bank-card")
    walk.banner_and_progress("第1步，共3步")
    walk.sees(P01["card"])  # the sandbox hint
    walk.shot("bank-card")
    walk.fill("#cardNumber", "6222020200110000103")
    walk.press("下一步，获取验证码")
    assert walk.field_error("cardNumber"), "a card failing the Luhn check is refused next to the field"
    assert walk.el("#cardNumber").get_attribute("value") == "6222020200110000103"
    walk.shot("bank-card-error")

    def submit_card():
        if browser.find_elements(By.CSS_SELECTOR, "#cardNumber"):
            walk.fill("#cardNumber", P01["card"])
            walk.press("下一步，获取验证码")
        else:
            walk.press("重新发送验证码")

    code = walk.send_code(P01["phone"], submit_card)
    walk.expect_path("/apply/bank-card")
    walk.sees("输入短信验证码", "6222 **** **** 0102")
    walk.shot("bank-card-code")
    walk.fill("#code", code)
    walk.press("确认绑定")

    # 5 credit authorization: full text, agree, SMS code, sign.
    walk.expect_path("/apply/authorization")
    walk.banner_and_progress("第2步，共3步")
    walk.sees("个人征信查询及报送授权书", "一、授权事项", "六、本人声明", "我已阅读并同意")
    walk.shot("authorization")
    walk.click("#agree", navigates=False)
    code = walk.send_code(P01["phone"], lambda: walk.press("获取验证码") if walk._has_button("获取验证码") else walk.press("重新获取"))
    assert walk.el("#agree").is_selected(), "the tick is kept when the page comes back"
    walk.fill("#code", code)
    walk.shot("authorization-code-sent")
    walk.press("同意授权并签署")

    # 6 about you: the applicant's own phone as emergency contact is refused next to the field, the rest kept.
    walk.expect_path("/apply/about-you")
    walk.banner_and_progress("第3步，共3步")
    walk.fill("#employer", "深圳市科技有限公司")
    walk.select("#employmentType", "salaried")
    walk.fill("#monthlyIncome", "25000")
    walk.select("#housing", "owned")
    walk.select("#maritalStatus", "married")
    walk.select("#education", "bachelor")
    walk.select("#loanPurpose", "renovation")
    walk.fill("#contactName", "李娜")
    walk.select("#contactRelationship", "spouse")
    walk.fill("#contactPhone", P01["phone"])
    walk.shot("about-you")
    walk.press("提交，查看额度")
    walk.expect_path("/apply/about-you")
    assert "本人" in walk.field_error("contactPhone")
    assert walk.el("#employer").get_attribute("value") == "深圳市科技有限公司", "what was typed is kept"
    assert Select(walk.el("#housing")).first_selected_option.get_attribute("value") == "owned"
    walk.shot("about-you-error")
    walk.fill("#contactPhone", "13912345678")
    walk.press("提交，查看额度")

    # 7 decision: it runs as the last facts are saved, so the next page is its result.
    walk.expect_path("/apply/result")
    walk.sees("恭喜，您已获得授信额度", "可借额度", "年利率", "年化利率（APR）", "额度有效期至")
    assert re.search(r"\d", walk.el(".limit-amount").text)
    walk.shot("result-approved")
    walk.click("#borrow")

    # 7 loan request: the default plan, then a trial ("试算") for other values, then submit.
    walk.expect_path("/apply/loan")
    walk.sees("申请借款", "还款计划", "年化利率（APR）")
    walk.shot("loan")
    walk.fill("#amount", "50000")
    walk.select("#termMonths", "24")
    walk.click("input[name=method][value=equal-principal]", navigates=False)
    # With JavaScript the plan follows the choices at once (loan.js); "试算" does the same without it.
    WebDriverWait(browser, 20).until(
        lambda d: "借款50,000.00元 · 24个月 · 等额本金" in d.find_element(By.ID, "plan-slot").text,
        message="the plan did not follow the chosen amount, term and method")
    walk.press("试算")
    walk.expect_path("/apply/loan")
    walk.sees("借款50,000.00元 · 24个月 · 等额本金", "首期还款", "利息总额")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.schedule tbody tr")
    assert len(rows) == 24, f"the plan has one row per month, got {len(rows)}"
    assert walk.el("#amount").get_attribute("value") == "50000"
    walk.shot("loan-quote")
    walk.fill("#amount", "999999999")
    walk.press("试算")
    assert "额度" in walk.field_error("amount"), "an amount over the limit is refused next to the field"
    walk.shot("loan-error")
    walk.fill("#amount", "50000")
    walk.press("提交申请")

    walk.expect_path("/apply/done")
    walk.sees("申请已提交", "50,000.00元", "24个月", "等额本金", "家居装修", "6222 **** **** 0102")
    walk.shot("done")
    # The done page leads straight to the contract to sign.
    assert walk.el("#go-contract").get_attribute("href").endswith("/loan/contract")

    # Leaving and coming back resumes at the right page.
    walk.open("/")
    walk.expect_path("/apply/done")


def test_p03_is_stopped_at_the_identity_check(browser):
    walk = Walk(browser, "P03")
    walk.sign_in(P03["phone"])
    if walk.path() != "/apply/stopped":  # a fresh server; on a re-run the application is already stopped
        walk.expect_path("/apply/id-card")
        if not browser.find_elements(By.CSS_SELECTOR, "#name"):
            walk.shot("id-card")
            # The photo inputs themselves (multipart, no JavaScript), with P03's test card images as the photos.
            folder = pathlib.Path(tempfile.mkdtemp(prefix="yidai-e2e-"))
            for side in ("front", "back"):
                with urllib.request.urlopen(f"{BASE_URL}/sandbox/cards/P03-{side}.png", timeout=10) as response:
                    (folder / f"P03-{side}.png").write_bytes(response.read())
            walk.press("上传并识别")
            assert "身份证人像面" in walk.field_error("frontImage"), "submitting without photos is refused next to the field"
            walk.shot("id-card-error")
            walk.el("#frontImage").send_keys(str((folder / "P03-front.png").resolve()))
            walk.el("#backImage").send_keys(str((folder / "P03-back.png").resolve()))
            walk.press("上传并识别")
            walk.expect_path("/apply/id-card")
        assert walk.el("#name").get_attribute("value") == P03["name"]
        walk.shot("id-card-confirm")
        walk.press("确认无误，下一步")
    walk.expect_path("/apply/stopped")
    walk.sees("身份核验未通过", "无法在线继续办理", "网点")
    walk.shot("stopped")

    # Coming back later shows the same explanation, never a later step.
    walk.open("/apply/face")
    walk.expect_path("/apply/stopped")

    # 我的贷款 names the state for what it is, with the reason and what to do (not "继续申请").
    walk.open("/loans")
    walk.sees("暂不可继续", "请携带身份证到网点办理", "查看原因与办理方式")
    assert "继续申请 ›" not in walk.text()
    walk.shot("my-loans-stopped")
