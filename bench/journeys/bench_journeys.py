"""Journey load benchmark: whole applicant journeys through the API at several concurrencies (issue 16).

What it does, for one target (run.sh calls it once per mode: one instance directly, or two behind nginx):

1. Reads the sandbox's test ID card photos once (GET /sandbox/cards/P01-front.png and P01-back.png): the sandbox
   treats every fresh phone like its test person P01, so every journey uploads those two photos.
2. The HTTP ceiling: `wrk -t2 -c32 -d10s --latency` against each URL in YIDAI_BENCH_CEILING (a static asset and
   /health, directly and, behind nginx, through it), with requests/s, latency p50/p99, and the CPU milliseconds per
   request that the servers, nginx and PostgreSQL spent, so "CPU per journey" can be set against "CPU per trivial
   request × requests per journey".
3. A warm-up of a few journeys (not counted), then, for each concurrency of --levels (default 1,8,32,64),
   max(--journeys-per-level, 3 × concurrency) journeys, or fewer if --seconds runs out first (no journey starts after
   that; those under way finish).

One journey is one new applicant: a fresh phone, from a loopback source address of its own (127.0.x.y; behind nginx
that address is nginx's $remote_addr, passed on as X-Forwarded-For to servers that trust 127.0.0.1), one aiohttp
session whose keep-alive connection is reused for the whole journey. It goes from the SMS code to a signed contract:
16 API requests, and 4 SMS codes read back from the sandbox outbox (GET /sandbox/sms?phone=…, 4 more requests, shown
apart as `(sandbox) sms-outbox`). Journeys go round-robin over the URLs in YIDAI_BENCH_URLS.

With `--until loan-request` a journey ends at the loan request, as issue 16 counts one (13 API requests and 3 SMS
codes: no contract, no signature, no payout).

For each level it prints journeys completed, errors (and the first few error texts), journeys/s, p50/p99 over all
API requests and per step, and CPU milliseconds per journey of the servers, nginx, PostgreSQL, this driver, and the
machine's busy share. CPU is read from /proc/<pid>/stat (utime+stime, and cutime+cstime for children already reaped,
in clock ticks of os.sysconf('SC_CLK_TCK')) before and after the level, for each process tree given:
YIDAI_BENCH_SERVER_PIDS (the yidai servers), YIDAI_BENCH_PROXY_PIDS (nginx master: its workers are its children),
YIDAI_BENCH_PG_PID (the postmaster: backends come and go, so its tree is the postmaster itself, its live children,
and through cutime+cstime every child it has already reaped; other PostgreSQL servers on the machine are not counted).
Before the ceiling, the same trees' idle CPU over --idle-seconds (background work such as the job worker's polling),
so each level can say how much of its CPU per journey that explains. YIDAI_BENCH_INSTANCES says how many servers stand
behind the URLs (for the record). At the end, one line `RESULT {json}` per ceiling run and per level, for BENCHMARKS.md.

With `--step-cpu N`, after the levels: N more journeys one at a time, with the CPU of the server's threads and of the
postmaster's children read to the nanosecond (/proc/<pid>/task/*/schedstat) before and after every request: server and
PostgreSQL milliseconds per step, and what was spent between requests less the idle rate (the payout and notification
jobs after signing), so the step that costs most is named.

With `--statements` (run.sh's STATEMENTS=1), after the levels: one journey more with PostgreSQL's statement log on
(`ALTER SYSTEM SET log_statement = 'all'`, reset after) and a marker statement written through psql before and after
every request: the statements each request sent, prepared and plain, and those sent between requests (the job
worker's, the sealer's). A count, unlike CPU time, does not move with the machine's load.

Goals (issue 16): zero errors at every concurrency, ≤ 15 ms server CPU per journey, ≥ 100 journeys/s, request p99
< 50 ms; each level says which it meets.

Needs aiohttp 3.x (`pip install aiohttp`; on a Debian system Python `pip install --break-system-packages aiohttp`)
and, for the ceiling, wrk (`apt-get install wrk`; skipped with a note when absent). Loopback targets only.
"""
import argparse
import asyncio
import base64
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit

try:
    import aiohttp
except ImportError:
    sys.exit("bench_journeys.py needs aiohttp 3.x: `pip install aiohttp` (Debian's system Python: "
             "`pip install --break-system-packages aiohttp`, or `apt-get install python3-aiohttp`)")

CARD = "6222020200110000102"
ABOUT_YOU = {
    "employer": "深圳市前海科技有限公司", "employmentType": "salaried", "monthlyIncome": "25000", "housing": "rented",
    "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
    "emergencyContact": {"name": "李娜", "relationship": "spouse", "phone": "13900000001"},
}
API_STEPS = ["sms-code", "sign-in", "id-card", "id-card-confirm", "face", "bank-card", "bank-card-confirm",
             "authorization-text", "authorization-code", "authorization", "about-you", "decision", "loan-request",
             "contract", "contract-code", "contract-sign"]
OUTBOX = "(sandbox) sms-outbox"
REQUESTS_PER_JOURNEY = len(API_STEPS) + 4
GOALS = {"server_cpu_ms_per_journey": 15.0, "journeys_per_s": 100.0, "request_p99_ms": 50.0}
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


class JourneyError(Exception):
    pass


# --- CPU accounting from /proc ---------------------------------------------------------------------------------

def read_stat(pid):
    """(ppid, own ticks utime+stime, reaped children's ticks cutime+cstime) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid … utime(14) stime cutime cstime
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def all_stats():
    """read_stat of every live process, by pid."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat:
                stats[int(entry)] = stat
    return stats


