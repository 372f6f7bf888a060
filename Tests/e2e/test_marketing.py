"""Real-browser walk of 我的推广码 (/console/marketing): customer manager sz-cm1 signs in, opens their code and posters,
a visitor's phone lands on the code's URL, and the landing shows in the manager's counts. The posters and the code are
downloaded with the workbench's cookie and read back by zbarimg. Screenshots go beside the others (YIDAI_SCREENSHOTS)."""

import pathlib
import shutil
import subprocess
import tempfile
import time
import urllib.request

from selenium.webdriver.common.by import By

from test_console import Desk, desktop
from test_journey import BASE_URL, SCREENSHOTS, browser  # noqa: F401  (browser is the pytest fixture)


def fetch_with_cookie(path, cookie):
    request = urllib.request.Request(BASE_URL + path, headers={"Cookie": f"yd_staff={cookie}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def zbar(png):
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg (Debian zbar-tools) is needed; scripts/test.sh installs it"
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        out = subprocess.run([zbarimg, "--raw", "-q", f.name], capture_output=True, text=True, check=False).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def images_loaded(driver):
    """Waits (up to 5 s) until every image of the page has loaded, so the posters are in the screenshot."""
    for _ in range(50):
        if driver.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"):
            return
        time.sleep(0.1)


def test_a_manager_opens_their_code_and_posters_and_sees_a_scan_counted(browser):
    driver = desktop()
    try:
        desk = Desk(driver, "console-sz-cm1")
        desk.sign_in("sz-cm1")
        desk.click("#nav-marketing")
        desk.sees("我的推广码", "林晓", "深圳南山支行", "SZ-0001", "朋友圈海报", "扫码与访问统计")
        before = int(desk.el("#total-scans").text)
        url = desk.el("#landing-url").text
        assert url.endswith("/?cm=SZ-0001&ch=qr"), url
        images_loaded(driver)
        desk.shot("marketing")

        cookie = driver.get_cookie("yd_staff")["value"]
        for template in (1, 2):
            status, kind, png = fetch_with_cookie(f"/console/marketing/SZ-0001/poster.png?template={template}", cookie)
            assert status == 200 and kind.startswith("image/png")
            assert zbar(png) == [url], f"poster {template}"
            (SCREENSHOTS / f"poster-SZ-0001-template-{template}.png").write_bytes(png)
        status, _, png = fetch_with_cookie("/console/marketing/SZ-0001/qr-code.png?size=160", cookie)
        assert status == 200 and zbar(png) == [url]

        # A visitor scans the code: their phone opens the URL (a separate browser, no staff cookie).
        visitor = desktop()
        try:
            visitor.get(url.replace("http://127.0.0.1:8080", BASE_URL))
            assert "手机号" in visitor.find_element(By.TAG_NAME, "body").text
        finally:
            visitor.quit()
        desk.open("/console/marketing")
        assert int(desk.el("#total-scans").text) == before + 1
        desk.sees("qr")
        images_loaded(driver)
        desk.shot("marketing-counted")
    finally:
        driver.quit()


def test_a_branch_head_opens_a_managers_posters_of_their_branch(browser):
    driver = desktop()
    try:
        desk = Desk(driver, "console-sz-head")
        desk.sign_in("sz-head")
        desk.click("#nav-marketing")
        desk.sees("您没有客户经理编号")
        desk.select("#manager", "SZ-0002")
        desk.click("#choose-manager")
        desk.sees("郑楠", "深圳福田支行", "SZ-0002")
        options = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#manager option")]
        assert not any(code.startswith("WH-") for code in options), options
        images_loaded(driver)
        desk.shot("marketing-branch")
    finally:
        driver.quit()
