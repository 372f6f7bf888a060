#!/usr/bin/env bash
# Runs every test: Swift tests on SQLite, the API tests again on a real PostgreSQL (started here and
# stopped at the end), the decision-engine oracle against zen-engine, and the real-browser walk.
# Installs what it needs (Debian and pip packages) on a fresh machine.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/yidai-test.XXXXXX)
summary=()
failed=0
pg_data=""
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then pg_ctl -D "$pg_data" -m fast -w stop >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n=== %s ===\n' "$*"; }
record() { # name status
  summary+=("$1: $2")
  [ "$2" = ok ] || failed=1
}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

step "Installing what the tests need"
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "noto.*cjk" || need_apt+=(fonts-noto-cjk)
command -v initdb >/dev/null 2>&1 || command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# The contract PDF (pango + cairo headers for the build, the CJK font at run time) and openssl for its signature test.
pkg-config --exists pangocairo 2>/dev/null || need_apt+=(libpango1.0-dev libcairo2-dev pkg-config)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null || { echo "apt-get install ${need_apt[*]} failed"; exit 1; }
fi
python3 -m pip install -q -r Tests/requirements.txt || { echo "pip install failed"; exit 1; }
for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done

step "Building (debug, with tests)"
if ! swift build --build-tests; then
  echo "build failed"; echo "build: failed"; echo "0 passed, 1 failed"; exit 1
fi

step "Swift tests on SQLite"
if swift test --skip-build 2>&1 | tee "$work/swift-sqlite.log"; then record "swift tests (SQLite)" ok; else record "swift tests (SQLite)" FAILED; fi

step "API tests on PostgreSQL"
pg_data="$work/pg"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$pg_data"
[ "$(id -u)" = 0 ] && chown postgres "$work" "$pg_data" && chmod 755 "$work"
if as_postgres initdb -D "$pg_data" -U yidai --auth=trust >/dev/null \
   && as_postgres pg_ctl -D "$pg_data" -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1" -l "$pg_data/log" -w start >/dev/null; then
  if DATABASE_URL="postgres://yidai@127.0.0.1:$pg_port/postgres?sslmode=disable" swift test --skip-build --filter AppTests 2>&1 | tee "$work/swift-pg.log"; then
    record "API tests (PostgreSQL)" ok
  else
    record "API tests (PostgreSQL)" FAILED
  fi
else
  cat "$pg_data/log" 2>/dev/null
  record "API tests (PostgreSQL)" "FAILED (PostgreSQL did not start)"
fi

step "Decision engine against zen-engine, OpenAPI contract, and the browser walk"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
YIDAI_DATA_DIR="$work/data" .build/debug/yidai serve --hostname 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 1; done
export YIDAI_BIN="$root/.build/debug/yidai" YIDAI_BASE_URL="http://127.0.0.1:$port" YIDAI_SCREENSHOTS="$root/e2e-screenshots"
if python3 -m pytest -q Tests/oracle Tests/api Tests/e2e 2>&1 | tee "$work/pytest.log"; then record "oracle + browser (pytest)" ok; else record "oracle + browser (pytest)" FAILED; tail -40 "$work/server.log"; fi

step "Summary"
for line in "${summary[@]}"; do echo "  $line"; done
passed=$(grep -hoE 'Test run with [0-9]+ tests? (in [0-9]+ suites? )?passed' "$work"/swift-*.log | grep -oE '[0-9]+ tests?' | grep -oE '[0-9]+' | paste -sd+ | bc 2>/dev/null || echo 0)
py_passed=$(grep -oE '[0-9]+ passed' "$work/pytest.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
py_failed=$(grep -oE '[0-9]+ failed' "$work/pytest.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
swift_failed=$(grep -hoE 'with [0-9]+ issues?' "$work"/swift-*.log | grep -oE '[0-9]+' | paste -sd+ | bc 2>/dev/null || echo 0)
echo "Screenshots of the browser walk: e2e-screenshots/"
echo "$(( ${passed:-0} + ${py_passed:-0} )) passed, $(( ${swift_failed:-0} + ${py_failed:-0} + failed )) failed"
exit $failed