def cpu_snapshot(groups):
    """Ticks per group: each root's own and reaped children's ticks, plus every live child's own ticks."""
    stats = all_stats()
    totals = {}
    for name, roots in groups.items():
        ticks = 0
        for root in roots:
            if root in stats:
                ticks += stats[root][1] + stats[root][2]
        ticks += sum(own for pid, (ppid, own, _) in stats.items() if ppid in roots and pid not in roots)
        totals[name] = ticks
    totals["driver"] = int(round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) * 1000 / TICK_MS))
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    totals["machine_total"] = sum(cpu[:8])
    totals["machine_idle"] = cpu[3] + cpu[4]
    return totals


def cpu_delta_ms(before, after):
    delta = {k: (after[k] - before[k]) * TICK_MS for k in before if not k.startswith("machine")}
    total = after["machine_total"] - before["machine_total"]
    delta["machine_busy_pct"] = 100.0 * (total - (after["machine_idle"] - before["machine_idle"])) / total if total else 0.0
    return delta


# --- the job queue (payouts and notifications run after the journey) ------------------------------------------

async def queued_jobs(session, metrics_url):
    """Jobs queued in the fleet (yidai_jobs_queue_depth summed over kinds, from one server's /metrics) and audit entries
    waiting to be sealed (yidai_audit_unsealed_entries), or None."""
    try:
        async with session.get(metrics_url) as response:
            if response.status != 200:
                return None
            text = await response.text()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None
    values = [float(v) for v in re.findall(r"^yidai_jobs_queue_depth(?:\{[^}]*\})?\s+(\S+)", text, re.M)]
    # The audit entries still to be sealed are the journeys' work too (the sealers chain them a moment later).
    unsealed = [float(v) for v in re.findall(r"^yidai_audit_unsealed_entries\s+(\S+)", text, re.M)]
    return int(sum(values) + sum(unsealed)) if values else None


POLLS = "(benchmark) job-queue reads"


async def wait_for_jobs(metrics_url, limit_seconds=180, stall_seconds=10, probe=None):
    """Waits until no job is queued (the payouts and notifications of the journeys just run), or until the queue has
    not shrunk for `stall_seconds` (a job waiting to be retried later). Returns (seconds waited, jobs still queued), or
    None when the queue cannot be read. With a StepProbe, each /metrics read's own CPU is set apart (it is the
    benchmark's, not the journey's)."""
    if not metrics_url:
        return None
    t0 = time.perf_counter()
    lowest, lowest_at = None, t0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while True:
            before = probe.read() if probe else None
            depth = await queued_jobs(session, metrics_url)
            if probe:
                probe.add(POLLS, before, probe.read())
            now = time.perf_counter()
            if depth is None:
                return None
            if lowest is None or depth < lowest:
                lowest, lowest_at = depth, now
            if depth == 0 or now - lowest_at >= stall_seconds or now - t0 >= limit_seconds:
                return now - t0, depth
            await asyncio.sleep(0.2)


# --- CPU per step, to the nanosecond (the --step-cpu pass) ------------------------------------------------------

