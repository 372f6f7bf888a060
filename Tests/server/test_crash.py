"""A crash during payouts and signing loses nothing and doubles nothing.

Starts its own server (YIDAI_BIN, default .build/debug/yidai) on a fresh SQLite data folder, brings three new
applicants to a requested loan, then sends signatures and payout requests at the same moment and kills the server
with SIGKILL in the middle of them. After a restart the server's payout job finishes what was started; then the
sandbox card holds exactly the principal of the loans that exist, `yidai payments reconcile` finds no difference
and `yidai audit verify` finds the trail whole.
"""
import random
import tempfile
import threading
import time

import pytest

from server_support import CARD, Server, to_requested_loan


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
                except Exception:  # noqa: BLE001  the server died under us: that is the point
                    pass

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
