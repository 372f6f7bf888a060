#!/usr/bin/env bash
# Runs every test: Swift tests on SQLite, the API tests again on a real PostgreSQL (started here and
# stopped at the end), the decision-engine oracle against zen-engine, and the real-browser walk.
# Installs what it needs (Debian and pip packages) on a fresh machine.
set -uo pipefail
# Tesseract without OpenMP threads of its own: the OCR queue reads one card per core (BENCHMARKS.md, ID-card OCR).
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
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
fc-list 2>/dev/null | grep -qi "droid sans fallback" || need_apt+=(fonts-droid-fallback)
command -v initdb >/dev/null 2>&1 || command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# The contract PDF (pango + cairo headers for the build, the CJK font at run time) and openssl for its signature test.
pkg-config --exists pangocairo 2>/dev/null || need_apt+=(libpango1.0-dev libcairo2-dev pkg-config)
pkg-config --exists libqrencode 2>/dev/null || need_apt+=(libqrencode-dev)
pkg-config --exists libbrotlienc libbrotlidec 2>/dev/null || need_apt+=(libbrotli-dev)
pkg-config --exists zlib 2>/dev/null || need_apt+=(zlib1g-dev)
pkg-config --exists jemalloc 2>/dev/null || need_apt+=(libjemalloc-dev)  # the server's allocator
# The ID card OCR: Tesseract (headers to build) and its Simplified Chinese model (to read).
pkg-config --exists tesseract 2>/dev/null || need_apt+=(libtesseract-dev)
ls /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-chi-sim)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || need_apt+=(zbar-tools)  # reads the QR codes back in the tests
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
swift test --skip-build 2>&1 | tee "$work/swift-sqlite.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record "swift tests (SQLite)" ok; else record "swift tests (SQLite)" FAILED; fi

step "API tests on PostgreSQL"
pg_data="$work/pg"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$pg_data"
[ "$(id -u)" = 0 ] && chown postgres "$work" "$pg_data" && chmod 755 "$work"
# Every test starts at once, each with an app whose pool may open 8 connections: a full run peaked at about 440
# connections (measured), so 500 failed now and then with "too many clients already"; 1500 leaves room.
if as_postgres initdb -D "$pg_data" -U yidai --auth=trust >/dev/null \
   && as_postgres pg_ctl -D "$pg_data" -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c max_connections=1500" -l "$pg_data/log" -w start >/dev/null; then
  DATABASE_URL="postgres://yidai@127.0.0.1:$pg_port/postgres?sslmode=disable" swift test --skip-build --filter AppTests 2>&1 | tee "$work/swift-pg.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then record "API tests (PostgreSQL)" ok; else record "API tests (PostgreSQL)" FAILED; fi
else
  cat "$pg_data/log" 2>/dev/null
  record "API tests (PostgreSQL)" "FAILED (PostgreSQL did not start)"
fi

step "Decision engine against zen-engine (pytest)"
export YIDAI_BIN="$root/.build/debug/yidai"
python3 -m pytest -q Tests/oracle 2>&1 | tee "$work/pytest-oracle.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record "decision engine vs zen-engine (pytest)" ok; else record "decision engine vs zen-engine (pytest)" FAILED; fi

# Each Python suite that talks to the server gets a fresh server with its own empty database.
start_server() { # name
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  YIDAI_DATA_DIR="$work/data-$1" .build/debug/yidai serve --hostname 127.0.0.1 --port "$port" >"$work/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 1; done
  export YIDAI_BASE_URL="http://127.0.0.1:$port"
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""; }

step "OpenAPI contract against a running server (pytest)"
start_server api
python3 -m pytest -q Tests/api 2>&1 | tee "$work/pytest-api.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record "OpenAPI contract (pytest)" ok; else record "OpenAPI contract (pytest)" FAILED; tail -40 "$work/server-api.log"; fi
stop_server

step "Races, a crash and a fleet of two on one PostgreSQL, against servers of their own (pytest)"
# The fleet tests create their own databases on the PostgreSQL started above (skipped if it did not start).
fleet_pg=""
[ -f "$pg_data/postmaster.pid" ] && fleet_pg="postgres://yidai@127.0.0.1:$pg_port/postgres"
YIDAI_TEST_POSTGRES_URL="$fleet_pg" YIDAI_TEST_POSTGRES_SOCKET="${fleet_pg:+$pg_data/.s.PGSQL.$pg_port}" YIDAI_BIN="$root/.build/debug/yidai" python3 -m pytest -q Tests/server 2>&1 | tee "$work/pytest-server.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record "races and crash on a real server (pytest)" ok; else record "races and crash on a real server (pytest)" FAILED; fi

step "Real-browser walk in headless Chromium (pytest)"
start_server e2e
export YIDAI_SCREENSHOTS="$root/e2e-screenshots"
python3 -m pytest -q Tests/e2e 2>&1 | tee "$work/pytest-e2e.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record "browser walk (pytest)" ok; else record "browser walk (pytest)" FAILED; tail -40 "$work/server-e2e.log"; fi
stop_server

step "Summary"
for line in "${summary[@]}"; do echo "  $line"; done
# Closing line: tests passed and failed over every runner (Swift Testing, XCTest and pytest).
swift_passed=$(grep -hoE '✔ Test run with [0-9]+ tests?' "$work"/swift-*.log | grep -oE '[0-9]+' | paste -sd+ | bc)
swift_failed=$(grep -hoE '✘ Test run with [0-9]+ tests?' "$work"/swift-*.log | grep -oE '[0-9]+' | paste -sd+ | bc)
swift_failed_tests=$(grep -hcE '^✘ Test ".*" failed after' "$work"/swift-*.log | paste -sd+ | bc)
py_passed=$(grep -hoE '[0-9]+ passed' "$work"/pytest-*.log | grep -oE '[0-9]+' | paste -sd+ | bc)
py_failed=$(grep -hoE '[0-9]+ (failed|error)' "$work"/pytest-*.log | grep -oE '[0-9]+' | paste -sd+ | bc)
total_failed=$(( ${swift_failed_tests:-0} + ${py_failed:-0} ))
[ "$failed" = 1 ] && [ "$total_failed" = 0 ] && total_failed=1
[ -n "${swift_failed:-}" ] && swift_passed=$(( ${swift_passed:-0} + ${swift_failed:-0} - ${swift_failed_tests:-0} ))
echo "Screenshots of the browser walk: e2e-screenshots/"
echo "$(( ${swift_passed:-0} + ${py_passed:-0} )) passed, ${total_failed} failed"
exit $failed
