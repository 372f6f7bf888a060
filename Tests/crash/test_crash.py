"""A crash during payouts and signing loses nothing and doubles nothing.

Starts its own server (YIDAI_BIN, default .build/debug/yidai) on a fresh SQLite data folder, brings three new
applicants to a requested loan, then sends signatures and payout requests at the same moment and kills the server
with SIGKILL in the middle of them. After a restart the server's payout job finishes what was started; then the
sandbox card holds exactly the principal of the loans that exist, `yidai payments reconcile` finds no difference
and `yidai audit verify` finds the trail whole.
"""
import base64
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("YIDAI_BIN", str(ROOT / ".build/debug/yidai"))
CARD = "6222020200110000102"  # P01's debit card in the sandbox
ABOUT_YOU = {
    "employer": "深圳市前海科技有限公司", "employmentType": "salaried", "monthlyIncome": "25000", "housing": "rented",
    "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
    "emergencyContact": {"name": "李娜", "relationship": "spouse", "phone": "13900000001"},
}


class Server:
    def __init__(self, data):
        self.data = data
        self.port = None
        self.process = None

    def env(self):
        return dict(os.environ, YIDAI_DATA_DIR=self.data)

    def start(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(Path(self.data) / f"server-{self.port}.log", "w")
        self.process = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                                        env=self.env(), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(120):
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("the server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def call(self, method, path, body=None, token=None, accept="application/json"):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if accept:
            request.add_header("Accept", accept)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw and accept == "application/json" else raw)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw

    def command(self, *args):
        return subprocess.run([BIN, *args], env=self.env(), capture_output=True, text=True, timeout=120)


def newest_code(server, phone):
    status, messages = server.call("GET", f"/sandbox/sms?phone={phone}")
    assert status == 200 and messages, messages
    return re.search(r"(?<!\d)\d{6}(?!\d)", messages[0]["text"]).group(0)


def to_requested_loan(server, phone):
    """A new applicant (any valid phone behaves like P01) up to a requested loan; returns token and id."""
    assert server.call("POST", "/api/v1/sms-codes", {"phone": phone})[0] == 202
    status, session = server.call("POST", "/api/v1/sessions", {"phone": phone, "code": newest_code(server, phone)})
    assert status == 201, session
    token, app_id = session["token"], session["application"]["id"]

    def step(method, sub, body=None, expect=200):
        status, answer = server.call(method, f"/api/v1/applications/{app_id}{sub}", body, token=token)
        assert status == expect, (sub, status, answer)
        return answer

    images = {side: base64.b64encode(server.call("GET", f"/sandbox/cards/P01-{side}.png", accept=None)[1]).decode() for side in ("front", "back")}
    reading = step("POST", "/id-card", {"frontImage": images["front"], "backImage": images["back"]})
    step("POST", "/id-card/confirm", {"name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"],
                                      "validUntil": reading["validUntil"] or "长期"})
    step("POST", "/face", {"simulate": True})
    step("POST", "/bank-card", {"cardNumber": CARD}, 202)
    step("POST", "/bank-card/confirm", {"code": newest_code(server, phone)})
    text = step("GET", "/credit-authorization")
    step("POST", "/credit-authorization/sms-code", None, 202)
    step("POST", "/credit-authorization", {"version": text["version"], "sha256": text["sha256"], "agree": True,
                                           "code": newest_code(server, phone)})
    step("PUT", "/about-you", ABOUT_YOU)
    assert step("POST", "/decision")["state"] == "approved"
    step("POST", "/loan-request", {"amount": "20000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption"})
    contract = step("GET", "/contract")
    step("POST", "/contract/sms-code", None, 202)
    return token, app_id, contract["sha256"], newest_code(server, phone)


@pytest.mark.parametrize("kill_after", [0.02, 0.08, 0.25])
def test_a_server_killed_during_payouts_and_signing_loses_nothing_and_pays_nothing_twice(kill_after):
    with tempfile.TemporaryDirectory() as data:
        server = Server(data)
        server.start()
        try:
            phones = ["139" + "".join(random.choice("0123456789") for _ in range(8)) for _ in range(3)]
            ready = [to_requested_loan(server, phone) for phone in phones]
            # The first contract is signed before the crash, so its payout is in flight when the server dies.
            token, app_id, sha, code = ready[0]
            status, answer = server.call("POST", f"/api/v1/applications/{app_id}/contract/sign", {"code": code, "sha256": sha, "agree": True}, token=token)
            assert status in (200, 201), answer

            def fire(token, app_id, sha, code):
                try:
                    server.call("POST", f"/api/v1/applications/{app_id}/contract/sign", {"code": code, "sha256": sha, "agree": True}, token=token)
                    for _ in range(5):
                        server.call("POST", f"/api/v1/applications/{app_id}/disbursement", None, token=token)
                except OSError:
                    pass  # the server died under us: that is the point

            threads = [threading.Thread(target=fire, args=args) for args in ready for _ in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(kill_after)
            server.kill()
            for thread in threads:
                thread.join(timeout=60)

            server.start()
            deadline = time.monotonic() + 150  # a job leased by the dead server is free again after 60 s
            while True:
                states = [server.call("GET", f"/api/v1/applications/{a}", token=t)[1]["state"] for t, a, _, _ in ready]
                if all(s not in ("contract_signed", "disbursing") for s in states) or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert all(s in ("disbursed", "loan_requested") for s in states), states
            assert states[0] == "disbursed", states
            loans = []
            for t, _, _, _ in ready:
                status, listing = server.call("GET", "/api/v1/loans", token=t)
                assert status == 200, listing
                loans += listing["loans"]
            assert len(loans) == states.count("disbursed"), (loans, states)
            status, account = server.call("GET", f"/sandbox/payments/accounts/{CARD}")
            assert status == 200, account
            paid = round(float(account["balance"]) * 100)
            assert paid == 2_000_000 * len(loans), (account, len(loans))
        finally:
            server.stop()
        reconcile = server.command("payments", "reconcile")
        assert reconcile.returncode == 0 and "0 differences" in reconcile.stdout, reconcile.stdout + reconcile.stderr
        verify = server.command("audit", "verify")
        assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
