#!/usr/bin/env bash
# Journey load benchmark (issue 16): whole applicant journeys (SMS code to signed contract) at concurrency 1, 8, 32
# and 64 against Yidai on PostgreSQL, measured by bench_journeys.py (see its docstring for what it prints).
#
#   MODE=direct  INSTANCES (default 1) servers; each journey goes straight to one of them from a loopback source
#                address of its own (127.0.x.y).
#   MODE=nginx   INSTANCES (default 2) servers with YIDAI_TRUSTED_PROXIES=127.0.0.1/32 behind one nginx (upstream with
#                keepalive, X-Forwarded-For $remote_addr); the driver still binds one source address per journey, so
#                nginx's $remote_addr, and the address every limit uses, differs per applicant.
#   MODE=both    (default) direct, then nginx, each with fresh servers and a fresh database.
#   MODE=growth  one instance: journeys at concurrency GROWTH_CONCURRENCY (default 8) on the empty database, then
#                GROWTH_N (default 100000) applications seeded by bench/dashboard/seed.sql (journey steps, decisions,
#                loans, instalments, leads, audit entries; VACUUM ANALYZE after, as autovacuum would), then the same
#                journeys again; prints both figures side by side, and every table the second run scanned sequentially
#                (pg_stat_user_tables before and after it) with its size. No ceiling in this mode.
#
# Before the journeys, the HTTP ceiling: wrk -t2 -c32 -d10s (WRK_SECONDS) against CEILING_PATHS (default a static
# asset, /img/logo.svg, and /health, which counts a table) of one instance directly and, in nginx mode, through nginx.
# Then the database ceiling: `yidai db-roundtrips` (ROUNDTRIPS round trips each, default 3000; 0 skips it) prints the
# CPU a process of the server spends per round trip of a trivial statement (plain, prepared, BEGIN+COMMIT, and prepared
# inside a transaction).
# WAITS=1 also samples pg_stat_activity every 20 ms during the levels (direct and nginx modes) and prints what the
# backends inside a transaction waited for: locks (by statement), the server's next statement, the WAL.
# PROFILE=1 also records the servers' stacks with perf (499 Hz, from 3 s into the levels; Debian's linux-perf) and
# prints where their CPU went (bench/journeys/profile_summary.py: by layer, by module, the app's functions). perf
# costs CPU too: journeys per second and CPU per journey of a profiled run are not comparable with another run's.
# Arguments go to the driver (--levels 1,8,32,64 --journeys-per-level 100 --seconds 120 --warmup 4 ...).
#
# STATEMENTS=1: after the levels, one journey more with PostgreSQL's statement log on (ALTER SYSTEM, reset after):
# the statements each request sent, prepared and plain, and those sent between requests (the job worker's, the
# sealer's). Unlike CPU time, the count does not move with the machine's load, so two builds compare exactly.
# PG_SOCKET=1: the servers (and `yidai db-roundtrips`) reach that PostgreSQL through its Unix-domain socket
# (DATABASE_URL=postgres+uds://…) instead of loopback TCP; the driver's own psql calls still use TCP.
# PostgreSQL: its own PostgreSQL 15 in the temporary folder (binaries from /usr/lib/postgresql/*/bin, run as the
# postgres user when root), unless YIDAI_BENCH_POSTGRES_URL names one the benchmark may create databases in (then
# PostgreSQL CPU is measured only if YIDAI_BENCH_PG_PID gives its postmaster's pid). Servers: YIDAI_BIN, default
# .build/release/yidai if built, else .build/debug/yidai; YIDAI_OCR=sandbox, one key ring.
# Installs nginx-light and wrk with apt-get when missing (root on Debian only). Loopback only; nginx runs in the
# foreground with its configuration, pid and logs in the temporary folder (no system configuration used); everything
# started here is stopped at exit, and the temporary folder removed unless KEEP=1 (then its path is printed: server
# logs are server-<mode>-<i>.log, nginx's error log nginx/error.log, PostgreSQL's pg/log).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${YIDAI_BIN:-}"
[ -z "$bin" ] && { [ -x .build/release/yidai ] && bin=.build/release/yidai || bin=.build/debug/yidai; }
mode="${MODE:-both}"
case "$mode" in direct) modes=(direct) ;; nginx) modes=(nginx) ;; both) modes=(direct nginx) ;; growth) modes=(growth) ;;
  *) echo "MODE must be direct, nginx, both or growth" >&2; exit 2 ;; esac