def task_ns(pid):
    """Nanoseconds on a CPU of every live thread of a process (/proc/<pid>/task/*/schedstat, first field)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


class StepProbe:
    """Server and PostgreSQL CPU around each request of journeys run one at a time.

    The server's threads and the postmaster's children (its backends: the pools keep them open through the pass) are
    read before and after every request, per process, so a backend that ends or starts between two readings is left
    out of that difference instead of spoiling it. What the processes spent between one request's answer and the next
    request, less their idle rate, is the work no request waited for: the payout and notification jobs after signing."""

    def __init__(self, groups):
        self.groups = {k: v for k, v in groups.items() if k in ("server", "db")}
        self.members = {}
        self.refresh()
        self.cpu = {}    # step -> {group: ns}
        self.count = {}  # step -> requests
        self.gap = {k: 0 for k in self.groups}  # ns between requests
        self.gap_seconds = 0.0
        self.last = None

    def refresh(self):
        children = {}
        for pid, (ppid, _, _) in all_stats().items():
            children.setdefault(ppid, []).append(pid)
        self.members = {name: list(roots) + [c for r in roots for c in children.get(r, [])] for name, roots in self.groups.items()}

    def read(self):
        return time.perf_counter(), {name: {pid: task_ns(pid) for pid in pids} for name, pids in self.members.items()}

    @staticmethod
    def delta(before, after):
        return {name: sum(max(0, ns - before[1][name][pid]) for pid, ns in pids.items() if pid in before[1].get(name, {}))
                for name, pids in after[1].items()}

    def add(self, step, before, after):
        slot = self.cpu.setdefault(step, {})
        for name, ns in self.delta(before, after).items():
            slot[name] = slot.get(name, 0) + ns
        self.count[step] = self.count.get(step, 0) + 1
        if self.last:
            for name, ns in self.delta(self.last, before).items():
                self.gap[name] += ns
            self.gap_seconds += before[0] - self.last[0]
        self.last = after


async def step_cpu_pass(ctx, groups, journeys, label):
    """Runs `journeys` journeys one after another and prints server and PostgreSQL CPU per step (ms per request)."""
    probe = StepProbe(groups)
    if not probe.groups:
        print("\n(no server or PostgreSQL pids: no per-step CPU)")
        return None
    # The levels' last payouts and notifications run as jobs after their journeys ended: wait until they are done,
    # so neither the idle rate nor the first steps count them.
    await wait_for_jobs(ctx.metrics_url)
    await asyncio.sleep(2.5)
    idle_before = probe.read()
    await asyncio.sleep(2)
    idle_after = probe.read()
    idle_rate = {k: v / (idle_after[0] - idle_before[0]) for k, v in probe.delta(idle_before, idle_after).items()}
    ctx.probe = probe
    stats = Stats()
    try:
        for _ in range(journeys):
            probe.refresh()  # backends opened since are counted from the next journey on
            try:
                await journey(ctx, ctx.allocate(), stats)
            except JourneyError as error:
                stats.errors.append(str(error))
            # The journey's jobs (a signed contract wakes the worker at once) end before the next journey begins, so
            # they are counted between requests, not in the next journey's first steps.
            await wait_for_jobs(ctx.metrics_url, probe=probe)
        await asyncio.sleep(2.5)  # a job claimed at the last moment (the worker polls every 2 s)
        final = probe.read()
        for name, ns in probe.delta(probe.last, final).items():
            probe.gap[name] += ns
        probe.gap_seconds += final[0] - probe.last[0]
    finally:
        ctx.probe = None
    done = max(len(stats.journeys), 1)
    steps = [s for s in API_STEPS + [OUTBOX] if s in probe.cpu]  # POLLS left out: the benchmark's own reads
    table = {}
    print(f"\n== {label}: CPU per step ({len(stats.journeys)} journeys one at a time, {len(stats.errors)} errors; "
          f"/proc/<pid>/task/*/schedstat around each request) ==")
    print(f"  {'step':<24} {'requests':>8} {'server ms':>10} {'PostgreSQL ms':>14}  (per request)")
    whole = {k: 0.0 for k in probe.groups}
    for name in steps:
        n = probe.count[name]
        row = {k: probe.cpu[name].get(k, 0) / n / 1e6 for k in probe.groups}
        for k in probe.groups:
            whole[k] += probe.cpu[name].get(k, 0) / done / 1e6
        table[name] = {"requests": n, **{f"{k}_ms": round(v, 3) for k, v in row.items()}}
        print(f"  {name:<24} {n:>8} {row.get('server', 0):>10.2f} {row.get('db', 0):>14.2f}")
    background = {k: max(0.0, probe.gap[k] - idle_rate[k] * probe.gap_seconds) / done / 1e6 for k in probe.groups}
    for k in probe.groups:
        whole[k] += background[k]
    print(f"  {'between requests (jobs)':<24} {'':>8} {background.get('server', 0):>10.2f} {background.get('db', 0):>14.2f}"
          f"  (per journey, less the idle rate of {idle_rate.get('server', 0) / 1e6:.2f} and {idle_rate.get('db', 0) / 1e6:.2f} ms/s)")
    print(f"  {'a whole journey':<24} {'':>8} {whole.get('server', 0):>10.2f} {whole.get('db', 0):>14.2f}")
    if POLLS in probe.cpu:
        n = probe.count[POLLS]
        print(f"  (not counted: the benchmark's {n} reads of the job queue on /metrics, "
              + ", ".join(f"{k} {probe.cpu[POLLS].get(k, 0) / n / 1e6:.2f} ms" for k in probe.groups) + " each)")
    for error in stats.errors[:3]:
        print("  error:", error)
    return {"kind": "steps", "mode": label, "until": API_STEPS[-1], "journeys": len(stats.journeys), "errors": len(stats.errors),
            "steps": table, "background_ms_per_journey": {k: round(v, 3) for k, v in background.items()},
            "ms_per_journey": {k: round(v, 3) for k, v in whole.items()}}


class MarkerProbe:
    """Writes a marker statement into PostgreSQL's log before and after every request (`SELECT 'yidai-bench-mark N'`,
    through psql), so the statements logged between two markers are that request's."""

    def __init__(self, psql):
        self.psql = psql
        self.n = 0
        self.steps = []  # (step, marker before, marker after)

    def read(self):
        self.n += 1
        subprocess.run(self.psql + ["-qAtc", f"SELECT 'yidai-bench-mark {self.n}'"], check=True, capture_output=True)
        return self.n

    def add(self, step, before, after):
        self.steps.append((step, before, after))


# What the server does on its own, not for a request: the job worker (claims, notifications, a job's end) and the
# audit sealer. A statement matching one of these, and every statement of a transaction holding one (on the same
# backend, BEGIN to COMMIT), is counted between requests, wherever it falls in the log.
BACKGROUND = re.compile(r"FROM jobs\b|UPDATE jobs\b|WITH job AS|SELECT n\.template|FROM audit_entries WHERE lane = 0|"
                        r"WITH sealed AS|SELECT id, lane FROM audit_entries|audit_head")


def logged_statements(text):
    """(backend pid, kind, sql, background) of every statement in a PostgreSQL log (log_statement = all, the default
    log_line_prefix '%m [%p] '): kind is the prepared statement's name, `<unnamed>` for a plain one through the
    extended protocol, or `simple` for the simple protocol."""
    out = []
    for entry in re.split(r"\n(?=\d{4}-\d\d-\d\d )", text):
        match = re.search(r"\[(\d+)\] LOG:  (?:statement|execute ([^:]*)): (.*)", entry, re.S)
        if match:
            out.append([int(match.group(1)), match.group(2) or "simple", " ".join(match.group(3).split()), False])
    open_blocks = {}  # pid -> the statements of its open transaction
    for statement in out:
        pid, _, sql, _ = statement
        statement[3] = bool(BACKGROUND.search(sql))
        if sql.upper() in ("BEGIN", "START TRANSACTION"):
            open_blocks[pid] = [statement]
        elif pid in open_blocks:
            block = open_blocks[pid]
            block.append(statement)
            if sql.upper() in ("COMMIT", "ROLLBACK"):
                if any(s[3] for s in block):
                    for s in block:
                        s[3] = True
                del open_blocks[pid]
    return [tuple(s) for s in out]


