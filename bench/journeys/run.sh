#!/usr/bin/env bash
# Whole journeys (SMS code to signed contract) against N Yidai instances on one PostgreSQL (see bench_journeys.py).
# Starts a PostgreSQL of its own in a temporary folder unless YIDAI_BENCH_POSTGRES_URL names one the benchmark may
# create a database in; starts INSTANCES (default 2) servers (YIDAI_BIN, default .build/release/yidai if built, else
# .build/debug/yidai) with YIDAI_OCR=sandbox and one key ring; passes its arguments to the driver
# (--journeys 40 --concurrency 8 --seconds 300). Loopback only; everything it started is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${YIDAI_BIN:-}"
[ -z "$bin" ] && { [ -x .build/release/yidai ] && bin=.build/release/yidai || bin=.build/debug/yidai; }
instances="${INSTANCES:-2}"
work=$(mktemp -d /tmp/yidai-bench-journeys.XXXXXX)
pids=()
pg_data=""
drop_db=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -n "$pg_data" ] && as_postgres pg_ctl -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  [ ${#drop_db[@]} -gt 0 ] && dropdb "${drop_db[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "${YIDAI_BENCH_POSTGRES_URL:-}" ]; then
  base="${YIDAI_BENCH_POSTGRES_URL%/*}"
  db="bench_$(date +%s)"
  python3 - "$YIDAI_BENCH_POSTGRES_URL" "$db" <<'PY'
import subprocess, sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
subprocess.run(["createdb", "-h", u.hostname, "-p", str(u.port or 5432), "-U", u.username or "postgres", sys.argv[2]], check=True)
PY
  drop_db=($(python3 -c 'import sys; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); print("-h", u.hostname, "-p", u.port or 5432, "-U", u.username or "postgres")' "$YIDAI_BENCH_POSTGRES_URL") --force "$db")
  url="$base/$db?sslmode=disable"
else
  pg_data="$work/pg"; pg_port=$(free_port)
  mkdir -p "$pg_data"; [ "$(id -u)" = 0 ] && chown postgres "$work" "$pg_data" && chmod 755 "$work"
  as_postgres initdb -D "$pg_data" -U yidai --auth=trust >/dev/null
  as_postgres pg_ctl -D "$pg_data" -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$pg_data/log" -w start >/dev/null
  url="postgres://yidai@127.0.0.1:$pg_port/postgres?sslmode=disable"
fi

keys="bench:$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
urls=()
for i in $(seq "$instances"); do
  port=$(free_port)
  mkdir -p "$work/data-$i"
  DATABASE_URL="$url" YIDAI_KEYS="$keys" YIDAI_OCR=sandbox YIDAI_DATA_DIR="$work/data-$i" \
    "$bin" serve --hostname 127.0.0.1 --port "$port" >"$work/server-$i.log" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
  for _ in $(seq 240); do curl -fs "$u/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$u/health/ready" >/dev/null || { echo "$u did not become ready"; tail -20 "$work"/server-*.log; exit 1; }
done
echo "$instances instance(s) of $bin on one PostgreSQL"
YIDAI_BENCH_URLS=$(IFS=,; echo "${urls[*]}") python3 bench/journeys/bench_journeys.py "$@"
