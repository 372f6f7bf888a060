"""Runs a JDM graph through `yidai policy eval` and through zen-engine 2.1.3, and compares the outputs."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import zen

REPO = Path(__file__).resolve().parents[2]


def yidai_bin() -> Path:
    path = Path(os.environ.get("YIDAI_BIN", REPO / ".build" / "debug" / "yidai"))
    return path if path.is_absolute() else REPO / path


class YidaiRun:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    @property
    def output(self):
        """The stdout JSON parsed with exact decimals."""
        return json.loads(self.stdout, parse_float=Decimal, parse_int=Decimal)


def run_yidai(*arguments: str, stdin: str | None = None, timeout: float = 60) -> YidaiRun:
    completed = subprocess.run(
        [str(yidai_bin()), "policy", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return YidaiRun(completed)


def write_json(folder: Path, name: str, value) -> Path:
    path = folder / name
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


class ZenError(Exception):
    pass


def run_zen(graph_path: Path, input_value, trace: bool = False):
    """zen-engine with its filesystem loader rooted at the graph's folder (so decisionNode keys resolve the same).
    The input goes in as JSON text, which zen-engine parses into exact decimals (a dict would pass floats)."""
    engine = zen.ZenEngine({"loader": {"type": "fs", "path": str(graph_path.parent)}})
    input_text = input_value if isinstance(input_value, str) else json.dumps(input_value, ensure_ascii=False)
    try:
        response = engine.evaluate(graph_path.name, input_text, {"trace": trace})
    except Exception as error:  # zen raises a plain RuntimeError with a JSON message
        raise ZenError(str(error).split("\n")[0]) from None
    return response if trace else response["result"]


def to_decimal_tree(value):
    """zen-engine's Python binding returns floats; turn every number into a Decimal via its shortest repr."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, list):
        return [to_decimal_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: to_decimal_tree(v) for k, v in value.items()}
    return value


def _same_number(ours: Decimal, theirs: Decimal) -> bool:
    if ours == theirs:
        return True
    # zen-engine computes in exact decimals too, but its Python binding hands them over as float64. A result that
    # float64 cannot hold (1/3, sqrt 2) then comes back as the nearest double (>= 15 significant digits); accept
    # ours when it rounds to the same double, never when zen's value is short (0.3 stays 0.3, not 0.30000000000000004).
    digits = len(theirs.as_tuple().digits)
    if digits < 15:
        return False
    try:
        return abs(ours - theirs) <= abs(theirs) * Decimal("1e-14")
    except InvalidOperation:
        return False


