import random, json, subprocess, sys, zen
from decimal import Decimal
from run_oracle import close
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
CTX = {"a": 5, "b": -2.5, "c": 0, "s": "Hello", "t": "wor ld", "arr": [1, 2.5, 3], "strs": ["x", "y"], "o": {"k": 1, "n": {"m": "deep"}}, "nul": None, "yes": True, "no": False,
       "objs": [{"v": 1, "w": "a"}, {"v": 4, "w": "b"}], "big": 123456789012, "tiny": 0.001}
nums = ["0", "1", "2", "3.5", "-1", "0.1", "100", "1e2", "7", "0.25", "a", "b", "c", "big", "tiny", "len(s)", "arr[0]", "o.k", "sum(arr)", "max(arr)"]
strs = ["'ab'", '"Hello"', "s", "t", "strs[1]", "o.n.m", "upper(s)", "`x${a}y`", "string(a)", "''"]
arrs = ["arr", "strs", "[1, 2, 3]", "[]", "objs", "map(arr, # * 2)", "filter(arr, # > 1)", "[a, b]", "keys(o)", "split(t, ' ')"]
bools = ["yes", "no", "true", "false", "nul == null", "a > 1", "s == 'Hello'"]
anyv = ["nul", "o", "o.missing", "arr[5]"]
def num(d):
    if d <= 0 or random.random() < 0.3: return random.choice(nums)
    r = random.random()
    if r < 0.45: return f"({num(d-1)} {random.choice(['+','-','*','/','%','^'])} {num(d-1)})"
    if r < 0.6: return f"{random.choice(['abs','floor','ceil','round','trunc'])}({num(d-1)})"
    if r < 0.65: return f"round({num(d-1)}, {random.choice(['0','1','2'])})"
    if r < 0.72: return f"{random.choice(['sum','avg','min','max','median','mode','len'])}({arr(d-1)})"
    if r < 0.78: return f"({boolean(d-1)} ? {num(d-1)} : {num(d-1)})"
    if r < 0.83: return f"count({arr(d-1)}, {pred(d-1)})"
    if r < 0.88: return f"number({random.choice(strs + nums)})"
    if r < 0.93: return f"-{num(d-1)}"
    return f"({random.choice(anyv + nums)} ?? {num(d-1)})"
def string(d):
    if d <= 0 or random.random() < 0.4: return random.choice(strs)
    r = random.random()
    if r < 0.3: return f"({string(d-1)} + {string(d-1)})"
    if r < 0.5: return f"{random.choice(['upper','lower','trim','string'])}({string(d-1)})"
    if r < 0.6: return f"`{random.choice(['','p'])}${{{num(d-1)}}}-${{{string(d-1)}}}`"
    if r < 0.7: return f"string({num(d-1)})"
    if r < 0.8: return f"({boolean(d-1)} ? {string(d-1)} : {string(d-1)})"
    if r < 0.9: return f"{string(d-1)}[0:1]"
    return f"type({random.choice(anyv + nums + strs + arrs)})"
def arr(d):
    if d <= 0 or random.random() < 0.4: return random.choice(arrs)
    r = random.random()
    if r < 0.3: return f"map({arr(d-1)}, {random.choice(['#', '# * 2', 'string(#)', '#.v', '[#]'])})"
    if r < 0.5: return f"filter({arr(d-1)}, {pred(d-1)})"
    if r < 0.6: return f"flatten([{arr(d-1)}, {arr(d-1)}])"
    if r < 0.7: return f"[{num(d-1)}, {string(d-1)}]"
    if r < 0.8: return "split(" + string(d-1) + ", " + random.choice(['"l"', '" "', '""']) + ")"
    if r < 0.9: return f"{arr(d-1)}[1:]"
    return f"map([1..{random.randint(0,4)}], # * {num(0)})"
def pred(d):
    return random.choice(["# > 1", "# == 2.5", "type(#) == 'number'", "# != 'x'", f"# > {num(0)}", "#.v > 1", "contains(strs, #)", "# in [1, 3]"])
def boolean(d):
    if d <= 0 or random.random() < 0.3: return random.choice(bools)
    r = random.random()
    if r < 0.25: return f"({num(d-1)} {random.choice(['<','>','<=','>=','==','!='])} {num(d-1)})"
    if r < 0.35: return f"({string(d-1)} {random.choice(['==','!='])} {string(d-1)})"
    if r < 0.5: return f"({boolean(d-1)} {random.choice(['and','or'])} {boolean(d-1)})"
    if r < 0.58: return f"not {boolean(d-1)}"
    if r < 0.68: return f"({num(d-1)} {random.choice(['in','not in'])} {random.choice(['[1..5]','(0..3]',']1..5[','[1, 2.5, 7]', 'arr'])})"
    if r < 0.76: return f"{random.choice(['some','all','none','one'])}({arr(d-1)}, {pred(d-1)})"
    if r < 0.84: return f"{random.choice(['contains','startsWith','endsWith'])}({string(d-1)}, {string(d-1)})"
    if r < 0.9: return f"matches({string(d-1)}, '^[A-Z]')"
    return f"isNumeric({random.choice(strs + nums)})"
def unary(d):
    r = random.random()
    if r < 0.3: return random.choice(["> 1", "< 3", "[1..3]", "(0..2.5]", "1, 2", "'x', 'Hello'", "not in [1, 2]", "$ > a", "!= 0", "null", "$"])
    if r < 0.5: return f"> {num(d)}"
    if r < 0.6: return f"{random.choice(['>','<','>=','<=','==','!='])} {num(d)}, {random.choice(['>','<'])} {num(d)}"
    if r < 0.7: return f"[{num(0)}..{num(0)}]"
    if r < 0.8: return f"$ {random.choice(['>','=='])} {num(d)} and $ < {num(d)}"
    return boolean(d).replace("a >", "$ >")
cases = []
gens = [num, string, arr, boolean]
for i in range(int(sys.argv[1])):
    if random.random() < 0.2:
        v = random.choice([1, 2.5, 0, -1, "Hello", "x", None, True, [1, 2], {"v": 1}, 3])
        cases.append(("unary", unary(2), dict(CTX, **{"$": v})))
    else:
        cases.append(("expr", random.choice(gens)(random.randint(1, 4)), CTX))
reqs = [json.dumps({"kind": k, "expr": x, "ctx": c}) for k, x, c in cases]
p = subprocess.run(["../.build/debug/zenbench", "batch"], input="\n".join(reqs) + "\n", capture_output=True, text=True)
mine = [json.loads(l, parse_float=Decimal) for l in p.stdout.splitlines()]
bad = 0
for (k, x, c), m in zip(cases, mine):
    try:
        z = {"ok": zen.evaluate_expression(x, json.dumps(c)) if k == "expr" else zen.evaluate_unary_expression(x, json.dumps(c))}
    except Exception as ex:
        z = {"error": str(ex).split("\n")[0][:150]}
    ok = ("error" in z and "error" in m) or ("ok" in z and "ok" in m and close(z["ok"], m["ok"]))
    if not ok:
        bad += 1
        if bad <= 25: print(f"MISMATCH {k} {x!r} $={c.get('$')!r}\n   zen:  {z}\n   mine: {str(m)[:300]}")
print(f"{len(cases)} fuzz cases, {bad} mismatches")