ceiling_paths="${CEILING_PATHS:-/img/logo.svg /health}"
wrk_seconds="${WRK_SECONDS:-10}"
work=$(mktemp -d /tmp/yidai-bench-journeys.XXXXXX)
chmod 755 "$work"
pids=()
pg_data=""
dbs=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stop_started() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  trap - EXIT INT TERM
  stop_started
  if [ -n "$pg_data" ]; then
    as_postgres pg_ctl -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  elif [ ${#dbs[@]} -gt 0 ]; then
    for db in "${dbs[@]}"; do dropdb "${pg_args[@]}" --force "$db" >/dev/null 2>&1 || true; done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ " ${modes[*]} " == *" nginx "* ]] && ! command -v nginx >/dev/null && missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    echo "missing: ${missing[*]} (apt-get install ${missing[*]}); wrk is optional, nginx is needed for MODE=nginx" >&2
    command -v nginx >/dev/null || [[ " ${modes[*]} " != *" nginx "* ]] || exit 1
  fi
fi
python3 -c 'import aiohttp' 2>/dev/null || { echo "bench_journeys.py needs aiohttp 3.x: pip install aiohttp (pip install --break-system-packages aiohttp on Debian's system Python)" >&2; exit 1; }

pg_pid=""
if [ -n "${YIDAI_BENCH_POSTGRES_URL:-}" ]; then
  base="${YIDAI_BENCH_POSTGRES_URL%/*}"
  read -r -a pg_args < <(python3 -c 'import sys; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); print("-h", u.hostname, "-p", u.port or 5432, "-U", u.username or "postgres")' "$YIDAI_BENCH_POSTGRES_URL")
  pg_pid="${YIDAI_BENCH_PG_PID:-}"
  [ "${PG_SOCKET:-0}" = 1 ] && { echo "PG_SOCKET=1 needs the benchmark's own PostgreSQL (unset YIDAI_BENCH_POSTGRES_URL)" >&2; exit 2; }
  db_url() { echo "$base/$1?sslmode=disable"; }
else
  pg_data="$work/pg"; pg_port=$(free_port)
  mkdir -p "$pg_data"; [ "$(id -u)" = 0 ] && chown postgres "$pg_data"
  as_postgres initdb -D "$pg_data" -U yidai --auth=trust >/dev/null
  as_postgres pg_ctl -D "$pg_data" -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$pg_data/log" -w start >/dev/null
  pg_pid=$(head -1 "$pg_data/postmaster.pid")
  pg_args=(-h 127.0.0.1 -p "$pg_port" -U yidai)
  if [ "${PG_SOCKET:-0}" = 1 ]; then
    db_url() { echo "postgres+uds://yidai@localhost$pg_data/.s.PGSQL.$pg_port#$1"; }
  else
    db_url() { echo "postgres://yidai@127.0.0.1:$pg_port/$1?sslmode=disable"; }
  fi
fi

