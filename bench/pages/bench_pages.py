"""Every applicant page measured in headless Chromium under Chrome's "Slow 3G" (CDP network emulation: 400 ms
latency, 400 kbit/s down and up, as DevTools' preset), cold (empty cache) and warm (cache kept), at 375x812.

A fresh sandbox applicant walks the journey to a signed contract and a loan (Tests/e2e's page helpers); at each page
the walk stops, turns the emulation on, loads the page's URL again (GET) with the cache cleared, then once more with
the cache as it is, and reads from the page itself: bytes transferred (the document and every subresource, headers
included: PerformanceResourceTiming.transferSize) and the largest contentful paint (PerformanceObserver). Each figure
is the median of --runs loads. Cold means an empty cache and no `yd_css` cookie (the page then inlines its
stylesheet); warm means the cache and cookies as a previous visit left them (the page links the cached file). The table goes to stdout and, with --write, into BENCHMARKS.md between its markers.

    YIDAI_BASE_URL=http://127.0.0.1:8090 python3 bench/pages/bench_pages.py --runs 3 --write
"""

import argparse
import datetime
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
os.environ.setdefault("YIDAI_SCREENSHOTS", "/tmp/yidai-bench-screens")

from test_journey import BASE_URL, P01, Walk, new_browser  # noqa: E402
from test_loan_life import fresh_phone  # noqa: E402

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 // 8, "uploadThroughput": 400 * 1024 // 8}
MARK_START = "<!-- bench/pages: start -->"
MARK_END = "<!-- bench/pages: end -->"

MEASURE = """
const done = arguments[arguments.length - 1];
const bytes = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .reduce((sum, e) => sum + (e.transferSize || 0), 0);
let lcp = null;
new PerformanceObserver(list => { const e = list.getEntries(); lcp = e[e.length - 1].startTime; })
  .observe({type: 'largest-contentful-paint', buffered: true});
setTimeout(() => done([bytes, lcp]), 300);
"""


