"""The `yidai policy` command-line contract: outputs, traces and exit codes."""

import json
import re
import shutil

from oracle import REPO, expression_node, graph, input_node, output_node, run_yidai, run_zen, write_json

POLICY = REPO / "Policies" / "credit"
GRAPH = POLICY / "credit.json"
CASES = json.loads((POLICY / "cases.json").read_text(encoding="utf-8"))["cases"]
P01 = next(c for c in CASES if c["name"].startswith("P01"))["input"]


def test_eval_prints_the_output_json_and_exits_0(tmp_path):
    run = run_yidai("eval", str(GRAPH), "--input", str(write_json(tmp_path, "in.json", P01)))
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert output["decision"] == "approved"
    assert output["creditLimit"] == 150000


def test_eval_reads_the_input_from_stdin_with_dash():
    run = run_yidai("eval", str(GRAPH), "--input", "-", stdin=json.dumps(P01))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["decision"] == "approved"


def test_trace_shows_every_node_with_its_input_and_output_like_zen_engine(tmp_path):
    run = run_yidai("eval", str(GRAPH), "--input", str(write_json(tmp_path, "in.json", P01)), "--trace")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    plain = json.loads(run_yidai("eval", str(GRAPH), "--input", str(tmp_path / "in.json")).stdout)
    assert document["result"] == plain
    zen_trace = run_zen(GRAPH, P01, trace=True)["trace"]
    assert set(document["trace"]) == set(zen_trace), "the same nodes ran"
    for node_id, entry in document["trace"].items():
        assert entry["name"] == zen_trace[node_id]["name"]
        assert "input" in entry and "output" in entry
    # For a table the trace names the rule that matched: P01 meets the risk grade table's second rule (grade A).
    grade_rules = document["trace"]["grade"]["traceData"]
    assert "grade-r2" in json.dumps(grade_rules, ensure_ascii=False)


def test_a_graph_with_a_javascript_function_node_is_refused_with_exit_2_naming_the_node(tmp_path):
    g = graph([input_node(),
               {"id": "fn", "type": "functionNode", "name": "Custom scoring",
                "content": {"source": "export const handler = async (input) => ({ score: 1 });"}},
               output_node()],
              [("in", "fn"), ("fn", "out")])
    run = run_yidai("eval", str(write_json(tmp_path, "g.json", g)), "--input", str(write_json(tmp_path, "i.json", {})))
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Custom scoring" in run.stderr or "fn" in run.stderr
    assert "function" in run.stderr.lower()


def test_an_unknown_function_is_refused_at_load_with_exit_2_naming_it(tmp_path):
    g = graph([input_node(), expression_node("e", [("r", "frobnicate(1)")], name="Scoring"), output_node()],
              [("in", "e"), ("e", "out")])
    run = run_yidai("eval", str(write_json(tmp_path, "g.json", g)), "--input", str(write_json(tmp_path, "i.json", {})))
    assert run.returncode == 2
    assert "frobnicate" in run.stderr


def test_an_unreadable_or_invalid_graph_is_refused_with_exit_2(tmp_path):
    input_path = write_json(tmp_path, "i.json", {})
    (tmp_path / "broken.json").write_text("{ nodes: ", encoding="utf-8")
    assert run_yidai("eval", str(tmp_path / "broken.json"), "--input", str(input_path)).returncode == 2
    assert run_yidai("eval", str(tmp_path / "absent.json"), "--input", str(input_path)).returncode == 2
    not_a_graph = write_json(tmp_path, "list.json", [1, 2, 3])
    assert run_yidai("eval", str(not_a_graph), "--input", str(input_path)).returncode == 2


def test_invalid_input_json_is_an_evaluation_error_exit_1(tmp_path):
    (tmp_path / "bad.json").write_text('{"applicant": ', encoding="utf-8")
    run = run_yidai("eval", str(GRAPH), "--input", str(tmp_path / "bad.json"))
    assert run.returncode == 1
    assert run.stderr.strip()


def test_an_input_the_schema_rejects_is_an_evaluation_error_exit_1(tmp_path):
    bad = json.loads(json.dumps(P01))
    bad["applicant"]["employmentType"] = "student"
    run = run_yidai("eval", str(GRAPH), "--input", str(write_json(tmp_path, "in.json", bad)))
    assert run.returncode == 1
    assert "employmentType" in run.stderr


def test_an_expression_failing_at_run_time_is_exit_1(tmp_path):
    g = graph([input_node(), expression_node("e", [("r", "avg(values)")]), output_node()],
              [("in", "e"), ("e", "out")])
    run = run_yidai("eval", str(write_json(tmp_path, "g.json", g)),
                    "--input", str(write_json(tmp_path, "i.json", {"values": []})))
    assert run.returncode == 1


def test_bench_prints_ns_per_op_as_its_last_line(tmp_path):
    run = run_yidai("bench", str(GRAPH), "--input", str(write_json(tmp_path, "in.json", P01)), "--iterations", "200")
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"ns/op: ([0-9]+(\.[0-9]+)?)", last)
    assert match and float(match.group(1)) > 0, last


def test_policy_test_reports_a_failing_case_and_exits_non_zero(tmp_path):
    folder = tmp_path / "credit"
    folder.mkdir()
    shutil.copy(GRAPH, folder / "credit.json")
    cases = json.loads((POLICY / "cases.json").read_text(encoding="utf-8"))
    cases["cases"][0]["expected"]["creditLimit"] = 151000
    write_json(folder, "cases.json", cases)
    run = run_yidai("test", str(folder))
    assert run.returncode != 0
    lines = run.stdout.strip().splitlines()
    assert any(line.startswith("FAIL P01") for line in lines)
    assert any("creditLimit: expected 151000, got 150000" in line for line in lines)
    assert lines[-1] == f"{len(cases['cases']) - 1} passed, 1 failed"
