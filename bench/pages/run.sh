#!/usr/bin/env bash
# Page weight and largest paint of every applicant page under Slow 3G, cold and warm (see bench_pages.py).
# Starts a sandbox server of its own on a fresh data folder (YIDAI_BIN, default .build/debug/yidai) unless
# YIDAI_BASE_URL points at one already; --write puts the table into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${YIDAI_BASE_URL:-}" ]]; then
  data=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  YIDAI_DATA_DIR="$data" "${YIDAI_BIN:-.build/debug/yidai}" serve --hostname 127.0.0.1 --port "$port" >"$data/server.log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null; rm -rf "$data"' EXIT
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
  export YIDAI_BASE_URL="http://127.0.0.1:$port"
fi
python3 bench/pages/bench_pages.py "$@"
