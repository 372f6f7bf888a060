"""zen-engine 2.1.3 side of the decision-engine benchmark: evaluations per second of one graph on one input.

usage: python3 zen_bench.py GRAPH.json INPUT.json ITERATIONS
Prints the output JSON, then one line per Python call style, then `ns/op: X` for the fastest style (zen's best).
"""

import json
import sys
import time
from pathlib import Path

import zen


def measure(evaluate, iterations: int) -> float:
    for _ in range(max(100, min(iterations // 10, 10_000))):
        evaluate()
    start = time.perf_counter_ns()
    for _ in range(iterations):
        evaluate()
    return (time.perf_counter_ns() - start) / iterations


def main() -> None:
    graph_path, input_path, iterations = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    content = json.loads(graph_path.read_text(encoding="utf-8"))
    input_text = input_path.read_text(encoding="utf-8")
    input_dict = json.loads(input_text)
    key = graph_path.name
    # ZenEngine with a static loader: the graph is parsed and compiled once, then cached by key.
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: content}}})
    decision = engine.get_decision(key)
    print("output:", json.dumps(engine.evaluate(key, input_dict)["result"], sort_keys=True, ensure_ascii=False))
    styles = {
        "ZenEngine.evaluate(key, dict)": lambda: engine.evaluate(key, input_dict),
        "ZenEngine.evaluate(key, json str)": lambda: engine.evaluate(key, input_text),
        "ZenDecision.evaluate(dict)": lambda: decision.evaluate(input_dict),
        "ZenDecision.evaluate(json str)": lambda: decision.evaluate(input_text),
    }
    results = {name: measure(fn, iterations) for name, fn in styles.items()}
    for name, ns in results.items():
        print(f"{name}: {ns:.1f} ns/op ({1e9 / ns:.0f} evaluations/s)")
    best = min(results, key=results.get)
    print(f"fastest: {best}")
    print(f"ns/op: {results[best]:.1f}")


if __name__ == "__main__":
    main()
