"""Every ZEN expression and unary form we claim, through `yidai policy eval` and zen-engine 2.1.3."""

import pytest

from expressions import CONTEXT, EXPRESSIONS, KNOWN_DIFFERENCES, UNARY_CONTEXT, UNARY_TESTS
from oracle import compare_graph, expression_node, graph, input_node, output_node, table_node, write_json


assert set(KNOWN_DIFFERENCES) <= set(EXPRESSIONS), "every known difference names a probed expression"


def _expression_params():
    for expression in EXPRESSIONS:
        reason = KNOWN_DIFFERENCES.get(expression)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(expression, marks=marks, id=expression)


@pytest.mark.parametrize("expression", list(_expression_params()))
def test_expression_matches_zen_engine(expression, tmp_path):
    g = graph([input_node(), expression_node("expr", [("r", expression)]), output_node()],
              [("in", "expr"), ("expr", "out")])
    compare_graph(write_json(tmp_path, "graph.json", g), CONTEXT)


UNARY_CASES = [(cell, value) for cell, values in UNARY_TESTS.items() for value in values]


@pytest.mark.parametrize("cell,value", UNARY_CASES, ids=[f"{c!r}-{v!r}" for c, v in UNARY_CASES])
def test_unary_test_cell_matches_zen_engine(cell, value, tmp_path):
    # The rule under test first; a catch-all rule second, so the output says which one matched.
    table = table_node("t", "first", ["value"], ["hit"], [[cell, '"rule"'], ["", '"fallback"']])
    g = graph([input_node(), table, output_node()], [("in", "t"), ("t", "out")])
    compare_graph(write_json(tmp_path, "graph.json", g), {**UNARY_CONTEXT, "value": value})
