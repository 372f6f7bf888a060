#!/usr/bin/env bash
# The audit trail's appends, side by side: one head row for the whole chain (as before migration 022) against the
# chain in 16 lanes (AuditTrail.AdvanceLane and Append), both as the server writes them: take the head, insert the
# entry, write the head's new hash, commit. pgbench runs each for a few seconds at 1 and 16 connections, without and
# with 1 ms of the application's own time inside the transaction (as a busy server takes between its statements).
# Prints appends per second. Usage: bench/audit/run.sh [seconds] (a temporary PostgreSQL cluster, or
# YIDAI_BENCH_POSTGRES_URL=postgres://user@host:port/postgres for an existing one). Never run in CI.
set -euo pipefail
seconds=${1:-8}
for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && PATH="$PATH:$d"; done
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d)
[ "$(id -u)" = 0 ] && chown postgres "$work"
pg_data=""
cleanup() { [ -n "$pg_data" ] && as_postgres pg_ctl -D "$pg_data" -m fast -w stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
if [ -n "${YIDAI_BENCH_POSTGRES_URL:-}" ]; then
  base="${YIDAI_BENCH_POSTGRES_URL%/*}"
else
  pg_data="$work/pg"; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_postgres initdb -D "$pg_data" -U yidai --auth=trust >/dev/null
  as_postgres pg_ctl -D "$pg_data" -o "-p $port -k $pg_data -c listen_addresses=127.0.0.1" -l "$pg_data/log" -w start >/dev/null
  base="postgres://yidai@127.0.0.1:$port"
fi
db="audit_lanes_$(date +%s)"
psql -q "$base/postgres" -c "CREATE DATABASE $db"
url="$base/$db"
psql -q "$url" <<'SQL'
CREATE TABLE audit_head (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL, entry_hash TEXT NOT NULL);
INSERT INTO audit_head SELECT g, 0, md5(g::text) FROM generate_series(1, 16) g;
CREATE SEQUENCE audit_entries_sequence;
CREATE TABLE audit_entries (sequence BIGINT PRIMARY KEY, lane INTEGER NOT NULL, lane_position BIGINT NOT NULL,
  previous_hash TEXT NOT NULL, entry_hash TEXT NOT NULL, UNIQUE (lane, lane_position));
SQL
echo "# $(date -Is); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); $(psql -qAt "$url" -c 'SHOW server_version')"
echo "| the app's time in the transaction | connections | one head: appends/s | 16 lanes: appends/s | lanes ÷ one head |"
echo "|---|---:|---:|---:|---:|"
for think in 0 1; do
  cat > "$work/one.sql" <<SQL
BEGIN;
UPDATE audit_head SET sequence = sequence + 1 WHERE id = 1 RETURNING id AS lane, sequence AS pos, entry_hash AS prev, nextval('audit_entries_sequence') AS seq \gset
INSERT INTO audit_entries VALUES (:seq, :lane, :pos, ':prev', md5(':prev' || :seq));
UPDATE audit_head SET entry_hash = md5(':prev' || :seq) WHERE id = :lane;
\sleep $think ms
COMMIT;
SQL
  sed 's/WHERE id = 1 RETURNING/WHERE id = 1 + pg_backend_pid() % 16 RETURNING/' "$work/one.sql" > "$work/lanes.sql"
  for c in 1 16; do
    tps() { pgbench -n -c "$c" -j 2 -T "$seconds" -f "$work/$1.sql" "$url" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
    one=$(tps one); lanes=$(tps lanes)
    python3 -c "import sys; o, l = float(sys.argv[3]), float(sys.argv[4]); print(f'| {sys.argv[1]} ms | {sys.argv[2]} | {o:,.0f} | {l:,.0f} | {l / o:.1f}× |')" "$think" "$c" "$one" "$lanes"
  done
done
psql -q "$base/postgres" -c "DROP DATABASE $db WITH (FORCE)"
