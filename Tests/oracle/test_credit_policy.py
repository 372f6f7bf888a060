"""The shipped credit policy: every case through yidai and zen-engine 2.1.3, which must agree and meet `expected`."""

import json
from decimal import Decimal

import pytest

from oracle import REPO, differences, run_yidai, run_zen, to_decimal_tree, write_json

POLICY = REPO / "Policies" / "credit"
CASE_FILE = json.loads((POLICY / "cases.json").read_text(encoding="utf-8"))
GRAPH = POLICY / CASE_FILE["graph"]


def expected_mismatches(expected, actual, path="$"):
    """The case file's rule: objects partial (listed keys only), arrays same length, numbers as decimals."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{path}.{key}: missing")
            else:
                out += expected_mismatches(value, actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual)) for m in expected_mismatches(e, a, f"{path}[{i}]")]
    if isinstance(expected, Decimal):
        return [] if isinstance(actual, Decimal) and actual == expected else [f"{path}: expected {expected}, got {actual!r}"]
    return [] if expected == actual and type(expected) is type(actual) else [f"{path}: expected {expected!r}, got {actual!r}"]


def test_the_policy_has_at_least_30_cases():
    assert len(CASE_FILE["cases"]) >= 30


@pytest.mark.parametrize("case", CASE_FILE["cases"], ids=[c["name"][:60] for c in CASE_FILE["cases"]])
def test_case_agrees_with_zen_engine_and_meets_expected(case, tmp_path):
    input_path = write_json(tmp_path, "input.json", case["input"])
    ours = run_yidai("eval", str(GRAPH), "--input", str(input_path))
    assert ours.returncode == 0, ours.stderr
    theirs = run_zen(GRAPH, case["input"])
    assert not differences(ours.output, theirs), "\n".join(differences(ours.output, theirs))
    expected = json.loads(json.dumps(case["expected"]), parse_float=Decimal, parse_int=Decimal)
    assert not expected_mismatches(expected, ours.output)
    assert not expected_mismatches(expected, to_decimal_tree(theirs))


def test_policy_test_command_passes_the_shipped_policy():
    run = run_yidai("test", str(POLICY))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == f"{len(CASE_FILE['cases'])} passed, 0 failed"
