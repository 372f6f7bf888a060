"""Real-browser walk of a customer manager's loop: manager SZ-0001 (林晓) signs in to the workbench and downloads her
poster (its QR code read back by zbarimg); a visitor opens the URL the code holds, leaves a lead on the lead page, applies (stopping after the ID card), and writes to her in 云接洽;
the manager sees the lead become 申请中 and the customer's stage (masked), replies with a call-back time, and the
visitor picks it. Screenshots of every page go beside the others (YIDAI_SCREENSHOTS)."""

import random
import urllib.parse

from selenium.webdriver.common.by import By

from test_console import Desk, desktop
from test_marketing import fetch_with_cookie, zbar
from test_journey import Walk, browser  # noqa: F401  (browser is the pytest fixture)


def fresh_phone():
    # Any valid phone outside the sandbox table behaves like P01 (domain.md); a fresh one per run.
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


def test_a_manager_follows_a_lead_from_her_code_to_a_conversation(browser):
    phone = fresh_phone()
    masked = phone[:3] + "****" + phone[-4:]
    driver = desktop()
    try:
        desk = Desk(driver, "manager-sz-cm1")
        desk.sign_in("sz-cm1")
        desk.open("/console/customers")
        desk.shot("customers-before")
        # Her poster, downloaded from the workbench: the code on it is what the visitor scans.
        status, kind, png = fetch_with_cookie("/console/marketing/SZ-0001/poster.png?template=1", driver.get_cookie("yd_staff")["value"])
        assert status == 200 and kind.startswith("image/png")
        scanned = zbar(png)
        assert len(scanned) == 1 and scanned[0].endswith("/?cm=SZ-0001&ch=qr"), scanned
        code_url = urllib.parse.urlparse(scanned[0])

        # The visitor scans the code (the URL the QR code holds), then leaves a lead from the public account's menu.
        visitor = Walk(browser, "visitor")
        visitor.open(code_url.path + "?" + code_url.query)
        visitor.open("/lead?cm=SZ-0001&ch=qr&campaign=winter")
        visitor.sees("预约客户经理", "所在城市")
        visitor.shot("lead")
        visitor.fill("#name", "陈晓明")
        visitor.select("#city", "深圳")
        visitor.fill("#phone", phone)
        visitor.press("提交预约")
        assert "验证码" in visitor.field_error("smsCode"), "a lead without its code is refused next to the field"
        visitor.shot("lead-error")
        code = visitor.send_code(phone, lambda: visitor.press("获取验证码") if visitor._has_button("获取验证码") else visitor.press("重新获取"))
        visitor.fill("#smsCode", code)
        visitor.el("input[name=consent]").click()
        visitor.press("提交预约")
        visitor.sees("已收到您的预约", "2小时内")
        visitor.shot("lead-done")

        desk.open("/console/leads")
        desk.sees("线索跟进", "陈*明", masked, "待联系", "qr · winter")
        assert phone not in desk.text(), "the phone is masked on the list"
        desk.shot("leads")
        row = desk.el("#leads tbody tr")
        lead_id = row.get_attribute("id")[len("lead-"):]
        desk.select(f"#status-{lead_id}", "contacted")
        desk.fill(f"#note-{lead_id}", "已电话联系，客户将在线申请")
        desk.click(f"#lead-{lead_id} button[type=submit]")
        desk.sees("已联系")

        # The visitor applies (the scan's referral travels with the sign-in) and stops after the ID card.
        visitor.sign_in(phone)
        visitor.expect_path("/apply/id-card")
        visitor.click("#sample-P01")
        visitor.press("确认无误，下一步")
        visitor.expect_path("/apply/face")
        visitor.open("/messages")
        visitor.sees("联系我的客户经理", "林晓")
        visitor.shot("messages-empty")
        visitor.fill("#text", "请问需要准备什么材料？人脸识别可以晚上做吗？")
        visitor.press("发送")
        assert visitor.d.find_elements(By.CSS_SELECTOR, "#consent-error"), "the first message needs the consent"
        visitor.fill("#text", "请问需要准备什么材料？人脸识别可以晚上做吗？")
        visitor.el("input[name=consent]").click()
        visitor.press("发送")
        visitor.sees("请问需要准备什么材料")
        visitor.shot("messages-sent")

        # The manager: the lead is applying by itself, the customer stopped at the face step, the conversation.
        desk.open("/console/leads")
        desk.sees("申请中")
        desk.open("/console/customers")
        desk.sees("张*", masked, "身份校验中", "人脸识别")
        assert phone not in desk.text()
        desk.shot("customers")
        desk.click("#customers a[href$='/messages']")
        desk.sees("云接洽", "请问需要准备什么材料")
        desk.fill("#text", "只需身份证和本人银行卡，人脸识别随时可以做。我明早给您回电。")
        driver.execute_script("document.getElementById('slot').value = '2030-01-07T10:00'")
        desk.click("#send-message")
        desk.sees("只需身份证和本人银行卡", "提供的回电时间：1月7日 10:00")
        desk.shot("conversation")

        visitor.open("/messages")
        visitor.sees("只需身份证和本人银行卡", "可选回电时间")
        visitor.shot("messages-reply")
        visitor.click(".chat-slots button")
        visitor.sees("我选择的回电时间：1月7日 10:00")
        visitor.shot("messages-slot-picked")
    finally:
        driver.quit()