keys="bench:$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo +changes)"
echo "# $(date -Is) commit $commit; $bin built $(date -r "$bin" -Is 2>/dev/null || echo '?'); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL over $([ "${PG_SOCKET:-0}" = 1 ] && echo "its Unix socket" || echo "loopback TCP")"
status=0
for m in "${modes[@]}"; do
  if [ "$m" = nginx ]; then instances="${INSTANCES:-2}"; trusted=127.0.0.1/32; else instances="${INSTANCES:-1}"; trusted=""; fi
  db="bench_${m}_$(date +%s)"
  createdb "${pg_args[@]}" "$db"; dbs+=("$db")
  url=$(db_url "$db")
  urls=()
  server_pids=()
  for i in $(seq "$instances"); do
    port=$(free_port)
    mkdir -p "$work/data-$m-$i"
    DATABASE_URL="$url" YIDAI_KEYS="$keys" YIDAI_OCR=sandbox YIDAI_DATA_DIR="$work/data-$m-$i" \
      env -u YIDAI_TRUSTED_PROXIES ${trusted:+YIDAI_TRUSTED_PROXIES=$trusted} "$bin" serve --hostname 127.0.0.1 --port "$port" >"$work/server-$m-$i.log" 2>&1 &
    pids+=($!); server_pids+=($!)
    urls+=("http://127.0.0.1:$port")
    if [ "$i" = 1 ]; then  # the first one migrates the fresh database; the others start once it has
      for _ in $(seq 240); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
    fi
  done
  for u in "${urls[@]}"; do
    for _ in $(seq 240); do curl -fs "$u/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
    curl -fs "$u/health/ready" >/dev/null || { echo "$u did not become ready"; tail -20 "$work"/server-"$m"-*.log; exit 1; }
  done
  ceiling=""
  for p in $ceiling_paths; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${urls[0]}$p")
    if [ "$code" = 200 ]; then ceiling+=" direct:$p=${urls[0]}$p"; else echo "ceiling: ${urls[0]}$p answers $code, left out"; fi
  done
  targets=$(IFS=,; echo "${urls[*]}")
  proxy_pids=""
  if [ "$m" = nginx ]; then
    nginx_port=$(free_port)
    mkdir -p "$work/nginx/tmp"
    {
      echo "worker_processes 1;"
      echo "pid $work/nginx/nginx.pid;"
      echo "error_log $work/nginx/error.log warn;"
      echo "events { worker_connections 4096; }"
      echo "http {"
      echo "  access_log off;"
      for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/nginx/tmp/$t;"; done
      echo "  client_max_body_size 16m; client_body_buffer_size 2m;"
      echo "  upstream yidai {"
      for u in "${urls[@]}"; do echo "    server ${u#http://};"; done
      echo "    keepalive 64;"
      echo "  }"
      echo "  server {"
      echo "    listen 127.0.0.1:$nginx_port;"
      echo "    location / {"
      echo "      proxy_pass http://yidai;"
      echo "      proxy_http_version 1.1;"
      echo "      proxy_set_header Connection \"\";"
      echo "      proxy_set_header Host \$host;"
      echo "      proxy_set_header X-Forwarded-For \$remote_addr;"
      echo "    }"
      echo "  }"
      echo "}"
    } >"$work/nginx/nginx.conf"
    nginx -q -t -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;'
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/error.log" &
    nginx_pid=$!; pids+=($nginx_pid); proxy_pids=$nginx_pid
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$nginx_port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs "http://127.0.0.1:$nginx_port/health/ready" >/dev/null || { echo "nginx did not come up"; cat "$work/nginx/error.log"; exit 1; }
    for p in $ceiling_paths; do
      if [[ "$ceiling" == *" direct:$p="* ]]; then ceiling+=" nginx:$p=http://127.0.0.1:$nginx_port$p"; fi
    done
    targets="http://127.0.0.1:$nginx_port"
  fi
  if [ "$m" = growth ]; then
    growth_n="${GROWTH_N:-100000}"; growth_c="${GROWTH_CONCURRENCY:-8}"
    echo
    echo "# mode growth: 1 instance of $bin (pid ${server_pids[*]}) on PostgreSQL (postmaster ${pg_pid:-?}); concurrency $growth_c, then $growth_n applications seeded, then again"
    run_growth() {
      local label=$1; shift
      YIDAI_BENCH_MODE="growth-$label" YIDAI_BENCH_INSTANCES=1 YIDAI_BENCH_URLS="$targets" YIDAI_BENCH_SERVER_PIDS="${server_pids[*]}" YIDAI_BENCH_PG_PID="$pg_pid" \
        YIDAI_BENCH_PROXY_PIDS="" YIDAI_BENCH_CEILING="" \
        python3 bench/journeys/bench_journeys.py --wrk-seconds 0 --levels "$growth_c" "$@" || status=$?
    }
    scans() { psql -qAtF ' ' "$url" -c "SELECT relname, seq_scan, n_live_tup FROM pg_stat_user_tables ORDER BY relname"; }
    run_growth empty "$@"
    # The seed writes the audit chain's head in one long transaction: the server (its payout jobs append to the same
    # chain) is stopped meanwhile and started again on the seeded database.
    stop_started
    seeded_at=$(date +%s)
    psql -q "$url" -v n="$growth_n" -f bench/dashboard/seed.sql >/dev/null
    psql -q "$url" -c "VACUUM ANALYZE" >/dev/null
    DATABASE_URL="$url" YIDAI_KEYS="$keys" YIDAI_OCR=sandbox YIDAI_DATA_DIR="$work/data-$m-1" \
      env -u YIDAI_TRUSTED_PROXIES "$bin" serve --hostname 127.0.0.1 --port "${targets##*:}" >>"$work/server-$m-1.log" 2>&1 &
    pids+=($!); server_pids=($!)
    for _ in $(seq 240); do curl -fs "$targets/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
    echo "# seeded in $(( $(date +%s) - seeded_at )) s: $(psql -qAt "$url" -c "SELECT string_agg(relname || ' ' || n_live_tup, ', ' ORDER BY n_live_tup DESC) FROM pg_stat_user_tables WHERE n_live_tup >= 1000")"
    sleep 2
    before=$(scans)
    run_growth "seeded-$growth_n" "$@"
    after=$(scans)
    echo "# tables scanned sequentially during the seeded run (scans, rows in the table):"
    join <(echo "$before") <(echo "$after") | awk '$4 > $2 { printf "#   %-24s %6d scans  %9d rows%s\n", $1, $4 - $2, $5, ($5 >= 10000 ? "  <- a growing table" : "") }'
    stop_started
    dropdb "${pg_args[@]}" --force "$db" >/dev/null 2>&1 && unset 'dbs[-1]' || true
    continue
  fi
  echo
  echo "# mode $m: $instances instance(s) of $bin (pids ${server_pids[*]}) on PostgreSQL (postmaster ${pg_pid:-?})$([ "$m" = nginx ] && echo ", behind nginx $(nginx -v 2>&1 | cut -d/ -f2) (pid $nginx_pid, port $nginx_port), YIDAI_TRUSTED_PROXIES=$trusted")"
  # The database ceiling, beside wrk's HTTP one: what a trivial statement's round trip costs a process of the server
  # (its CPU and time per round trip; `yidai db-roundtrips`), which every statement of a journey pays first.
  if [ "${ROUNDTRIPS:-3000}" -gt 0 ]; then
    echo "# database ceiling (yidai db-roundtrips --count ${ROUNDTRIPS:-3000}, one statement at a time, the servers idle):"
    DATABASE_URL="$url" YIDAI_KEYS="$keys" YIDAI_OCR=sandbox YIDAI_DATA_DIR="$work/data-$m-1" "$bin" db-roundtrips --count "${ROUNDTRIPS:-3000}" 2>/dev/null \
      | grep -E '^(RESULT|[a-z].*per round trip)' | sed 's/^\([a-z]\)/#   \1/' || echo "#   (db-roundtrips failed)"
  fi
  sampler=""
  if [ "${WAITS:-0}" = 1 ]; then
    # What PostgreSQL's backends inside a transaction were doing, every 20 ms through the levels (not the warm-up's
    # first seconds): on the CPU, waiting for a lock (and on which statement), for the server's next statement
    # (ClientRead), or for the WAL.
    : > "$work/waits-$m.txt"
    ( sleep 3; while :; do psql -qAt "$url" -c "SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') || ' ' || left(query, 40) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')" >> "$work/waits-$m.txt" 2>/dev/null; sleep 0.02; done ) &
    sampler=$!
  fi
  profiler=""
  if [ "${PROFILE:-0}" = 1 ]; then
    command -v perf >/dev/null || { echo "PROFILE=1 needs perf (Debian: apt-get install linux-perf)" >&2; exit 2; }
    # perf's own delay, not a sleep before it: a background job ignores SIGINT until perf sets its handler.
    perf record -q -D 3000 -F 499 -g -p "$(IFS=,; echo "${server_pids[*]}")" -o "$work/perf-$m.data" >/dev/null 2>&1 &
    profiler=$!
  fi
  statements=()
  if [ "${STATEMENTS:-0}" = 1 ]; then
    if [ -n "$pg_data" ]; then
      statements=(--statements)
      export YIDAI_BENCH_PSQL="psql ${pg_args[*]} -d $db" YIDAI_BENCH_PG_LOG="$pg_data/log"
    else
      echo "# STATEMENTS=1 needs the benchmark's own PostgreSQL (its log): no statement count"
    fi
  fi
  YIDAI_BENCH_MODE="$m" YIDAI_BENCH_INSTANCES="$instances" YIDAI_BENCH_URLS="$targets" YIDAI_BENCH_DIRECT_URLS="$(IFS=,; echo "${urls[*]}")" YIDAI_BENCH_SERVER_PIDS="${server_pids[*]}" YIDAI_BENCH_PG_PID="$pg_pid" \
    YIDAI_BENCH_PROXY_PIDS="$proxy_pids" YIDAI_BENCH_CEILING="$ceiling" \
    python3 bench/journeys/bench_journeys.py --wrk-seconds "$wrk_seconds" "${statements[@]}" "$@" || status=$?
  if [ -n "$profiler" ]; then
    kill -INT "$profiler" 2>/dev/null; wait "$profiler" 2>/dev/null || true
    if [ -s "$work/perf-$m.data" ]; then
      perf script -i "$work/perf-$m.data" 2>/dev/null | python3 bench/journeys/profile_summary.py --label "$m"
    else
      echo "# profile ($m): perf recorded nothing (perf_event_paranoid, or the levels ended within 3 s)"
    fi
  fi
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    f="$work/waits-$m.txt"
    echo "# waits ($m): $(wc -l < "$f") samples of backends inside a transaction; waiting for a lock $(grep -c '^Lock:' "$f"), of which on audit_head $(grep '^Lock:' "$f" | grep -c audit_head); for the server's next statement $(grep -c '^Client:ClientRead' "$f"); for the WAL $(grep -c 'WAL' "$f"); on the CPU $(grep -c '^CPU:' "$f")"
    grep '^Lock:' "$f" | sort | uniq -c | sort -rn | head -5 | sed 's/^/#   /'
  fi
  for log in "$work"/server-"$m"-*.log; do
    # Errors, and jobs that did not end well (a payout or notification job logs a warning when it must be retried).
    n=$(grep -ciE '\b(error|critical)\b|(payout|notification) job|jobs did not run' "$log" || true)
    if [ "$n" != 0 ]; then echo "# $(basename "$log"): $n error, critical or job-warning lines, the first:"; grep -iE '\b(error|critical)\b|(payout|notification) job|jobs did not run' "$log" | head -5; fi
  done
  if [ "$m" = nginx ] && [ -s "$work/nginx/error.log" ]; then echo "# nginx error.log:"; tail -5 "$work/nginx/error.log"; fi
  stop_started
  dropdb "${pg_args[@]}" --force "$db" >/dev/null 2>&1 && unset 'dbs[-1]' || true
done
exit $status
