#!/usr/bin/env bash
# Decision-engine benchmark: Yidai (`yidai policy bench`, release build) against zen-engine 2.1.3
# (ZenEngine with a static loader, its fastest Python call style) on the shipped credit policy and P01's input,
# both pinned to one core, in one run. The outputs are checked identical first. On demand only, never in CI.
#
#   bench/policy/run.sh [ITERATIONS]        (default 200000; YIDAI_BIN to reuse an existing release binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERATIONS="${1:-200000}"
GRAPH=Policies/credit/credit.json
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ -z "${YIDAI_BIN:-}" ]; then
  swift build -c release -j 1 --product yidai >&2
  YIDAI_BIN=.build/release/yidai
fi
python3 -c 'import zen' 2>/dev/null || pip install -r Tests/oracle/requirements.txt >&2

python3 - "$WORK/input.json" <<'PY'
import json, sys
cases = json.load(open("Policies/credit/cases.json", encoding="utf-8"))["cases"]
json.dump(next(c for c in cases if c["name"].startswith("P01"))["input"], open(sys.argv[1], "w"))
PY

# Same output from both engines (numbers as decimals) before anything is timed.
"$YIDAI_BIN" policy eval "$GRAPH" --input "$WORK/input.json" > "$WORK/yidai.json"
python3 - "$GRAPH" "$WORK/input.json" "$WORK/yidai.json" <<'PY'
import json, sys
from decimal import Decimal
sys.path.insert(0, "Tests/oracle")
from oracle import differences, run_zen
from pathlib import Path
ours = json.load(open(sys.argv[3]), parse_float=Decimal, parse_int=Decimal)
theirs = run_zen(Path(sys.argv[1]), json.load(open(sys.argv[2])))
diffs = differences(ours, theirs)
if diffs:
    sys.exit("outputs differ:\n" + "\n".join(diffs))
print("outputs identical:", json.dumps(theirs, sort_keys=True, ensure_ascii=False))
PY

echo "== yidai policy bench (taskset -c 0), $ITERATIONS iterations"
taskset -c 0 "$YIDAI_BIN" policy bench "$GRAPH" --input "$WORK/input.json" --iterations "$ITERATIONS" | tee "$WORK/yidai.txt"
echo "== zen-engine 2.1.3 (taskset -c 0), $ITERATIONS iterations per call style"
taskset -c 0 python3 bench/policy/zen_bench.py "$GRAPH" "$WORK/input.json" "$ITERATIONS" | tee "$WORK/zen.txt"

python3 - "$WORK/yidai.txt" "$WORK/zen.txt" <<'PY'
import sys
def ns(path):
    return float(open(path).read().strip().splitlines()[-1].split(":")[1])
ours, theirs = ns(sys.argv[1]), ns(sys.argv[2])
print(f"== yidai {1e9/ours:,.0f} evaluations/s ({ours:,.0f} ns/op); zen-engine {1e9/theirs:,.0f} evaluations/s "
      f"({theirs:,.0f} ns/op); yidai/zen = {theirs/ours:.2f}x")
PY
