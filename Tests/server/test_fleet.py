"""Two server processes on one PostgreSQL behave as one Yidai (issue 16).

Needs a PostgreSQL that the tests may create databases in: YIDAI_TEST_POSTGRES_URL, for example
postgres://yidai@127.0.0.1:55432/postgres (scripts/test.sh sets it to the PostgreSQL it starts); skipped without it.
YIDAI_TEST_POSTGRES_SOCKET, that PostgreSQL's Unix-domain socket (a path), adds the test of an instance reaching it
through the socket. Each test gets a fresh, empty database. Both servers share the key ring (YIDAI_KEYS) but not their data folders,
as two machines behind a load balancer would.
"""
import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from server_support import BIN, Server, to_requested_loan

BASE_URL = os.environ.get("YIDAI_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="set YIDAI_TEST_POSTGRES_URL to a PostgreSQL the tests may create databases in")
KEYS = "fleet1:" + base64.b64encode(bytes(range(32))).decode()


def postgres_tool(name):
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    pytest.skip(f"{name} is not installed")


class Database:
    """A fresh database on the test PostgreSQL, dropped at the end."""

    def __init__(self):
        parts = urlsplit(BASE_URL)
        self.name = "fleet_" + uuid.uuid4().hex[:12]
        self.args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
        self.url = urlunsplit((parts.scheme, parts.netloc, "/" + self.name, "sslmode=disable", ""))

    def __enter__(self):
        subprocess.run([postgres_tool("createdb"), *self.args, self.name], check=True)
        return self

    def __exit__(self, *_):
        subprocess.run([postgres_tool("dropdb"), *self.args, "--force", self.name], check=False)


class FleetServer(Server):
    def __init__(self, data, url, keys=KEYS, **extra):
        super().__init__(data)
        self.url = url
        self.keys = keys
        self.extra = extra

    def env(self):
        env = dict(os.environ, YIDAI_DATA_DIR=self.data, DATABASE_URL=self.url, **self.extra)
        if self.keys:
            env["YIDAI_KEYS"] = self.keys
        else:
            env.pop("YIDAI_KEYS", None)
        return env


def start_together(servers):
    errors = []

    def start(server):
        try:
            server.start()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@contextlib.contextmanager
def two_instances():
    """Two server processes started together on a fresh, empty database; stopped at the end."""
    with Database() as db, tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        servers = [FleetServer(a, db.url), FleetServer(b, db.url)]
        try:
            errors = start_together(servers)
            assert not errors, [open(s.log.name).read()[-2000:] for s in servers if s.log]
            yield servers
        finally:
            for server in servers:
                server.stop()


def test_two_instances_started_together_on_an_empty_database_both_serve_and_share_the_sign_in_limit():
    with two_instances() as servers:
        for server in servers:
            assert server.call("GET", "/health/ready")[0] == 200
        # 20 sign-in tries from one address, alternating between the instances, are all the address gets.
        statuses = []
        for i in range(21):
            status, _ = servers[i % 2].call("POST", "/api/v1/sessions", {"phone": "13900000077", "code": "123456"})
            statuses.append(status)
        assert 429 not in statuses[:20], statuses
        assert statuses[20] == 429, statuses
        # Another address is not held back by it.
        assert servers[1].call("POST", "/api/v1/sessions", {"phone": "13900000078", "code": "123456"}, source="127.0.0.2")[0] != 429
        # And a restart forgets nothing.
        servers[0].stop()
        servers[0].start()
        assert servers[0].call("POST", "/api/v1/sessions", {"phone": "13900000077", "code": "123456"})[0] == 429


def test_codes_for_one_phone_asked_of_both_instances_at_the_same_moment_send_one_and_the_others_wait():
    with two_instances() as servers:
        # Ten at once, alternating between the instances, each from an address of its own (no address limit).
        results = [None] * 10

        def ask(i):
            results[i] = servers[i % 2].call("POST", "/api/v1/sms-codes", {"phone": "13900000079"}, source=f"127.0.1.{i + 1}")[0]

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(202) == 1, results
        assert results.count(429) == 9, results


def test_an_instance_whose_key_ring_cannot_open_the_database_refuses_to_start_naming_the_key():
    with Database() as db, tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        first = FleetServer(a, db.url)
        try:
            first.start()
        finally:
            first.stop()
        # An instance with a data folder of its own and no YIDAI_KEYS would generate its own development key.
        stranger = subprocess.run(
            [BIN, "serve", "--hostname", "127.0.0.1", "--port", "0"], env=FleetServer(b, db.url, keys=None).env(),
            capture_output=True, text=True, timeout=120)
        assert stranger.returncode != 0
        assert "missing key id: fleet1" in stranger.stdout + stranger.stderr


def test_an_instance_told_neither_on_nor_off_for_prepared_statements_refuses_to_start_naming_the_setting():
    with Database() as db, tempfile.TemporaryDirectory() as a:
        server = subprocess.run(
            [BIN, "serve", "--hostname", "127.0.0.1", "--port", "0"], env=FleetServer(a, db.url, YIDAI_PG_PREPARED="sometimes").env(),
            capture_output=True, text=True, timeout=120)
        assert server.returncode != 0
        assert "YIDAI_PG_PREPARED must be on or off (got sometimes)" in server.stdout + server.stderr


def test_the_database_round_trip_ceiling_prints_each_kind_of_round_trip_with_its_cost_and_refuses_a_zero_count():
    with Database() as db, tempfile.TemporaryDirectory() as a:
        env = FleetServer(a, db.url).env()
        run = subprocess.run([BIN, "db-roundtrips", "--count", "200"], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        line = next(l for l in run.stdout.splitlines() if l.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
        assert result["kind"] == "db-roundtrips" and result["database"] == "postgresql" and result["count"] == 200
        names = [r["name"] for r in result["results"]]
        assert names == ["plain statement", "prepared statement", "empty transaction (BEGIN, COMMIT)", "prepared statement in a transaction"]
        assert all(r["cpu_us"] > 0 and r["wall_us"] > 0 for r in result["results"])
        refused = subprocess.run([BIN, "db-roundtrips", "--count", "0"], env=env, capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0
        assert "--count must be at least 1 (got 0)" in refused.stdout + refused.stderr


def test_a_policy_published_through_one_instance_decides_on_the_other_a_signed_contract_is_paid_out_once_and_every_entry_is_sealed():
    from server_support import to_requested_loan

    with Database() as db, tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, \
            tempfile.TemporaryDirectory() as policies:
        # B runs its statements as plain text (as behind a pooler that carries no prepared statements), A prepared.
        servers = [FleetServer(a, db.url), FleetServer(b, db.url, YIDAI_PG_PREPARED="off")]
        try:
            # A fleet shares the bank's signing identity (YIDAI_SIGNING_KEY/CERT in production), so each instance's audit
            # anchors verify on every other: B gets the development one A generates.
            prepared = servers[0].command("jobs", "list")
            assert prepared.returncode == 0, prepared.stdout + prepared.stderr
            shutil.copytree(Path(a) / "signing", Path(b) / "signing")
            assert not start_together(servers)
            # The risk team publishes through instance B's configuration (the shipped policy under another name).
            folder = Path(policies) / "credit-fleet"
            shutil.copytree(Path(__file__).resolve().parents[2] / "Policies" / "credit", folder)
            published = servers[1].command("policy", "publish", str(folder), "--by", "risk")
            assert published.returncode == 0, published.stdout + published.stderr
            # An applicant on instance A is decided by it.
            token, app_id, sha, code = to_requested_loan(servers[0], "139" + uuid.uuid4().int.__str__()[:8])
            status, application = servers[0].call("GET", f"/api/v1/applications/{app_id}", token=token)
            assert status == 200 and application["decision"]["policyVersion"] == "credit-fleet@v1", application
            # Signed on A, paid out by whichever worker claims the job: once.
            status, answer = servers[0].call("POST", f"/api/v1/applications/{app_id}/contract/sign", {"code": code, "sha256": sha, "agree": True}, token=token)
            assert status in (200, 201), answer
            loans = []
            for _ in range(60):
                status, loans = servers[1].call("GET", "/api/v1/loans", token=token)
                if status == 200 and loans.get("loans"):
                    break
                time.sleep(0.5)
            assert len(loans.get("loans", [])) == 1, loans
            jobs = servers[1].command("jobs", "list", "--state", "done", "--kind", "disbursement")
            lines = [line for line in jobs.stdout.splitlines() if "disbursement" in line]
            assert len(lines) == 1 and "attempts 1" in lines[0], jobs.stdout
            reconcile = servers[0].command("payments", "reconcile")
            assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
            # Every audited change was written with its change, unsealed, and the instances' sealers chained it within
            # moments (nobody asked them to: no verification has run yet); then the whole trail verifies.
            psql = [postgres_tool("psql"), *db.args, "-d", db.name, "-tAc"]
            for _ in range(50):
                left = subprocess.run([*psql, "SELECT count(*) FROM audit_entries WHERE lane = 0"], capture_output=True, text=True, check=True)
                if left.stdout.strip() == "0":
                    break
                time.sleep(0.1)
            assert left.stdout.strip() == "0", left.stdout
            sealed = subprocess.run([*psql, "SELECT count(*) FROM audit_entries WHERE lane > 0"], capture_output=True, text=True, check=True)
            assert int(sealed.stdout.strip()) >= 15, sealed.stdout
            verify = servers[1].command("audit", "verify")
            assert verify.returncode == 0, verify.stdout + verify.stderr
        finally:
            for server in servers:
                server.stop()


SOCKET = os.environ.get("YIDAI_TEST_POSTGRES_SOCKET", "")


@pytest.mark.skipif(not SOCKET, reason="set YIDAI_TEST_POSTGRES_SOCKET to the test PostgreSQL's socket (scripts/test.sh does)")
def test_an_instance_reaches_postgresql_through_its_unix_socket_carries_a_journey_to_the_contract_and_opens_no_tcp_connection():
    with Database() as db, tempfile.TemporaryDirectory() as a:
        server = FleetServer(a, f"postgres+uds://{urlsplit(BASE_URL).username or 'postgres'}@localhost{SOCKET}#{db.name}")
        try:
            server.start()
            assert server.call("GET", "/health/ready")[0] == 200
            to_requested_loan(server, "13900000231")
            # Every connection the instance holds came through the socket: PostgreSQL shows no client address for those.
            sql = "SELECT count(*) FILTER (WHERE client_addr IS NULL), count(*) FROM pg_stat_activity WHERE application_name LIKE 'yidai-%'"
            seen = subprocess.run([postgres_tool("psql"), *db.args, "-d", db.name, "-Atc", sql], capture_output=True, text=True, check=True)
            by_socket, every = (int(n) for n in seen.stdout.strip().split("|"))
            assert every > 0 and by_socket == every, seen.stdout
        finally:
            server.stop()


@pytest.mark.parametrize("url, named", [
    ("postgres+uds://yidai@localhost/tmp/.s.PGSQL.5432", "needs the database after #"),
    ("postgres+uds://yidai@db.example.com:5432/tmp/.s.PGSQL.5432#yidai", "takes no host or port"),
    ("postgres+uds://localhost/tmp/.s.PGSQL.5432#yidai", "names no user"),
])
def test_a_socket_address_missing_a_part_refuses_to_start_naming_what_is_missing(url, named):
    with tempfile.TemporaryDirectory() as a:
        run = subprocess.run([BIN, "serve", "--hostname", "127.0.0.1", "--port", "0"], env=FleetServer(a, url).env(),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode != 0
        assert named in run.stdout + run.stderr, run.stdout[-2000:] + run.stderr[-2000:]
