"""A Yidai server of a test's own (its own data folder), and the journey up to a requested loan, over HTTP."""
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

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

    def call(self, method, path, body=None, token=None, accept="application/json", source="127.0.0.1"):
        """One request; `source` is the local address it comes from (127.0.0.x), as different clients would."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if accept:
            headers["Accept"] = accept
        if token:
            headers["Authorization"] = "Bearer " + token
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
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

    def command(self, *args):
        return subprocess.run([BIN, *args], env=self.env(), capture_output=True, text=True, timeout=120)


def newest_code(server, phone):
    status, messages = server.call("GET", f"/sandbox/sms?phone={phone}")
    messages = [m for m in messages if "验证码" in m["text"]] if status == 200 else messages  # codes, not notifications
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