async def statements_pass(ctx, label):
    """One journey with PostgreSQL's statement log on (ALTER SYSTEM, reloaded, reset after): statements per request,
    prepared and plain, and those sent between requests (the job worker's, the sealer's)."""
    psql = os.environ.get("YIDAI_BENCH_PSQL", "").split()
    log_path = os.environ.get("YIDAI_BENCH_PG_LOG", "")
    if not psql or not log_path or not os.path.exists(log_path):
        print("\n(no YIDAI_BENCH_PSQL or PostgreSQL log: no statement count)")
        return None
    await wait_for_jobs(ctx.metrics_url)
    await asyncio.sleep(2.5)
    setting = lambda sql: subprocess.run(psql + ["-qAtc", sql], check=True, capture_output=True)
    setting("ALTER SYSTEM SET log_statement = 'all'")
    setting("SELECT pg_reload_conf()")
    await asyncio.sleep(1)
    offset = os.path.getsize(log_path)
    probe = MarkerProbe(psql)
    ctx.probe = probe
    stats = Stats()
    try:
        await journey(ctx, ctx.allocate(), stats)
        last = probe.read()
    finally:
        ctx.probe = None
        setting("ALTER SYSTEM RESET log_statement")
        setting("SELECT pg_reload_conf()")
    await asyncio.sleep(0.5)
    with open(log_path, errors="replace") as f:
        f.seek(offset)
        logged = logged_statements(f.read())
    owner = {before: step for step, before, _ in probe.steps}
    counts, between, current = {}, [], None  # current: (step, its marker) while a request runs
    for _, kind, sql, background in logged:
        mark = re.match(r"SELECT 'yidai-bench-mark (\d+)'", sql)
        if mark:
            n = int(mark.group(1))
            current = (owner[n], n) if n in owner else None
            if current is not None:
                counts[current] = []
            if n == last:
                break
            continue
        if sql.startswith(("ALTER SYSTEM", "SELECT pg_reload_conf")):
            continue
        if current is None or background:
            between.append((kind, sql))
        else:
            counts[current].append((kind, sql))
    print(f"\n== {label}: statements per request (one journey, {len(stats.errors)} errors; PostgreSQL's statement log) ==")
    print(f"  {'step':<24} {'statements':>10} {'prepared':>9} {'plain':>6}")
    table, total = [], 0
    for (step, _), statements in sorted(counts.items(), key=lambda item: item[0][1]):
        plain = sum(1 for kind, _ in statements if kind in ("<unnamed>", "simple"))
        table.append({"step": step, "statements": len(statements), "plain": plain})
        total += len(statements)
        print(f"  {step:<24} {len(statements):>10} {len(statements) - plain:>9} {plain:>6}")
    print(f"  {'all requests':<24} {total:>10}")
    print(f"  {'between requests':<24} {len(between):>10}  (the job worker's and the sealer's, while the journey ran: "
          f"its statements, and every statement of a transaction holding one)")
    for error in stats.errors[:3]:
        print("  error:", error)
    return {"kind": "statements", "mode": label, "until": API_STEPS[-1], "errors": len(stats.errors), "steps": table,
            "requests_total": total, "between_requests": len(between)}


# --- statistics ------------------------------------------------------------------------------------------------

def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = p / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds):
    return round(seconds * 1000, 2)


class Stats:
    def __init__(self):
        self.steps = {}
        self.journeys = []
        self.errors = []
        self.statuses = {}
        self.connections = 0  # TCP connections the journeys opened (1 per journey when keep-alive holds)

    def add(self, step, seconds):
        self.steps.setdefault(step, []).append(seconds)


# --- one journey -----------------------------------------------------------------------------------------------

class Context:
    def __init__(self, targets, images_body, accept_encoding, until):
        self.targets = targets
        self.images_body = images_body
        self.accept_encoding = accept_encoding
        self.until = until
        self.probe = None  # a StepProbe during the per-step CPU pass
        self.metrics_url = None  # one server's /metrics, for the job queue's depth
        self.next_number = 0
        self.phone_base = random.randrange(10**8)

    def allocate(self):
        n = self.next_number
        self.next_number += 1
        if n >= 250 * 254:
            raise RuntimeError("out of loopback source addresses (63,500 journeys per run)")
        return n


async def call(session, method, url, data=None, token=None, accept="application/json"):
    headers = {"Accept": accept} if accept else {}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    async with session.request(method, url, data=data, headers=headers) as response:
        raw = await response.read()
        status = response.status
    if accept == "application/json" and raw:
        try:
            return status, json.loads(raw)
        except ValueError:
            pass
    return status, raw


