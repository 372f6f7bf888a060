"""Whole journeys through the API against one or more Yidai instances, measured (issue 16's journey benchmark).

Each journey is one new applicant (a fresh phone, which the sandbox treats like P01) from the SMS code to a signed
contract: 16 requests, and 4 SMS codes read back from the sandbox outbox, the ID card photos read by the OCR the servers
run (`YIDAI_OCR=sandbox` in run.sh: the test cards' table, so the figure is the platform's, not Tesseract's). Journeys
go round-robin over the instances in YIDAI_BENCH_URLS (comma-separated), each from a loopback address of its own
(127.0.x.y), as separate phones would be, so the per-address limits hold no one back.

Bounded: at most --journeys journeys and --seconds seconds; loopback addresses only.
"""
import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

CARD = "6222020200110000102"
ABOUT_YOU = {
    "employer": "深圳市前海科技有限公司", "employmentType": "salaried", "monthlyIncome": "25000", "housing": "rented",
    "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
    "emergencyContact": {"name": "李娜", "relationship": "spouse", "phone": "13900000001"},
}


class Instance:
    def __init__(self, url):
        parts = urlsplit(url)
        assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "the benchmark drives loopback servers only"
        self.host, self.port = parts.hostname, parts.port

    def call(self, method, path, body=None, token=None, source="127.0.0.1", accept="application/json"):
        headers = {"Accept": accept} if accept else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(source, 0))
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        if accept == "application/json" and raw:
            try:
                return response.status, json.loads(raw)
            except ValueError:
                pass
        return response.status, raw


class Timings:
    def __init__(self):
        self.lock = threading.Lock()
        self.steps = {}

    def add(self, step, seconds):
        with self.lock:
            self.steps.setdefault(step, []).append(seconds)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def journey(instance, number, timings, images):
    source = f"127.0.{1 + number // 250}.{1 + number % 250}"
    phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
    token = app_id = None

    def step(name, method, path, body=None, expect=200, auth=True):
        started = time.perf_counter()
        status, answer = instance.call(method, path, body, token=token if auth else None, source=source)
        timings.add(name, time.perf_counter() - started)
        if status != expect:
            raise AssertionError(f"{name}: {status} {str(answer)[:200]}")
        return answer

    def code():
        status, messages = instance.call("GET", f"/sandbox/sms?phone={phone}", source=source)
        texts = [m["text"] for m in messages if "验证码" in m["text"]] if status == 200 else []
        assert texts, f"no code for {phone}"
        return re.search(r"(?<!\d)\d{6}(?!\d)", texts[0]).group(0)

    started = time.perf_counter()
    step("sms-code", "POST", "/api/v1/sms-codes", {"phone": phone}, 202, auth=False)
    session = step("sign-in", "POST", "/api/v1/sessions", {"phone": phone, "code": code()}, 201, auth=False)
    token, app_id = session["token"], session["application"]["id"]
    base = f"/api/v1/applications/{app_id}"
    reading = step("id-card", "POST", base + "/id-card", images)
    step("id-card-confirm", "POST", base + "/id-card/confirm", {
        "name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"], "validUntil": reading["validUntil"] or "长期"})
    step("face", "POST", base + "/face", {"simulate": True})
    step("bank-card", "POST", base + "/bank-card", {"cardNumber": CARD}, 202)
    step("bank-card-confirm", "POST", base + "/bank-card/confirm", {"code": code()})
    text = step("authorization-text", "GET", base + "/credit-authorization")
    step("authorization-code", "POST", base + "/credit-authorization/sms-code", None, 202)
    step("authorization", "POST", base + "/credit-authorization", {"version": text["version"], "sha256": text["sha256"], "agree": True, "code": code()})
    step("about-you", "PUT", base + "/about-you", ABOUT_YOU)
    decided = step("decision", "POST", base + "/decision")
    assert decided["state"] == "approved", decided["state"]
    step("loan-request", "POST", base + "/loan-request", {"amount": "20000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption"})
    contract = step("contract", "GET", base + "/contract")
    step("contract-code", "POST", base + "/contract/sms-code", None, 202)
    started_sign = time.perf_counter()
    status, answer = instance.call("POST", base + "/contract/sign", {"code": code(), "sha256": contract["sha256"], "agree": True}, token=token, source=source)
    timings.add("contract-sign", time.perf_counter() - started_sign)
    if status not in (200, 201):
        raise AssertionError(f"contract-sign: {status} {str(answer)[:200]}")
    timings.add("journey", time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--journeys", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300)
    options = parser.parse_args()
    instances = [Instance(u) for u in os.environ["YIDAI_BENCH_URLS"].split(",") if u]
    images = {}
    for side in ("front", "back"):
        status, raw = instances[0].call("GET", f"/sandbox/cards/P01-{side}.png", accept=None)
        assert status == 200, status
        images[side + "Image"] = base64.b64encode(raw).decode()

    timings = Timings()
    failures = []
    deadline = time.monotonic() + options.seconds
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        futures = []
        for n in range(options.journeys):
            futures.append(pool.submit(lambda n=n: None if time.monotonic() > deadline else journey(instances[n % len(instances)], n, timings, images)))
        for future in futures:
            try:
                future.result()
            except Exception as error:  # noqa: BLE001
                failures.append(str(error))
    elapsed = time.perf_counter() - started
    done = len(timings.steps.get("journey", []))
    print(f"{done} journeys signed ({len(failures)} failed) in {elapsed:.1f} s over {len(instances)} instance(s), "
          f"concurrency {options.concurrency}: {done / elapsed:.2f} journeys/s")
    print(f"{'step':<20} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in timings.steps.items():
        print(f"{name:<20} {len(values):>5} {statistics.median(values) * 1000:>8.0f} {percentile(values, 95) * 1000:>8.0f} {max(values) * 1000:>8.0f}")
    for failure in failures[:5]:
        print("failed:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