def differences(ours, theirs, path: str = "$") -> list[str]:
    """Deep comparison, numbers as decimals; an empty list means the same."""
    if isinstance(theirs, float) or (isinstance(theirs, int) and not isinstance(theirs, bool)):
        theirs = to_decimal_tree(theirs)
    if isinstance(theirs, Decimal):
        if isinstance(ours, Decimal) and _same_number(ours, theirs):
            return []
        return [f"{path}: yidai {ours!r} != zen {theirs!r}"]
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: yidai {ours!r} != zen {theirs!r}"]
        out = []
        for key in sorted(set(ours) | set(theirs)):
            if key not in ours:
                out.append(f"{path}.{key}: missing in yidai (zen {theirs[key]!r})")
            elif key not in theirs:
                out.append(f"{path}.{key}: extra in yidai ({ours[key]!r})")
            else:
                out += differences(ours[key], theirs[key], f"{path}.{key}")
        return out
    if isinstance(theirs, list):
        if not isinstance(ours, list) or len(ours) != len(theirs):
            return [f"{path}: yidai {ours!r} != zen {theirs!r}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in differences(a, b, f"{path}[{i}]")]
    if type(ours) is not type(theirs) or ours != theirs:
        return [f"{path}: yidai {ours!r} != zen {theirs!r}"]
    return []


def compare_graph(graph_path: Path, input_value, input_path: Path | None = None) -> None:
    """Asserts yidai and zen-engine agree on graph + input: same output, or both fail."""
    folder = graph_path.parent
    if input_path is None:
        input_path = Path(tempfile.mkstemp(suffix=".json", dir=folder)[1])
        input_path.write_text(json.dumps(input_value, ensure_ascii=False), encoding="utf-8")
    ours = run_yidai("eval", str(graph_path), "--input", str(input_path))
    try:
        theirs = run_zen(graph_path, input_value)
    except ZenError as error:
        assert ours.returncode != 0, f"zen-engine failed ({error}) but yidai printed {ours.stdout}"
        assert ours.returncode in (1, 2), f"yidai exit {ours.returncode}: {ours.stderr}"
        return
    assert ours.returncode == 0, f"yidai exit {ours.returncode}: {ours.stderr.strip()}\nzen: {theirs!r}"
    diffs = differences(ours.output, theirs)
    assert not diffs, "\n".join(diffs)


# --- Small graph builders ------------------------------------------------------------------------------------


def graph(nodes: list[dict], edges: list[tuple]) -> dict:
    return {
        "nodes": nodes,
        "edges": [
            {"id": f"e{i}", "sourceId": e[0], "targetId": e[1], "type": "edge", **({"sourceHandle": e[2]} if len(e) > 2 else {})}
            for i, e in enumerate(edges)
        ],
    }


def input_node(id: str = "in", schema: dict | None = None) -> dict:
    node = {"id": id, "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}}
    if schema is not None:
        node["content"] = {"schema": json.dumps(schema)}
    return node


def output_node(id: str = "out") -> dict:
    return {"id": id, "type": "outputNode", "name": "Response", "position": {"x": 500, "y": 0}}


def transform(pass_through=False, input_field=None, output_path=None, execution_mode="single") -> dict:
    return {"passThrough": pass_through, "inputField": input_field, "outputPath": output_path, "executionMode": execution_mode}


def expression_node(id: str, expressions: list[tuple[str, str]], name: str | None = None, **options) -> dict:
    return {
        "id": id,
        "type": "expressionNode",
        "name": name or id,
        "position": {"x": 250, "y": 0},
        "content": {
            "expressions": [{"id": f"{id}-{i}", "key": k, "value": v} for i, (k, v) in enumerate(expressions)],
            **transform(**options),
        },
    }


def table_node(id: str, hit_policy: str, inputs: list[str], outputs: list[str], rules: list[list[str]], name=None, **options) -> dict:
    """inputs: fields ('' for a column without a field); outputs: fields; rules: cells, inputs first then outputs."""
    ins = [{"id": f"{id}-i{i}", "name": f or f"column {i}", "field": f} for i, f in enumerate(inputs)]
    outs = [{"id": f"{id}-o{i}", "name": f, "field": f} for i, f in enumerate(outputs)]
    rows = []
    for r, cells in enumerate(rules):
        assert len(cells) == len(ins) + len(outs)
        row = {"_id": f"{id}-r{r}"}
        for column, cell in zip(ins + outs, cells):
            row[column["id"]] = cell
        rows.append(row)
    return {
        "id": id,
        "type": "decisionTableNode",
        "name": name or id,
        "position": {"x": 250, "y": 0},
        "content": {"hitPolicy": hit_policy, "inputs": ins, "outputs": outs, "rules": rows, **transform(**options)},
    }


def switch_node(id: str, statements: list[tuple[str, str]], hit_policy: str = "first", name=None) -> dict:
    return {
        "id": id,
        "type": "switchNode",
        "name": name or id,
        "position": {"x": 250, "y": 0},
        "content": {
            "hitPolicy": hit_policy,
            "statements": [{"id": sid, "condition": c, "isDefault": c == ""} for sid, c in statements],
        },
    }


def decision_node(id: str, key: str, name=None, **options) -> dict:
    return {"id": id, "type": "decisionNode", "name": name or id, "position": {"x": 250, "y": 0},
            "content": {"key": key, **transform(**options)}}
