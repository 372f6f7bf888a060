#!/usr/bin/env bash
# Loan mathematics benchmark, on demand only (never in CI): the Swift engine in-process (release build) and the
# numpy-financial peer on the same inputs, one after the other in one run. Writes the figures into the
# "Loan mathematics" section of BENCHMARKS.md at the repository root.
#
#   bench/loanmath/run.sh
#
# LOANMATH_BENCH_BIN=/path/to/LoanMathBench skips the build and runs that binary instead (e.g. one built against a
# checkout where the rest of the package does not compile at the moment).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

binary_note=""
if [[ -n "${LOANMATH_BENCH_BIN:-}" ]]; then
  binary_note="Swift binary given by LOANMATH_BENCH_BIN (a release build of this bench package, e.g. from a clean checkout of the same commit)."
else
  swift build -c release -j "${SWIFT_JOBS:-1}" --product LoanMathBench >&2
  LOANMATH_BENCH_BIN="$(swift build -c release --show-bin-path)/LoanMathBench"
fi
python3 -c "import numpy_financial" 2>/dev/null || python3 -m pip install --quiet "numpy-financial==1.0.0" >&2

echo "running the Swift engine…" >&2
swift_json="$("$LOANMATH_BENCH_BIN")"
# Instructions per operation (callgrind counts instructions, so this does not depend on the machine's load):
# the difference between 2N and N repetitions, divided by N.
instructions_json="{}"
if command -v valgrind >/dev/null; then
  echo "counting instructions under callgrind…" >&2
  instructions_json="{"
  for op in schedule12 quote12 apr12 schedule360 quote360 apr360; do
    counts=()
    for n in 200 400; do
      out="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$LOANMATH_BENCH_BIN" --repeat "$op" "$n" 2>&1 | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')"
      counts+=("$out")
    done
    instructions_json+="\"$op\": $(( (counts[1] - counts[0]) / 200 )),"
  done
  instructions_json="${instructions_json%,}}"
fi
echo "running the Python peer…" >&2
python_json="$(python3 "$here/peer.py")"

INSTRUCTIONS_JSON="$instructions_json" BINARY_NOTE="$binary_note" SWIFT_JSON="$swift_json" PYTHON_JSON="$python_json" ROOT="$root" python3 - <<'PY'
import json, os, platform, re, subprocess, datetime
s = json.loads(os.environ["SWIFT_JSON"]); p = json.loads(os.environ["PYTHON_JSON"])
root = os.environ["ROOT"]

def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()

def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"

import numpy_financial, numpy
rate = lambda ns: f"{1e9 / ns:,.0f}" if ns < 1e8 else f"{1e9 / ns:,.2f}"
us = lambda ns: f"{ns / 1000:,.2f} µs" if ns >= 1000 else f"{ns:,.0f} ns"
rows = []
for label, what in [("12", "12-month schedule (100,000.00 at 12%)"), ("360", "360-month schedule (1,000,000.00 at 4.9%)")]:
    rows.append((what + ", equal installments", s[f"schedule{label}_ns"], p[f"schedule{label}_ns"]))
    rows.append((f"{label}-month quote: schedule + every date and amount as a string (`LoanQuoteDocument`)", s[f"quote{label}_ns"], p[f"quote{label}_ns"]))
    rows.append((f"{label}-month quote, strings through the Decimal accessors (`Money.string(row.principal)`)", s[f"quoteDecimal{label}_ns"], p[f"quote{label}_ns"]))
    rows.append((f"APR solve, {label} payments, with fee", s[f"apr{label}_ns"], p[f"apr{label}_ns"]))
agree = all(s[k] == p[k] for k in s if not k.endswith("_ns"))
diff = ", ".join(f"{k}: Swift {s[k]} / Python {p[k]}" for k in sorted(s) if not k.endswith("_ns") and s[k] != p[k])
load = os.getloadavg()
lines = [
    "## Loan mathematics",
    "",
    f"Command: `bench/loanmath/run.sh` (Swift: `bench/loanmath`, release build, in-process; peer: `bench/loanmath/peer.py`, "
    f"numpy-financial {numpy_financial.__version__} with numpy {numpy.__version__}). Each figure is the best of 5 rounds of at least 0.3 s. "
    + os.environ.get("BINARY_NOTE", ""),
    "",
    f"Machine: {cpu()}, {os.cpu_count()} cores shared with other work (load average {load[0]:.2f} at the start of the report), "
    f"{platform.system()} {platform.machine()}; {version(['swift', '--version'])}; Python {platform.python_version()}. "
    f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC at commit {version(['git', '-C', root, 'rev-parse', '--short', 'HEAD'])}. "
    "A load above the number of cores slows both sides (timings then vary run to run by up to 2×); the instruction counts below do not move.",
    "",
    "| operation | Swift engine | per second | Python peer | per second | Swift ÷ Python time (speed-up) |",
    "|---|---:|---:|---:|---:|---:|",
]
for what, sw, py in rows:
    lines.append(f"| {what} | {us(sw)} | {rate(sw)} | {us(py)} | {rate(py)} | {py / sw:,.1f}× |")
ins = json.loads(os.environ.get("INSTRUCTIONS_JSON") or "{}")
if ins:
    lines += ["", "Swift engine, instructions per operation under callgrind (independent of the load on the machine): "
              + ", ".join(f"{k} {v:,}" for k, v in ins.items()) + "."]
lines += [
    "",
    "Both sides compute due dates (month-end clamping) with each schedule; the quote rows add turning every date and amount into "
    "the API's strings (the peer with isoformat and '%.2f'). Most of the engine's quote time is string making "
    "(`CivilDate.iso` about 190 ns, `Money.string` of a Decimal about 80 ns, of fen about 25 ns each). The peer's APR is `npf.irr` (polynomial roots), the engine's a "
    "bracketed Newton iteration with an exact check near rounding boundaries.",
    "",
    f"Goals: at least 10× the peer per schedule: {'met' if min(p['schedule12_ns'] / s['schedule12_ns'], p['schedule360_ns'] / s['schedule360_ns']) >= 10 else 'NOT met'} "
    f"({p['schedule12_ns'] / s['schedule12_ns']:.0f}× and {p['schedule360_ns'] / s['schedule360_ns']:.0f}×); "
    f"a 12-month quote under 50 µs: {'met' if s['quote12_ns'] < 50_000 else 'NOT met'} ({us(s['quote12_ns'])} with strings, {us(s['schedule12_ns'])} without).",
    "",
    "Same inputs, same results: " + ("both sides computed the same first payment, total interest and APR." if agree else "they differ: " + diff + "."),
    "",
]
section = "\n".join(lines)
path = os.path.join(root, "BENCHMARKS.md")
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nRun on demand, never in CI.\n\n"
pattern = re.compile(r"^## Loan mathematics\n.*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
print(section)
PY
