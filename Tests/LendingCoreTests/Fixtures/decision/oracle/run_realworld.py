import zen, json, sys, subprocess, glob, os
from decimal import Decimal
# The expression oracle (and its number comparison) lives with the ZEN engine's tests.
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '../../../../ZenEngineTests/Fixtures/oracle'))
from run_oracle import close
tool = sys.argv[1]
root = sys.argv[2]
files = sorted(glob.glob(os.path.join(root, "**/*.json"), recursive=True))
cases = []
for f in files:
    try: g = json.load(open(f))
    except Exception: continue
    if not isinstance(g, dict) or "nodes" not in g: continue
    inputs = [t.get("input", {}) for t in g.get("tests", [])] or [{}]
    for i, inp in enumerate(inputs): cases.append((f, i, g, inp))
reqs = [json.dumps({"kind": "graph", "graph": g, "input": inp, "dir": os.path.dirname(f)}) for f, i, g, inp in cases]
p = subprocess.run([tool, "batch"], input="\n".join(reqs) + "\n", capture_output=True, text=True)
mine = [json.loads(l, parse_float=Decimal) for l in p.stdout.splitlines()]
bad = refused = 0
for (f, i, g, inp), m in zip(cases, mine):
    eng = zen.ZenEngine({"loader": {"type": "fs", "path": os.path.dirname(f)}})
    try: z = {"ok": eng.evaluate(os.path.basename(f), json.dumps(inp))["result"]}
    except Exception as ex: z = {"error": str(ex).split("\n")[0][:200]}
    if "error" in m and m["error"].startswith("load"):
        refused += 1
        print(f"REFUSED {os.path.relpath(f, root)}#{i}: {m['error'][:200]}  (zen: {'error' if 'error' in z else 'ok'})")
        continue
    ok = ("error" in z and "error" in m) or ("ok" in z and "ok" in m and close(z["ok"], m["ok"]))
    if not ok:
        bad += 1
        print(f"MISMATCH {os.path.relpath(f, root)}#{i}\n   zen:  {str(z)[:400]}\n   mine: {str(m)[:400]}")
print(f"{len(cases)} cases, {bad} mismatches, {refused} refused")