async def journey(ctx, n, stats):
    source = f"127.0.{1 + n // 250}.{1 + n % 250}"
    base_url = ctx.targets[n % len(ctx.targets)]
    phone = "139" + f"{(ctx.phone_base + n) % 10**8:08d}"
    connector = aiohttp.TCPConnector(local_addr=(source, 0), limit=1, use_dns_cache=False)
    headers = {"Accept-Encoding": ctx.accept_encoding}
    timeout = aiohttp.ClientTimeout(total=60)
    token = None
    started = time.perf_counter()
    tracing = aiohttp.TraceConfig()

    async def opened(*_):
        stats.connections += 1
    tracing.on_connection_create_end.append(opened)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout, trace_configs=[tracing]) as session:

        async def step(name, method, path, body=None, expect=(200,), auth=True, raw_body=None):
            data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
            probe_before = ctx.probe.read() if ctx.probe else None
            t0 = time.perf_counter()
            try:
                status, answer = await call(session, method, base_url + path, data, token if auth else None)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                stats.statuses[f"{name} {type(error).__name__}"] = stats.statuses.get(f"{name} {type(error).__name__}", 0) + 1
                raise JourneyError(f"{name}: {type(error).__name__} {error}") from None
            stats.add(name, time.perf_counter() - t0)
            if ctx.probe:
                ctx.probe.add(name, probe_before, ctx.probe.read())
            if status not in expect:
                stats.statuses[f"{name} {status}"] = stats.statuses.get(f"{name} {status}", 0) + 1
                raise JourneyError(f"{name}: {status} {str(answer)[:300]}")
            return answer

        async def code():
            messages = await step(OUTBOX, "GET", f"/sandbox/sms?phone={phone}", auth=False)
            texts = [m["text"] for m in messages if "验证码" in m["text"]] if isinstance(messages, list) else []
            if not texts:
                raise JourneyError(f"{OUTBOX}: no code for {phone}")
            return re.search(r"(?<!\d)\d{6}(?!\d)", texts[0]).group(0)

        await step("sms-code", "POST", "/api/v1/sms-codes", {"phone": phone}, (202,), auth=False)
        session_answer = await step("sign-in", "POST", "/api/v1/sessions", {"phone": phone, "code": await code()}, (201,), auth=False)
        token, app_id = session_answer["token"], session_answer["application"]["id"]
        base = f"/api/v1/applications/{app_id}"
        reading = await step("id-card", "POST", base + "/id-card", raw_body=ctx.images_body)
        await step("id-card-confirm", "POST", base + "/id-card/confirm", {
            "name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"],
            "validUntil": reading["validUntil"] or "长期"})
        await step("face", "POST", base + "/face", {"simulate": True})
        await step("bank-card", "POST", base + "/bank-card", {"cardNumber": CARD}, (202,))
        await step("bank-card-confirm", "POST", base + "/bank-card/confirm", {"code": await code()})
        text = await step("authorization-text", "GET", base + "/credit-authorization")
        await step("authorization-code", "POST", base + "/credit-authorization/sms-code", None, (202,))
        await step("authorization", "POST", base + "/credit-authorization",
                   {"version": text["version"], "sha256": text["sha256"], "agree": True, "code": await code()})
        await step("about-you", "PUT", base + "/about-you", ABOUT_YOU)
        decided = await step("decision", "POST", base + "/decision")
        if decided.get("state") != "approved":
            raise JourneyError(f"decision: state {decided.get('state')}")
        await step("loan-request", "POST", base + "/loan-request",
                   {"amount": "20000", "termMonths": 12, "method": "equal-installment", "purpose": "consumption"})
        if ctx.until == "loan-request":
            stats.journeys.append(time.perf_counter() - started)
            return
        contract = await step("contract", "GET", base + "/contract")
        await step("contract-code", "POST", base + "/contract/sms-code", None, (202,))
        await step("contract-sign", "POST", base + "/contract/sign",
                   {"code": await code(), "sha256": contract["sha256"], "agree": True}, (200, 201))
    stats.journeys.append(time.perf_counter() - started)


