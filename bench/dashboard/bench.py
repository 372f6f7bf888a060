"""Times every dashboard of the head office and the auditor against a running server (YIDAI_BASE_URL) whose database
bench/dashboard/seed.sql filled, as each role would ask for it, and prints median and p95 per request beside the 200 ms
ceiling and an HTTP floor (GET /health) from the same run. Writes the figures as JSON to the path given."""
import base64, hashlib, hmac, json, os, statistics, struct, sys, time, urllib.request
from datetime import datetime, timedelta, timezone

BASE = os.environ.get("YIDAI_BASE_URL", "http://127.0.0.1:18090")
SECRET = "YIDAIDEMOTOTPSECRETYIDAIDEMO2345"
ROUNDS = int(os.environ.get("ROUNDS", "15"))


def totp(at):
    key = base64.b32decode(SECRET)
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers={"Accept": "application/json"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def sign_in(login):
    status, raw = call("POST", "/api/v1/staff/sessions", {"login": login, "password": "yidai-demo", "totp": totp(time.time())})
    return json.loads(raw)["token"]


def timed(path, token):
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        status, raw = call("GET", path, token=token)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status)
    times.sort()
    return {"median": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)], "max": times[-1], "bytes": len(raw)}


def main(out):
    today = datetime.now(timezone(timedelta(hours=8))).date()
    week, month = (today - timedelta(days=6)).isoformat(), (today - timedelta(days=29)).isoformat()
    end = today.isoformat()
    tokens = {login: sign_in(login) for login in ("ho-retail", "sz-head", "sz-cm1", "auditor")}
    cases = [("floor: GET /health", "/health", "ho-retail")]
    for by in ("page", "day", "channel", "campaign", "branch", "manager"):
        cases.append((f"funnel by {by}, 30 days, head office", f"/api/v1/staff/reports/funnel?from={month}&to={end}&by={by}", "ho-retail"))
    cases += [
        ("funnel by page, 7 days, head office", f"/api/v1/staff/reports/funnel?from={week}&to={end}&by=page", "ho-retail"),
        ("funnel by page, 30 days, branch head (SZ)", f"/api/v1/staff/reports/funnel?from={month}&to={end}&by=page", "sz-head"),
        ("funnel by page, 30 days, manager (SZ-0001)", f"/api/v1/staff/reports/funnel?from={month}&to={end}&by=page", "sz-cm1"),
        ("daily figures, 30 days, head office", f"/api/v1/staff/reports/daily?from={month}&to={end}", "ho-retail"),
        ("daily figures, 7 days, head office", f"/api/v1/staff/reports/daily?from={week}&to={end}", "ho-retail"),
        ("daily figures, 30 days, branch head (SZ)", f"/api/v1/staff/reports/daily?from={month}&to={end}", "sz-head"),
        ("daily figures, 30 days, manager (SZ-0001)", f"/api/v1/staff/reports/daily?from={month}&to={end}", "sz-cm1"),
        ("audit trail, newest 50", "/api/v1/staff/audit-entries", "auditor"),
        ("audit trail, one staff member", "/api/v1/staff/audit-entries?actor=sz-0001", "auditor"),
        ("audit trail, one action, 30 days", f"/api/v1/staff/audit-entries?action=decision.made&from={month}&to={end}", "auditor"),
        ("reveals per staff member", "/api/v1/staff/reveals", "auditor"),
    ]
    results = []
    for name, path, login in cases:
        call("GET", path, token=tokens[login])  # warm-up
        figures = timed(path, tokens[login])
        results.append({"name": name, "path": path, **figures})
        print(f"{name:48s} median {figures['median']:7.1f} ms  p95 {figures['p95']:7.1f} ms", flush=True)
    json.dump(results, open(out, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