class Bench:
    def __init__(self, driver, runs):
        self.d = driver
        self.runs = runs
        self.rows = []
        self.d.execute_cdp_cmd("Network.enable", {})

    def load(self, url, cold):
        if cold:
            # A browser that never saw the site's files: empty cache, and without the cookie that says it holds the
            # stylesheet (the session cookie stays, or the page would not be shown).
            self.d.execute_cdp_cmd("Network.clearBrowserCache", {})
            self.d.execute_cdp_cmd("Network.deleteCookies", {"name": "yd_css", "url": BASE_URL + "/"})
        self.d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
        self.d.get(url)
        return self.d.execute_async_script(MEASURE)

    def measure(self, name, path=None):
        url = self.d.current_url if path is None else BASE_URL + path
        self.d.execute_cdp_cmd("Network.emulateNetworkConditions", SLOW_3G)
        try:
            cold = [self.load(url, True) for _ in range(self.runs)]
            warm = []
            self.load(url, False)
            time.sleep(2)  # the stylesheet is fetched after the page (prefetch); let it arrive
            for _ in range(self.runs):
                warm.append(self.load(url, False))
        finally:
            self.d.execute_cdp_cmd("Network.emulateNetworkConditions",
                                   {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        row = {
            "page": name, "path": url.replace(BASE_URL, "") or "/",
            "cold_bytes": statistics.median(b for b, _ in cold), "cold_lcp": statistics.median(l or 0 for _, l in cold),
            "warm_bytes": statistics.median(b for b, _ in warm), "warm_lcp": statistics.median(l or 0 for _, l in warm),
        }
        self.rows.append(row)
        print(f"{name:28} cold {row['cold_bytes'] / 1024:6.1f} KB {row['cold_lcp']:7.0f} ms   "
              f"warm {row['warm_bytes'] / 1024:6.1f} KB {row['warm_lcp']:7.0f} ms", flush=True)


def journey(bench, walk, phone):
    bench.measure("手机号验证 (phone)", "/")
    bench.measure("用户服务协议", "/terms/user-agreement")
    bench.measure("个人信息保护政策", "/terms/privacy")
    walk.sign_in(phone)
    walk.expect_path("/apply/id-card")
    bench.measure("拍摄身份证 (ID card)")
    walk.click("#sample-P01")
    bench.measure("核对身份证 (confirm)")
    walk.press("确认无误，下一步")
    walk.expect_path("/apply/face")
    bench.measure("人脸识别 (face)")
    walk.click("#simulate-face")
    walk.expect_path("/apply/bank-card")
    bench.measure("银行卡 (bank card)")
    code = walk.send_code(phone, lambda: (walk.fill("#cardNumber", P01["card"]), walk.press("下一步，获取验证码")))
    bench.measure("银行卡验证码 (card code)")
    walk.fill("#code", code)
    walk.press("确认绑定")
    walk.expect_path("/apply/authorization")
    bench.measure("征信授权 (authorization)")
    walk.click("#agree", navigates=False)
    code = walk.send_code(phone, lambda: walk.press("获取验证码"))
    walk.fill("#code", code)
    walk.press("同意授权并签署")
    walk.expect_path("/apply/about-you")
    bench.measure("补充信息 (about you)")
    for css, value in (("#employer", "深圳市科技有限公司"), ("#monthlyIncome", "25000"), ("#contactName", "李娜"),
                       ("#contactPhone", "13912345678")):
        walk.fill(css, value)
    for css, value in (("#employmentType", "salaried"), ("#housing", "rented"), ("#maritalStatus", "married"),
                       ("#education", "bachelor"), ("#loanPurpose", "consumption"), ("#contactRelationship", "spouse")):
        walk.select(css, value)
    walk.press("提交，查看额度")
    walk.expect_path("/apply/result")
    bench.measure("审批结果 (result)")
    walk.click("#borrow")
    walk.expect_path("/apply/loan")
    bench.measure("申请借款 (loan)")
    walk.press("提交申请")
    walk.expect_path("/apply/done")
    bench.measure("申请已提交 (done)")
    walk.click("#go-contract")
    bench.measure("借款合同 (contract)")
    bench.measure("我的贷款 (my loans)", "/loans")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()
    driver = new_browser()
    try:
        bench = Bench(driver, args.runs)
        journey(bench, Walk(driver, "BENCH"), fresh_phone())
    finally:
        driver.quit()
    table = render(bench.rows, args.runs)
    print(table)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text()
        start, end = text.index(MARK_START) + len(MARK_START), text.index(MARK_END)
        path.write_text(text[:start] + "\n" + table + "\n" + text[end:])


def render(rows, runs):
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {when} at commit {commit}; {chromium}; {platform.machine()} Linux, load average "
        f"{os.getloadavg()[0]:.2f}; median of {runs} loads each; Slow 3G = 400 ms latency, 400 kbit/s each way.",
        "",
        "| page | path | cold: bytes | cold: LCP | warm: bytes | warm: LCP |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['page']} | `{r['path']}` | {r['cold_bytes'] / 1024:.1f} KB | {r['cold_lcp']:.0f} ms | "
                     f"{r['warm_bytes'] / 1024:.1f} KB | {r['warm_lcp']:.0f} ms |")
    cold = [r["cold_lcp"] for r in rows]
    warm = [r["warm_lcp"] for r in rows]
    worst = max(r["cold_bytes"] for r in rows) / 1024
    lines += ["", f"Cold: largest {worst:.1f} KB, LCP median {statistics.median(cold):.0f} ms, worst {max(cold):.0f} ms "
                  f"(goal: ≤ 25 KB and < 1,200 ms). Warm: LCP median {statistics.median(warm):.0f} ms, worst "
                  f"{max(warm):.0f} ms (goal: < 500 ms)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