async def run_journeys(ctx, concurrency, count, seconds):
    stats = Stats()
    deadline = time.monotonic() + seconds
    started_count = 0

    async def worker():
        nonlocal started_count
        while started_count < count and time.monotonic() < deadline:
            started_count += 1
            n = ctx.allocate()
            try:
                await journey(ctx, n, stats)
            except JourneyError as error:
                stats.errors.append(str(error))
            except Exception as error:  # noqa: BLE001 - a driver bug or an unexpected answer shape is an error too
                stats.errors.append(f"{type(error).__name__}: {error}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return stats, started_count


# --- the HTTP ceiling (wrk) ------------------------------------------------------------------------------------

def parse_duration_ms(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(name, url, options, groups, label):
    command = ["wrk", f"-t{options.wrk_threads}", f"-c{options.wrk_connections}", f"-d{options.wrk_seconds}s", "--latency", url]
    before = cpu_snapshot(groups)
    done = subprocess.run(command, capture_output=True, text=True, timeout=options.wrk_seconds + 60)
    after = cpu_snapshot(groups)
    cpu = cpu_delta_ms(before, after)
    out = done.stdout
    result = {"kind": "ceiling", "mode": label, "name": name, "url": url, "command": " ".join(command)}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    result["requests_per_s"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    requests = int(m.group(1)) if m else 0
    result["requests"] = requests
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        result["latency_avg_ms"] = parse_duration_ms(m.group(1))
        result["latency_max_ms"] = parse_duration_ms(m.group(3))
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}(?:\.000)?%\s+(\S+)", out, re.M)
        result[f"latency_p{p}_ms"] = parse_duration_ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors:(.*)", out)
    result["socket_errors"] = m.group(1).strip() if m else None
    for group in ("server", "proxy", "db"):
        if group in groups:
            result[f"{group}_cpu_ms_per_request"] = round(cpu[group] / requests, 4) if requests else None
    result["machine_busy_pct"] = round(cpu["machine_busy_pct"], 1)
    if done.returncode != 0 or not requests:
        result["error"] = (done.stderr or out)[-500:]
    return result


def print_ceiling(result):
    def f(value, fmt):
        return format(value, fmt) if isinstance(value, (int, float)) else "–"
    print(f"  {result['name']:<24} {f(result['requests_per_s'], ',.0f'):>9} req/s  latency p50 {f(result['latency_p50_ms'], '.2f')} ms"
          f"  p99 {f(result['latency_p99_ms'], '.2f')} ms  max {f(result.get('latency_max_ms'), '.1f')} ms"
          f"  non-2xx {result['non_2xx']}  CPU ms/request: server {f(result.get('server_cpu_ms_per_request'), '.3f')}"
          + (f", nginx {f(result.get('proxy_cpu_ms_per_request'), '.3f')}" if "proxy_cpu_ms_per_request" in result else "")
          + (f", PostgreSQL {f(result.get('db_cpu_ms_per_request'), '.3f')}" if "db_cpu_ms_per_request" in result else "")
          + f"  (machine {result['machine_busy_pct']:.0f} % busy)")
    if result.get("socket_errors"):
        print(f"    socket errors: {result['socket_errors']}")
    if result.get("error"):
        print(f"    wrk failed: {result['error']}")


# --- one level -------------------------------------------------------------------------------------------------

def summarize(label, concurrency, stats, started, elapsed, cpu, groups, ceilings, instances, idle):
    done = len(stats.journeys)
    window = cpu.get("window_s") or elapsed  # the journeys, and the jobs they queued until the queue was empty
    api = [v for name in API_STEPS for v in stats.steps.get(name, [])]
    every = api + stats.steps.get(OUTBOX, [])
    per_journey = lambda key: round(cpu[key] / done, 2) if done and key in cpu else None  # noqa: E731
    result = {
        "kind": "level", "mode": label, "until": API_STEPS[-1], "instances": instances, "concurrency": concurrency,
        "journeys": done, "started": started, "errors": len(stats.errors), "seconds": round(elapsed, 2),
        "journeys_per_s": round(done / elapsed, 2) if elapsed else 0.0,
        "request_p50_ms": ms(percentile(api, 50)) if api else None,
        "request_p99_ms": ms(percentile(api, 99)) if api else None,
        "request_all_p50_ms": ms(percentile(every, 50)) if every else None,
        "request_all_p99_ms": ms(percentile(every, 99)) if every else None,
        "journey_p50_ms": ms(percentile(stats.journeys, 50)) if done else None,
        "journey_p99_ms": ms(percentile(stats.journeys, 99)) if done else None,
        "server_cpu_ms_per_journey": per_journey("server") if "server" in groups else None,
        "proxy_cpu_ms_per_journey": per_journey("proxy") if "proxy" in groups else None,
        "db_cpu_ms_per_journey": per_journey("db") if "db" in groups else None,
        "driver_cpu_ms_per_journey": per_journey("driver"),
        # The server's CPU per unit of PostgreSQL's in the same run: both move together with the machine's load, so
        # the ratio compares builds that send the same statements far more steadily than either figure alone.
        "server_per_db_cpu": round(cpu["server"] / cpu["db"], 3) if "server" in groups and "db" in groups and cpu.get("db") else None,
        "server_cores": round(cpu["server"] / 1000 / window, 2) if "server" in groups and window else None,
        "db_cores": round(cpu["db"] / 1000 / window, 2) if "db" in groups and window else None,
        "driver_cores": round(cpu["driver"] / 1000 / window, 2) if window else None,
        "machine_busy_pct": round(cpu["machine_busy_pct"], 1),
        "machine_busy_journeys_pct": round(cpu["machine_busy_journeys_pct"], 1) if "machine_busy_journeys_pct" in cpu else None,
        "other_cores": round(cpu["machine_busy_pct"] / 100 * os.cpu_count()
                             - sum(cpu[k] for k in list(groups) + ["driver"]) / 1000 / window, 2) if window else None,
        "idle_cpu_ms_per_journey": {k: round(v * window / done, 2) for k, v in idle.items()} if idle and done else None,
        "jobs_drained_s": round(cpu["jobs_drained_s"], 2) if cpu.get("jobs_drained_s") is not None else None,
        "jobs_left": cpu.get("jobs_left"),
        "journeys_per_s_with_jobs": round(done / (elapsed + cpu["jobs_drained_s"]), 2)
        if cpu.get("jobs_drained_s") is not None and elapsed else None,
        "steps": {name: [ms(percentile(v, 50)), ms(percentile(v, 99))] for name, v in stats.steps.items()},
        "error_kinds": stats.statuses,
        "connections_per_journey": round(stats.connections / started, 2) if started else None,
    }
    goals = {
        "zero_errors": result["errors"] == 0 and started > 0,
        "server_cpu": result["server_cpu_ms_per_journey"] is not None and result["server_cpu_ms_per_journey"] <= GOALS["server_cpu_ms_per_journey"],
        "throughput": result["journeys_per_s"] >= GOALS["journeys_per_s"],
        "p99": result["request_p99_ms"] is not None and result["request_p99_ms"] < GOALS["request_p99_ms"],
    }
    result["goals_met"] = goals

    def f(value, fmt=".1f"):
        return format(value, fmt) if isinstance(value, (int, float)) else "–"
    print(f"\n== {label}: concurrency {concurrency} ==")
    print(f"journeys completed {done} of {started} started, errors {len(stats.errors)}, {elapsed:.1f} s: "
          f"{result['journeys_per_s']:.2f} journeys/s; journey p50 {f(result['journey_p50_ms'], '.0f')} ms, "
          f"p99 {f(result['journey_p99_ms'], '.0f')} ms")
    print(f"requests ({len(API_STEPS)} API requests per journey, {len(api)} in all): p50 {f(result['request_p50_ms'], '.2f')} ms, "
          f"p99 {f(result['request_p99_ms'], '.2f')} ms   (with the {REQUESTS_PER_JOURNEY - len(API_STEPS)} sandbox outbox reads: p50 "
          f"{f(result['request_all_p50_ms'], '.2f')} ms, p99 {f(result['request_all_p99_ms'], '.2f')} ms); "
          f"TCP connections per journey {f(result['connections_per_journey'], '.2f')}")
    if result["jobs_left"]:
        print(f"NOTE: {result['jobs_left']} jobs were still queued {result['jobs_drained_s']:.1f} s after the last journey "
              f"(the queue had stopped shrinking: jobs waiting to be retried; see the server log); the CPU below stops there")
    elif result["jobs_drained_s"] is not None:
        print(f"the jobs they queued (payouts, notifications) were done {result['jobs_drained_s']:.1f} s after the last journey: "
              f"{result['journeys_per_s_with_jobs']:.2f} journeys/s with their jobs; the CPU below counts the jobs")
    else:
        print("the job queue could not be read: the CPU below leaves out jobs still queued when the last journey ended")
    print("CPU ms per journey: server {} ({} cores){}, PostgreSQL {} ({} cores), driver {} ({} cores); machine {:.0f} % busy ({} cores of other processes)".format(
        f(result["server_cpu_ms_per_journey"]), f(result["server_cores"], ".2f"),
        f", nginx {f(result['proxy_cpu_ms_per_journey'])}" if "proxy" in groups else "",
        f(result["db_cpu_ms_per_journey"]) if "db" in groups else "not measured (no YIDAI_BENCH_PG_PID)",
        f(result["db_cores"], ".2f"), f(result["driver_cpu_ms_per_journey"]), f(result["driver_cores"], ".2f"),
        result["machine_busy_pct"], f(result["other_cores"], ".2f")))
    if result["server_per_db_cpu"] is not None:
        print(f"  server CPU ÷ PostgreSQL CPU: {result['server_per_db_cpu']:.3f} (steadier than either between rounds, for builds "
              "that send the same statements: the machine's load moves both)")
    if result.get("machine_busy_journeys_pct") is not None:
        print(f"  machine {result['machine_busy_journeys_pct']:.0f} % busy while the journeys ran (the figures above also "
              "span the wait for their jobs and a quiet worker tick)")
    if result["idle_cpu_ms_per_journey"]:
        print("  of which the idle rate (measured before the ceiling) accounts for: " + ", ".join(
            f"{k} {v:.1f}" for k, v in result["idle_cpu_ms_per_journey"].items()) + " ms per journey")
    for c in ceilings:
        if c.get("server_cpu_ms_per_request") and result["server_cpu_ms_per_journey"]:
            trivial = c["server_cpu_ms_per_request"] * REQUESTS_PER_JOURNEY
            print(f"  vs ceiling {c['name']}: {REQUESTS_PER_JOURNEY} such requests would cost the server {trivial:.2f} ms; "
                  f"a journey costs {result['server_cpu_ms_per_journey'] / trivial:.1f}× that")
    if result["driver_cores"] and result["driver_cores"] > 0.8:
        print("  note: the driver used most of a core; its own speed may limit journeys/s at this level")
    print(f"  {'step':<24} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for name in API_STEPS + [OUTBOX]:
        values = stats.steps.get(name)
        if values:
            print(f"  {name:<24} {len(values):>6} {percentile(values, 50) * 1000:>9.2f} {percentile(values, 99) * 1000:>9.2f} {max(values) * 1000:>9.2f}")
    if stats.statuses:
        print("  errors by step and status: " + ", ".join(f"{k} ×{v}" for k, v in sorted(stats.statuses.items())))
    for error in stats.errors[:5]:
        print("  error:", error)
    print("  goals: " + ", ".join([
        f"zero errors {'met' if goals['zero_errors'] else 'NOT met'}",
        f"server CPU ≤ 15 ms/journey {'met' if goals['server_cpu'] else 'NOT met'}",
        f"≥ 100 journeys/s {'met' if goals['throughput'] else 'NOT met'}",
        f"request p99 < 50 ms {'met' if goals['p99'] else 'NOT met'}"]))
    return result


def pid_list(name):
    return [int(p) for p in re.split(r"[,\s]+", os.environ.get(name, "").strip()) if p]


async def main_async(options):
    label = options.label or os.environ.get("YIDAI_BENCH_MODE", "run")
    urls = [u.rstrip("/") for u in os.environ["YIDAI_BENCH_URLS"].split(",") if u]
    for u in urls:
        assert urlsplit(u).hostname in ("127.0.0.1", "localhost"), "the benchmark drives loopback servers only"
    groups = {}
    if pid_list("YIDAI_BENCH_SERVER_PIDS"):
        groups["server"] = pid_list("YIDAI_BENCH_SERVER_PIDS")
    if pid_list("YIDAI_BENCH_PROXY_PIDS"):
        groups["proxy"] = pid_list("YIDAI_BENCH_PROXY_PIDS")
    if pid_list("YIDAI_BENCH_PG_PID"):
        groups["db"] = pid_list("YIDAI_BENCH_PG_PID")
    levels = [int(c) for c in options.levels.split(",") if c]

    print(f"# {label}: {len(urls)} target(s) {', '.join(urls)}; levels {levels}; journeys per level "
          f"max({options.journeys_per_level}, 3 × concurrency), at most {options.seconds:.0f} s each; "
          f"warm-up {options.warmup}; Accept-Encoding: {options.accept_encoding}; a journey: SMS code to {options.until} "
          f"({len(API_STEPS)} API requests and {REQUESTS_PER_JOURNEY - len(API_STEPS)} outbox reads)")
    print(f"# CPU: /proc/<pid>/stat utime+stime of each root and its live children, plus the root's cutime+cstime "
          f"(children it has reaped: PostgreSQL backends that ended); {TICK_MS:.0f} ms ticks, read before and after "
          f"each run. Trees: " + ", ".join(f"{k} {v}" for k, v in groups.items()) + f"; {os.cpu_count()} CPUs")

    async with aiohttp.ClientSession() as session:
        images = {}
        for side in ("front", "back"):
            status, raw = await call(session, "GET", f"{urls[0]}/sandbox/cards/P01-{side}.png", accept=None)
            assert status == 200, f"/sandbox/cards/P01-{side}.png: {status}"
            images[side + "Image"] = base64.b64encode(raw).decode()
    images_body = json.dumps(images).encode()
    ctx = Context(urls, images_body, options.accept_encoding, options.until)
    direct = [u for u in os.environ.get("YIDAI_BENCH_DIRECT_URLS", "").split(",") if u] or urls
    ctx.metrics_url = direct[0].rstrip("/") + "/metrics"
    async with aiohttp.ClientSession() as session:
        if await queued_jobs(session, ctx.metrics_url) is None:
            print(f"# {ctx.metrics_url} does not show the job queue: the jobs after each level are not waited for")
            ctx.metrics_url = None

    idle = None
    if options.idle_seconds > 0 and groups:
        before = cpu_snapshot(groups)
        await asyncio.sleep(options.idle_seconds)
        cpu = cpu_delta_ms(before, cpu_snapshot(groups))
        idle = {k: cpu[k] / options.idle_seconds for k in groups}
        print(f"\nidle for {options.idle_seconds:.0f} s (background work, e.g. the job worker's polling): CPU ms per second: "
              + ", ".join(f"{k} {v:.1f}" for k, v in idle.items()))

    ceilings = []
    ceiling_targets = [entry.split("=", 1) for entry in os.environ.get("YIDAI_BENCH_CEILING", "").split() if "=" in entry]
    if ceiling_targets and options.wrk_seconds > 0:
        if shutil.which("wrk"):
            print(f"\n== {label}: HTTP ceiling (wrk -t{options.wrk_threads} -c{options.wrk_connections} -d{options.wrk_seconds}s, "
                  f"from 127.0.0.1) ==")
            for name, url in ceiling_targets:
                result = await asyncio.to_thread(run_wrk, name, url, options, groups, label)
                print_ceiling(result)
                ceilings.append(result)
        else:
            print("\n(wrk not installed: no HTTP ceiling; `apt-get install wrk`)")

    if options.warmup:
        warm, _ = await run_journeys(ctx, min(options.warmup, 4), options.warmup, options.seconds)
        print(f"\nwarm-up: {len(warm.journeys)} journeys, {len(warm.errors)} errors (not counted)"
              + (f"; first: {warm.errors[0]}" if warm.errors else ""))

    results = []
    for concurrency in levels:
        count = max(options.journeys_per_level, 3 * concurrency)
        before = cpu_snapshot(groups)
        t0 = time.perf_counter()
        stats, started = await run_journeys(ctx, concurrency, count, options.seconds)
        elapsed = time.perf_counter() - t0
        # How busy the machine was while the journeys ran: the window below also holds the wait for their jobs and
        # a quiet worker tick, which would make a machine that ran flat out look half idle.
        during = cpu_delta_ms(before, cpu_snapshot(groups))
        # The payouts and notifications the journeys queued belong to them: their CPU is counted, until the queue
        # is empty and one worker tick more (a claimed job's end) has gone by.
        waited = await wait_for_jobs(ctx.metrics_url)
        if waited is not None:
            await asyncio.sleep(2.5)
        cpu = cpu_delta_ms(before, cpu_snapshot(groups))
        cpu["jobs_drained_s"], cpu["jobs_left"] = waited if waited is not None else (None, None)
        cpu["window_s"] = time.perf_counter() - t0
        cpu["machine_busy_journeys_pct"] = during["machine_busy_pct"]
        instances = int(os.environ.get("YIDAI_BENCH_INSTANCES") or len(urls))
        own = [c for c in ceilings if c["name"].startswith(label + ":")] or ceilings
        results.append(summarize(label, concurrency, stats, started, elapsed, cpu, groups, own, instances, idle))

    if options.step_cpu > 0:
        step_result = await step_cpu_pass(ctx, groups, options.step_cpu, label)
        if step_result:
            results.append(step_result)
    if options.statements:
        statement_result = await statements_pass(ctx, label)
        if statement_result:
            results.append(statement_result)

    print()
    for result in ceilings + results:
        print("RESULT " + json.dumps(result, ensure_ascii=False, separators=(",", ":")))
    return 0 if all(r["errors"] == 0 and r.get("started", 1) > 0 for r in results) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32,64", help="concurrencies, comma-separated (default 1,8,32,64)")
    parser.add_argument("--journeys-per-level", type=int, default=100, help="journeys per level, at least 3 × concurrency")
    parser.add_argument("--seconds", type=float, default=120, help="no journey starts after this many seconds of a level")
    parser.add_argument("--warmup", type=int, default=4, help="journeys before the levels, not counted")
    parser.add_argument("--idle-seconds", type=float, default=3, help="measure the processes' idle CPU first (0: no)")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="wrk duration per ceiling URL (0: no ceiling)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--accept-encoding", default="gzip, deflate", help="what the applicants' client accepts")
    parser.add_argument("--label", default=None, help="name of this run in the output (default $YIDAI_BENCH_MODE)")
    parser.add_argument("--until", default="contract-sign", choices=["loan-request", "contract-sign"],
                        help="where a journey ends: the signed contract (default; the payout follows as a job), or the "
                             "loan request, as issue 16 counts a journey (13 API requests and 3 SMS codes)")
    parser.add_argument("--step-cpu", type=int, default=0, metavar="N",
                        help="after the levels, N journeys one at a time with the server's and PostgreSQL's CPU read "
                             "around every request: CPU per step (0: no such pass)")
    parser.add_argument("--statements", action="store_true",
                        help="after the levels, one journey with PostgreSQL's statement log on: statements per request "
                             "(needs YIDAI_BENCH_PSQL, the psql command for the benchmark's database, and "
                             "YIDAI_BENCH_PG_LOG, its log file; run.sh sets both with STATEMENTS=1)")
    options = parser.parse_args()
    global API_STEPS, REQUESTS_PER_JOURNEY
    API_STEPS = API_STEPS[:API_STEPS.index(options.until) + 1]
    REQUESTS_PER_JOURNEY = len(API_STEPS) + (4 if options.until == "contract-sign" else 3)
    return asyncio.run(main_async(options))


if __name__ == "__main__":
    sys.exit(main())
