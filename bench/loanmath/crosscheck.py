"""Exact cross-check of the loan engine, on demand: an independent oracle (Python fractions for every fen, a
60-digit Decimal IRR, exact APR for one-month loans) against the engine's schedules printed by LoanQuoteDump.

    bench/loanmath/crosscheck.py [seed] [count]      (builds LoanQuoteDump in release first)

Random loans of all sizes, rates with up to 6 decimals, terms 1-360, every method and rounding, fees up to the
principal, month-end and leap-day start dates, plus exact APR ties. Prints the mismatches (none expected).
"""
import calendar
import json
import os
import random
import subprocess
import sys
from fractions import Fraction as F
from decimal import Decimal as D, getcontext, ROUND_HALF_EVEN, ROUND_FLOOR
getcontext().prec = 60

def rhe(x: F) -> int:  # round half even to integer
    fl = x.numerator // x.denominator
    rem = x - fl
    if rem > F(1, 2) or (rem == F(1, 2) and fl % 2 == 1):
        return fl + 1
    return fl

def add_months(y, m, d, k):
    t = y * 12 + (m - 1) + k
    yy, mm = t // 12, t % 12 + 1
    return "%04d-%02d-%02d" % (yy, mm, min(d, calendar.monthrange(yy, mm)[1]))

def schedule(P, rate, n, method, q, fee, start):
    Pf = int(F(P) * 100); qf = int(F(q) * 100); feef = int(F(fee) * 100)
    r = F(rate) / 1200
    y, m, d = map(int, start.split("-"))
    if method == "equal-installment":
        if r == 0:
            A = F(Pf, n)
        else:
            A = Pf * r / (1 - (1 + r) ** -n)
        level = rhe(A / qf) * qf
        if n > 1 and level < rhe(Pf * r):
            return {"error": "installmentRounding/too_coarse"}
    per = rhe(F(Pf, n))
    rows = []; rem = Pf
    for k in range(1, n + 1):
        i = rhe(rem * r)
        if k == n:
            p = rem
        elif method == "equal-installment":
            p = min(max(0, level - i), rem)
        elif method == "equal-principal":
            p = min(per, rem)
        else:
            p = 0
        rem -= p
        rows.append([add_months(y, m, d, k), p, i, p + i, rem])
    pays = [row[3] for row in rows]
    net = Pf - feef
    if sum(pays) == net:
        apr = D(0)
    elif n == 1:  # exact: i = pay / net - 1
        x = (F(pays[0], net) - 1) * 120000
        u = rhe(x)
        apr = D(u) / 100
    else:
        i = D(rate) / 1200 if D(rate) > 0 else D("0.01")
        lo, hi = D(0), D(sum(pays)) / D(net)
        for _ in range(400):
            v = 1 / (1 + i); vk = D(1); f = D(-net); fp = D(0)
            for k, p in enumerate(pays, 1):
                vk *= v; f += p * vk; fp -= k * p * vk * v
            if f > 0: lo = i
            else: hi = i
            nx = i - f / fp if fp != 0 else (lo + hi) / 2
            if not (lo < nx < hi): nx = (lo + hi) / 2
            if abs(nx - i) < D("1e-50"): i = nx; break
            i = nx
        apr = (1200 * i).quantize(D("0.01"), rounding=ROUND_HALF_EVEN)
    s = lambda f: "%s%d.%02d" % ("-" if f < 0 else "", abs(f) // 100, abs(f) % 100)
    return {"rows": [[r0, s(a), s(b), s(c), s(e)] for r0, a, b, c, e in rows],
            "totalInterest": s(sum(r[2] for r in rows)), "totalPayment": s(sum(pays)), "apr": "%.2f" % apr}

def rand_case(rng):
    kind = rng.random()
    if kind < 0.15:
        P = F(rng.randint(1, 2000), 100)
    elif kind < 0.85: P = F(rng.randint(100000, 100000000), 100)
    else: P = F(rng.randint(1, 10**10), 100)
    rk = rng.random()
    if rk < 0.1: rate = "0"
    elif rk < 0.15: rate = "36"
    else:
        dec = rng.choice([0, 1, 2, 2, 3, 4, 6])
        rate = str(D(rng.randint(1, 36 * 10**dec)) / D(10**dec))
    n = rng.choice([1, 2, 3, 6, 12, 12, 18, 24, 36, 60, 120, 240, 360, rng.randint(1, 360)])
    method = rng.choice(["equal-installment", "equal-installment", "equal-principal", "interest-first"])
    q = rng.choice(["0.01", "0.01", "0.01", "0.1", "1", "10", "100"])
    fee = "0"
    if rng.random() < 0.3:
        fee_f = rng.randint(0, int(P * 100) - 1) if rng.random() < 0.2 else rng.randint(0, max(0, int(P * 100) // 20))
        fee = "%d.%02d" % (fee_f // 100, fee_f % 100)
    start = rng.choice(["2024-01-31", "2023-01-31", "2026-01-15", "2024-02-29", "2025-03-31", "2026-12-31", "2027-08-30"])
    Ps = "%d.%02d" % (int(P * 100) // 100, int(P * 100) % 100)
    return [Ps, rate, str(n), method, q, fee, start]

if __name__ == "__main__":
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    ties = []
    for _ in range(count // 5):
        k = rng.randint(1, 500) * 2
        rate = "%d.%03d" % (rng.randint(0, 35), rng.randint(0, 199) * 5)
        ties.append(["%d.00" % (1200 * k), rate, "1", rng.choice(["interest-first", "equal-installment", "equal-principal"]), "0.01", "0", "2026-01-15"])
    cases = ties + [rand_case(rng) for _ in range(count)] + [
        ["1.00", "6", "1", "equal-installment", "0.01", "0", "2026-01-15"],
        ["1.20", "5", "2", "interest-first", "0.01", "0", "2026-01-15"],
        ["0.05", "36", "12", "equal-installment", "0.01", "0", "2026-01-15"],
        ["0.05", "0", "7", "equal-principal", "0.01", "0", "2026-01-15"],
        ["100000000.00", "36", "360", "equal-installment", "0.01", "99999999.99", "2026-01-15"],
        ["100000000.00", "0", "1", "equal-installment", "0.01", "0", "2026-01-15"],
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    binary = os.environ.get("LOAN_QUOTE_DUMP_BIN")
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "-j", "1", "--product", "LoanQuoteDump"], cwd=here, check=True)
        bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=here, check=True,
                                 capture_output=True, text=True).stdout.strip()
        binary = os.path.join(bin_dir, "LoanQuoteDump")
    out = subprocess.run([binary], input="\n".join(" ".join(c) for c in cases) + "\n",
                         capture_output=True, text=True).stdout.splitlines()
    bad = 0
    for c, line in zip(cases, out):
        got = json.loads(line)
        want = schedule(*c[:2], int(c[2]), *c[3:])
        if got != want:
            bad += 1
            if bad <= 5:
                print("MISMATCH", c)
                for key in ("error", "totalInterest", "totalPayment", "apr"):
                    if got.get(key) != want.get(key): print("  ", key, got.get(key), want.get(key))
                if "rows" in got and "rows" in want:
                    for a, b in zip(got["rows"], want["rows"]):
                        if a != b: print("   row", a, b); break
    print(f"{len(cases)} cases, {bad} mismatches, {sum(1 for l in out if 'error' in l)} errors")
