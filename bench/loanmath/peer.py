"""Python peer for the loan mathematics benchmark (numpy-financial 1.0.0), on the same inputs as LoanMathBench.

The natural numpy-financial way to build the same schedule: npf.pmt for the level payment, a loop rounding each
period's interest half-even to the fen (Python's round on floats), the last installment taking the remainder, due
dates clamped to month ends; a quote also turns every date and amount into a string;
the APR by npf.irr on the cash flows (−(principal − fee), payments…), × 12 × 100, rounded to 2 decimals.
Prints one JSON object: nanoseconds per operation (best of 5 rounds of ≥ 0.3 s) and the values it computed.
"""
import calendar
import datetime
import json
import time

import numpy_financial as npf

CASES = {"12": (100_000.00, 12.0, 12, 1_000.00), "360": (1_000_000.00, 4.9, 360, 10_000.00)}


START = datetime.date(2026, 1, 15)


def due_date(start, k):
    months = start.year * 12 + start.month - 1 + k
    year, month = divmod(months, 12)
    return datetime.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def schedule(principal, annual_rate, months):
    r = annual_rate / 1200
    level = round(float(-npf.pmt(r, months, principal)), 2)
    rows, remaining = [], round(principal, 2)
    for k in range(1, months + 1):
        interest = round(remaining * r, 2)
        part = remaining if k == months else round(level - interest, 2)
        remaining = round(remaining - part, 2)
        rows.append((k, due_date(START, k), part, interest, round(part + interest, 2), remaining))
    return rows


def quote(principal, annual_rate, months):
    """The schedule as the API answers it: every date and amount as a string."""
    rows = schedule(principal, annual_rate, months)
    return [(k, d.isoformat(), "%.2f" % a, "%.2f" % b, "%.2f" % c, "%.2f" % e) for k, d, a, b, c, e in rows]


def apr(principal, fee, payments):
    return round(float(npf.irr([-(principal - fee)] + payments)) * 1200, 2)


def ns_per_op(fn):
    best = float("inf")
    for _ in range(5):
        n, batch, elapsed = 0, 1, 0.0
        while elapsed < 0.3:
            t0 = time.perf_counter()
            for _ in range(batch):
                fn()
            elapsed += time.perf_counter() - t0
            n += batch
            batch = min(batch * 2, 100_000)
        best = min(best, elapsed * 1e9 / n)
    return best


out = {}
for label, (p, rate, n, fee) in CASES.items():
    rows = schedule(p, rate, n)
    payments = [row[4] for row in rows]
    out[f"payment{label}"] = "%.2f" % payments[0]
    out[f"totalInterest{label}"] = "%.2f" % sum(row[3] for row in rows)
    out[f"apr{label}"] = "%.2f" % apr(p, fee, payments)
    out[f"schedule{label}_ns"] = round(ns_per_op(lambda: schedule(p, rate, n)), 1)
    out[f"quote{label}_ns"] = round(ns_per_op(lambda: quote(p, rate, n)), 1)
    out[f"apr{label}_ns"] = round(ns_per_op(lambda: apr(p, fee, payments)), 1)
print(json.dumps(out))
