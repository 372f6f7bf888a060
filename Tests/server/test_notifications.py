"""Milestone messages go out once, across a gateway outage and a crash.

Starts its own server on a fresh SQLite data folder, brings three new applicants to a requested loan (their
"decision ready" and "contract ready" messages go out through the job queue), then takes the sandbox SMS gateway
down, signs the contracts (the payouts queue "loan paid out" messages, which fail and back off), and kills the
server with SIGKILL. After a restart (the gateway is up again) every applicant has exactly one message of each
milestone in the outbox, which lives in the database.
"""
import random
import tempfile
import time

from server_support import Server, to_requested_loan

MILESTONES = {"decision": "审批通过", "contract": "合同已生成", "paid_out": "已发放至尾号"}


def texts(server, phone):
    status, messages = server.call("GET", f"/sandbox/sms?phone={phone}")
    assert status == 200, messages
    return [m["text"] for m in messages]


def counts(server, phone):
    sent = texts(server, phone)
    return {name: sum(1 for t in sent if marker in t) for name, marker in MILESTONES.items()}


def wait_for(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return predicate()


def test_each_milestone_is_sent_once_across_an_outage_and_a_crash():
    with tempfile.TemporaryDirectory() as data:
        server = Server(data)
        server.start()
        try:
            phones = ["139" + "".join(random.choice("0123456789") for _ in range(8)) for _ in range(3)]
            ready = [to_requested_loan(server, phone) for phone in phones]
            assert wait_for(lambda: all(counts(server, p)["contract"] == 1 for p in phones), 20), [counts(server, p) for p in phones]
            assert server.call("PUT", "/sandbox/sms/outage", {"down": True})[0] == 200
            for token, app_id, sha, code in ready:
                status, answer = server.call("POST", f"/api/v1/applications/{app_id}/contract/sign", {"code": code, "sha256": sha, "agree": True}, token=token)
                assert status in (200, 201), answer
            time.sleep(3)  # the payouts run and their messages fail against the gateway
            assert all(counts(server, p)["paid_out"] == 0 for p in phones)
            server.kill()
            server.start()  # a new process: the sandbox gateway is up again
            expected = {"decision": 1, "contract": 1, "paid_out": 1}
            assert wait_for(lambda: all(counts(server, p) == expected for p in phones), 120), [counts(server, p) for p in phones]
            time.sleep(3)
            assert [counts(server, p) for p in phones] == [expected] * 3
        finally:
            server.stop()
