import zen, json, sys, subprocess, glob, os, random, re
from decimal import Decimal
# The expression oracle (and its number comparison) lives with the ZEN engine's tests.
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '../../../../ZenEngineTests/Fixtures/oracle'))
from run_oracle import close
tool = sys.argv[1]; roots = sys.argv[2].split(","); per = int(sys.argv[3]) if len(sys.argv) > 3 else 10
random.seed(int(os.environ.get("SEED", "7")))
files = []
for r in roots: files += sorted(glob.glob(os.path.join(r, "**/*.json"), recursive=True))
num_re = re.compile(r"-?\d+(?:\.\d+)?"); str_re = re.compile(r"'([^']*)'|\"([^\"]*)\"")
def set_path(obj, path, value):
    parts = path.split(".")
    for p in parts[:-1]:
        if not isinstance(obj.get(p), dict): obj[p] = {}
        obj = obj[p]
    obj[parts[-1]] = value
cases = []
for f in files:
    try: g = json.load(open(f))
    except Exception: continue
    if not isinstance(g, dict) or "nodes" not in g: continue
    if any(n.get("type") in ("functionNode", "customNode") for n in g["nodes"]): continue
    fields = {}
    for n in g["nodes"]:
        c = n.get("content") or {}
        if n.get("type") == "decisionTableNode":
            for col in c.get("inputs", []):
                fld = col.get("field")
                if not fld or not re.fullmatch(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*", fld): continue
                vals = set()
                for rule in c.get("rules", []):
                    cell = rule.get(col["id"], "") or ""
                    for m in num_re.findall(cell): vals.add(Decimal(m))
                    for a, b in str_re.findall(cell): vals.add(a or b)
                fields.setdefault(fld, set()).update(vals)
    if not fields: continue
    bases = [t.get("input", {}) for t in g.get("tests", [])] or [{}]
    for i in range(per):
        inp = json.loads(json.dumps(random.choice(bases)))
        for fld, vals in fields.items():
            r = random.random()
            vals = list(vals)
            if r < 0.1: continue
            if r < 0.15: v = None
            elif vals and r < 0.85:
                v = random.choice(vals)
                if isinstance(v, Decimal): v = float(v + random.choice([Decimal(0), Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5")]))
            else: v = random.choice([0, 1, 50, 1000, "x", True, 2.5])
            set_path(inp, fld, v)
        cases.append((f, g, inp))
reqs = [json.dumps({"kind": "graph", "graph": g, "input": inp, "dir": os.path.dirname(f)}) for f, g, inp in cases]
p = subprocess.run([tool, "batch"], input="\n".join(reqs) + "\n", capture_output=True, text=True)
mine = [json.loads(l, parse_float=Decimal) for l in p.stdout.splitlines()]
bad = 0
engines = {}
for (f, g, inp), m in zip(cases, mine):
    d = os.path.dirname(f)
    eng = engines.setdefault(d, zen.ZenEngine({"loader": {"type": "fs", "path": d}}))
    try: z = {"ok": eng.evaluate(os.path.basename(f), json.dumps(inp))["result"]}
    except Exception as ex: z = {"error": str(ex).split("\n")[0][:200]}
    ok = ("error" in z and "error" in m) or ("ok" in z and "ok" in m and close(z["ok"], m["ok"]))
    if not ok:
        bad += 1
        if bad <= 12: print(f"MISMATCH {os.path.basename(f)} input={json.dumps(inp)[:300]}\n   zen:  {str(z)[:300]}\n   mine: {str(m)[:300]}")
print(f"{len(cases)} graph fuzz cases, {bad} mismatches")
