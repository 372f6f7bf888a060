"""The concurrency issue's table, replayed over HTTP against a real server (its own SQLite data folder), with
requests coming from several local addresses at the same moment, as the acceptance checks do."""
import random
import tempfile
import threading

import pytest

from server_support import CARD, Server, newest_code, to_requested_loan


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as data:
        server = Server(data)
        server.start()
        yield server
        server.stop()


def together(count, body):
    """Runs body(i) for i in range(count) in threads released at the same moment; returns the answers in order."""
    answers = [None] * count
    gate = threading.Barrier(count)

    def run(i):
        gate.wait()
        answers[i] = body(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def source(i):
    return f"127.0.0.{2 + i % 40}"


def fresh_phone():
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


def test_twenty_first_sign_ins_at_once_all_start_an_application(server):
    phones = [fresh_phone() for _ in range(20)]
    codes = {}
    for i, phone in enumerate(phones):
        assert server.call("POST", "/api/v1/sms-codes", {"phone": phone}, source=source(i))[0] == 202
        codes[phone] = newest_code(server, phone)
    answers = together(20, lambda i: server.call("POST", "/api/v1/sessions", {"phone": phones[i], "code": codes[phones[i]]}, source=source(i)))
    assert [status for status, _ in answers] == [201] * 20, answers


def test_forty_wrong_codes_at_once_then_the_right_one_is_refused(server):
    phone = fresh_phone()
    assert server.call("POST", "/api/v1/sms-codes", {"phone": phone})[0] == 202
    right = newest_code(server, phone)
    wrong = "000000" if right != "000000" else "000001"
    answers = together(40, lambda i: server.call("POST", "/api/v1/sessions", {"phone": phone, "code": wrong}, source=source(i)))
    assert all(status in (422, 429) for status, _ in answers), answers
    status, body = server.call("POST", "/api/v1/sessions", {"phone": phone, "code": right}, source="127.0.0.99")
    assert status == 422 and body["error"]["code"] == "code_locked", body


def test_twenty_payouts_at_once_pay_the_card_once(server):
    before = round(float(server.call("GET", f"/sandbox/payments/accounts/{CARD}")[1]["balance"]) * 100)
    token, app_id, sha, code = to_requested_loan(server, fresh_phone())
    status, answer = server.call("POST", f"/api/v1/applications/{app_id}/contract/sign", {"code": code, "sha256": sha, "agree": True}, token=token)
    assert status in (200, 201), answer
    answers = together(20, lambda i: server.call("POST", f"/api/v1/applications/{app_id}/disbursement", token=token, source=source(i)))
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 201} and statuses.count(201) <= 1, answers
    after = round(float(server.call("GET", f"/sandbox/payments/accounts/{CARD}")[1]["balance"]) * 100)
    assert after - before == 2_000_000


def test_signing_and_cancelling_at_once_never_both_and_a_cancelled_borrower_is_never_paid(server):
    before = round(float(server.call("GET", f"/sandbox/payments/accounts/{CARD}")[1]["balance"]) * 100)
    token, app_id, sha, code = to_requested_loan(server, fresh_phone())
    base = f"/api/v1/applications/{app_id}"
    answers = together(2, lambda i: server.call("POST", base + ("/contract/sign" if i == 0 else "/cancel"),
                                                {"code": code, "sha256": sha, "agree": True} if i == 0 else None, token=token, source=source(i)))
    assert all(status in (200, 409) for status, _ in answers), answers
    # Give the server's payout job time to act on whatever won.
    import time
    for _ in range(20):
        state = server.call("GET", base, token=token)[1]["state"]
        if state in ("cancelled", "disbursed"):
            break
        time.sleep(0.5)
    after = round(float(server.call("GET", f"/sandbox/payments/accounts/{CARD}")[1]["balance"]) * 100)
    if state == "cancelled":
        assert after == before
    else:
        assert state == "disbursed" and answers[1][0] == 409, (state, answers)
        assert after - before == 2_000_000


def test_the_ledger_reconciles_and_the_audit_trail_verifies_after_the_races(server):
    reconcile = server.command("payments", "reconcile")
    assert reconcile.returncode == 0 and "0 differences" in reconcile.stdout, reconcile.stdout + reconcile.stderr
    verify = server.command("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
