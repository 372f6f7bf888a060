# Graph cases for the zen-engine oracle: (name, graph, input, subgraphs{key: graph})
import json
def node(id, type, name=None, content=None):
    n = {"id": id, "type": type, "name": name or id, "position": {"x": 0, "y": 0}}
    if content is not None: n["content"] = content
    return n
def edge(s, t, h=None, i=[0]):
    i[0] += 1
    e = {"id": f"e{i[0]}", "sourceId": s, "targetId": t, "type": "edge"}
    if h: e["sourceHandle"] = h
    return e
def table(hit="first", inputs=(), outputs=(), rules=(), **extra):
    c = {"hitPolicy": hit, "inputs": [{"id": i, "name": i, **({"field": f} if f is not None else {})} for i, f in inputs],
         "outputs": [{"id": o, "name": o, "field": f} for o, f in outputs], "rules": list(rules)}
    c.update(extra); return c
def expr(pairs, **extra):
    c = {"expressions": [{"id": f"x{k}", "key": k, "value": v} for k, v in pairs]}; c.update(extra); return c
def chain(*middle, edges=None):
    nodes = [node("in", "inputNode", "Request")] + list(middle) + [node("out", "outputNode", "Response")]
    if edges is None:
        ids = [n["id"] for n in nodes]
        edges = [edge(a, b) for a, b in zip(ids, ids[1:])]
    return {"nodes": nodes, "edges": edges}

G = []
def g(name, graph, inputs, subs=None):
    for i, inp in enumerate(inputs): G.append((f"{name}#{i}", graph, inp, subs or {}))

credit = table("first", [("age", "applicant.age"), ("inc", "applicant.income"), ("emp", "applicant.employment")],
    [("d", "decision"), ("l", "limit.amount"), ("r", "limit.rate"), ("why", "reason")],
    [{"_id": "r1", "age": "< 22", "inc": "", "emp": "", "d": '"declined"', "l": "0", "r": "null", "why": '"age"'},
     {"_id": "r2", "age": "[22..55]", "inc": ">= 10000", "emp": '"employed", "self"', "d": '"approved"', "l": "min([applicant.income * 10, 200000])", "r": "0.0725", "why": "''"},
     {"_id": "r3", "age": "[22..55]", "inc": "[3000..10000)", "emp": "", "d": '"referred"', "l": "round(applicant.income * 5 / 1000) * 1000", "r": "0.085", "why": '`low income ${applicant.income}`'},
     {"_id": "r4", "age": "", "inc": "", "emp": "", "d": '"declined"', "l": "0", "r": "", "why": '"default"'}])
g("credit-table", chain(node("t", "decisionTableNode", "Credit", credit)),
  [{"applicant": {"age": 30, "income": 12345.67, "employment": "employed"}}, {"applicant": {"age": 21, "income": 50000, "employment": "employed"}},
   {"applicant": {"age": 40, "income": 5000, "employment": "none"}}, {"applicant": {"age": 60, "income": 5000}}, {"applicant": {"age": 30, "income": 25000, "employment": "self"}},
   {"applicant": {"age": 55, "income": 9999.99, "employment": "x"}}, {}, {"applicant": {"age": "30", "income": 20000, "employment": "employed"}}, {"applicant": {"age": 22, "income": 10000, "employment": "employed"}}])

collect = table("collect", [("a", "score")], [("c", "code"), ("m", "msg.text")],
    [{"_id": "c1", "a": "> 10", "c": '"A"', "m": '"over ten"'}, {"_id": "c2", "a": "> 20", "c": '"B"', "m": '"over twenty"'}, {"_id": "c3", "a": "< 0", "c": '"C"', "m": '"neg"'}])
g("collect-table", chain(node("t", "decisionTableNode", "Codes", collect)), [{"score": 25}, {"score": 15}, {"score": 5}, {"score": -1}])

g("collect-table-passthrough-path", chain(node("t", "decisionTableNode", "Codes", dict(collect, passThrough=True, outputPath="codes"))), [{"score": 25, "other": 1}, {"score": 5}])
g("first-table-passthrough", chain(node("t", "decisionTableNode", "T", dict(credit, passThrough=True))), [{"applicant": {"age": 30, "income": 12000, "employment": "employed"}, "keep": "me"}, {"applicant": {"age": 19}, "keep": 1}])
g("table-inputfield-outputpath", chain(node("t", "decisionTableNode", "T", dict(credit, inputField="customer", outputPath="result.credit"))),
  [{"customer": {"applicant": {"age": 30, "income": 12000, "employment": "employed"}}}, {"customer": {"applicant": {"age": 18}}}])
g("table-loop", chain(node("t", "decisionTableNode", "T", dict(credit, inputField="people", executionMode="loop", outputPath="results"))),
  [{"people": [{"applicant": {"age": 30, "income": 12000, "employment": "employed"}}, {"applicant": {"age": 18}}]}, {"people": []}, {"people": 5}])
g("table-loop-passthrough", chain(node("t", "decisionTableNode", "T", dict(credit, inputField="people", executionMode="loop", passThrough=True, outputPath="people"))),
  [{"people": [{"applicant": {"age": 30, "income": 12000, "employment": "employed"}, "id": 1}, {"applicant": {"age": 18}, "id": 2}], "x": 1}])

fhc = table("first", [("a", "score")], [("c", "codes[]"), ("m", "message"), ("n", "nested.list[]")],
    [{"_id": "1", "a": "> 10", "c": '"A"', "m": '"first"', "n": "1"}, {"_id": "2", "a": "> 20", "c": '"B"', "m": '"second"', "n": "2"}, {"_id": "3", "a": "< 0", "c": '"C"', "m": '"neg"', "n": "3"}])
g("first-hit-collect-columns", chain(node("t", "decisionTableNode", "T", fhc)), [{"score": 25}, {"score": 15}, {"score": 5}])

noField = table("first", [("c1", None), ("c2", "")], [("o", "out")],
    [{"_id": "1", "c1": "x > 5 and y == 'a'", "c2": "", "o": "x * 2"}, {"_id": "2", "c1": "x", "c2": "", "o": "'truthy'"}, {"_id": "3", "c1": "", "c2": "", "o": "'any'"}])
g("table-standard-cells", chain(node("t", "decisionTableNode", "T", noField)), [{"x": 6, "y": "a"}, {"x": 1}, {"x": True}])

errRow = table("first", [("a", "v")], [("o", "out")], [{"_id": "1", "a": "> 0", "o": "v + 'x'"}, {"_id": "2", "a": "", "o": "'fallback'"}])
g("table-output-error-skips-row", chain(node("t", "decisionTableNode", "T", errRow)), [{"v": 1}, {"v": -1}])

dollarOut = table("first", [("a", "v"), ("b", "w")], [("o", "out")], [{"_id": "1", "a": "> 0", "b": "> 0", "o": "$ * 10"}])
g("table-output-sees-last-reference", chain(node("t", "decisionTableNode", "T", dollarOut)), [{"v": 1, "w": 7}])

ex = expr([("total", "price * qty"), ("tax", "$.total * 0.1"), ("summary.net", "$.total + $.tax"), ("summary.label", "`${qty} items`"), ("flag", "total > 100"), ("empty", ""), ("", "1")])
g("expression-node", chain(node("x", "expressionNode", "Calc", ex)), [{"price": 19.99, "qty": 3}, {"price": 50, "qty": 3, "total": 1000}])
g("expression-passthrough", chain(node("x", "expressionNode", "Calc", dict(ex, passThrough=True))), [{"price": 10, "qty": 2, "keep": True}])
g("expression-loop", chain(node("x", "expressionNode", "Calc", dict(expr([("double", "n * 2"), ("n", "n + 1")]), inputField="list", executionMode="loop", outputPath="out"))),
  [{"list": [{"n": 1}, {"n": 5}]}])
g("expression-error", chain(node("x", "expressionNode", "Calc", expr([("bad", "a + 'x'")]))), [{"a": 1}])
g("expression-null-removes", chain(node("x", "expressionNode", "Calc", dict(expr([("a", "null"), ("b", "2")]), passThrough=True))), [{"a": 1, "c": 3}])

def switch(hit, stmts):
    return {"hitPolicy": hit, "statements": [{"id": i, "condition": c} for i, c in stmts]}
sw_nodes = [node("in", "inputNode", "Request"), node("sw", "switchNode", "Route", switch("first", [("s1", "amount > 1000"), ("s2", "amount > 100"), ("s3", "")])),
            node("big", "expressionNode", "Big", expr([("tier", "'big'")])), node("mid", "expressionNode", "Mid", expr([("tier", "'mid'"), ("mid", "true")])),
            node("small", "expressionNode", "Small", expr([("tier", "'small'")])), node("out", "outputNode", "Response")]
sw_edges = [edge("in", "sw"), edge("sw", "big", "s1"), edge("sw", "mid", "s2"), edge("sw", "small", "s3"), edge("big", "out"), edge("mid", "out"), edge("small", "out")]
g("switch-first", {"nodes": sw_nodes, "edges": sw_edges}, [{"amount": 5000}, {"amount": 500}, {"amount": 5}, {}])
sw2 = [dict(n) for n in sw_nodes]; sw2[1] = node("sw", "switchNode", "Route", switch("collect", [("s1", "amount > 1000"), ("s2", "amount > 100"), ("s3", "amount < 0")]))
g("switch-collect", {"nodes": sw2, "edges": sw_edges}, [{"amount": 5000}, {"amount": 500}, {"amount": 5}, {"amount": -5}])
sw3 = [dict(n) for n in sw_nodes]; sw3[1] = node("sw", "switchNode", "Route", switch("first", [("s1", "amount > 1000"), ("s2", "amount > 100")]))
g("switch-no-match", {"nodes": sw3, "edges": sw_edges[:3] + sw_edges[4:6]}, [{"amount": 5}, {"amount": 5000}])
g("switch-bad-condition", {"nodes": [node("in", "inputNode"), node("sw", "switchNode", "S", switch("first", [("s1", "amount > 'x'"), ("s2", "true")])),
     node("a", "expressionNode", "A", expr([("a", "1")])), node("b", "expressionNode", "B", expr([("b", "2")])), node("out", "outputNode")],
   "edges": [edge("in", "sw"), edge("sw", "a", "s1"), edge("sw", "b", "s2"), edge("a", "out"), edge("b", "out")]}, [{"amount": 1}])

par_nodes = [node("in", "inputNode", "Request"), node("t1", "expressionNode", "First", expr([("shared", "'from first'"), ("a", "1"), ("obj.x", "1")])),
             node("t2", "expressionNode", "Second", expr([("shared", "'from second'"), ("b", "2"), ("obj.y", "2")])), node("out", "outputNode", "Response")]
g("merge-two-parents", {"nodes": par_nodes, "edges": [edge("in", "t1"), edge("in", "t2"), edge("t1", "out"), edge("t2", "out")]}, [{"x": 1}])
g("merge-two-parents-reversed-edges", {"nodes": par_nodes, "edges": [edge("in", "t2"), edge("in", "t1"), edge("t2", "out"), edge("t1", "out")]}, [{"x": 1}])
g("merge-no-output-node", {"nodes": par_nodes[:3], "edges": [edge("in", "t1"), edge("in", "t2")]}, [{"x": 1}])
g("merge-diamond", {"nodes": par_nodes + [node("t3", "expressionNode", "Third", expr([("c", "a + b"), ("n", "$nodes.First.a")]))],
    "edges": [edge("in", "t1"), edge("in", "t2"), edge("t1", "t3"), edge("t2", "t3"), edge("t3", "out")]}, [{"x": 1}])

nodes_g = chain(node("x1", "expressionNode", "Step One", expr([("v", "input * 2")])), node("x2", "expressionNode", "Step Two", expr([("w", "$nodes['Step One'].v + $nodes.Request.input"), ("count", "len(keys($nodes))")])))
g("nodes-access", nodes_g, [{"input": 5}])

sub = chain(node("st", "decisionTableNode", "SubTable", table("first", [("a", "score")], [("g", "grade")], [{"_id": "1", "a": ">= 50", "g": '"pass"'}, {"_id": "2", "a": "", "g": '"fail"'}])))
g("decision-node", chain(node("d", "decisionNode", "Grade", {"key": "sub.json"})), [{"score": 70}, {"score": 10}], {"sub.json": sub})
g("decision-node-loop", chain(node("d", "decisionNode", "Grade", {"key": "sub.json", "inputField": "students", "executionMode": "loop", "outputPath": "grades"})),
  [{"students": [{"score": 70}, {"score": 10}]}], {"sub.json": sub})
g("decision-node-passthrough", chain(node("d", "decisionNode", "Grade", {"key": "sub.json", "passThrough": True})), [{"score": 70, "name": "x"}], {"sub.json": sub})

schema = json.dumps({"type": "object", "required": ["age"], "properties": {"age": {"type": "integer", "minimum": 18}, "name": {"type": "string", "minLength": 1}}})
g("input-schema", chain(node("x", "expressionNode", "E", expr([("ok", "true")])), edges=None) | {"nodes": [node("in", "inputNode", "Request", {"schema": schema}), node("x", "expressionNode", "E", expr([("ok", "true")])), node("out", "outputNode", "Response")]},
  [{"age": 30, "name": "a"}, {"age": 10}, {"name": "x"}, {"age": 30.5}, {"age": 30, "name": ""}])

g("empty-graph-path", {"nodes": [node("in", "inputNode"), node("out", "outputNode")], "edges": [edge("in", "out")]}, [{"a": 1, "b": {"c": None}}])
g("array-output", chain(node("t", "decisionTableNode", "Codes", collect)) , [{"score": 100}])
g("two-tables-chain", chain(node("t", "decisionTableNode", "T", credit), node("x", "expressionNode", "Post", expr([("monthly", "limit.amount / 12"), ("d", "decision")]))),
  [{"applicant": {"age": 30, "income": 12000, "employment": "employed"}}, {"applicant": {"age": 19}}])

# --- more structure probes
two_out = {"nodes": [node("in", "inputNode", "In"), node("a", "expressionNode", "A", expr([("a", "1")])), node("b", "expressionNode", "B", expr([("b", "2")])),
                     node("o1", "outputNode", "Out1"), node("o2", "outputNode", "Out2")],
           "edges": [edge("in", "a"), edge("in", "b"), edge("a", "o1"), edge("b", "o2")]}
g("two-output-nodes", two_out, [{"x": 1}])
orphan = {"nodes": [node("in", "inputNode", "In"), node("a", "expressionNode", "A", expr([("a", "x + 1")])), node("z", "expressionNode", "Orphan", expr([("z", "9")])), node("out", "outputNode", "Out")],
          "edges": [edge("in", "a"), edge("a", "out"), edge("z", "out")]}
g("orphan-node-feeds-output", orphan, [{"x": 1}])
g("handle-on-plain-edge", {"nodes": [node("in", "inputNode"), node("a", "expressionNode", "A", expr([("a", "1")])), node("out", "outputNode")],
   "edges": [edge("in", "a", "weird"), edge("a", "out")]}, [{}])
g("expression-loop-passthrough", chain(node("x", "expressionNode", "Calc", dict(expr([("d", "v * 2")]), inputField="items", executionMode="loop", passThrough=True))),
  [{"items": [{"v": 1, "k": "a"}, {"v": 2, "k": "b"}], "other": 5}])
g("table-inputfield-passthrough", chain(node("t", "decisionTableNode", "T", dict(collect, inputField="inner", passThrough=True))), [{"inner": {"score": 25}, "keep": 1}])
outschema = json.dumps({"type": "object", "required": ["grade"]})
g("output-schema", {"nodes": [node("in", "inputNode"), node("t", "decisionTableNode", "T", table("first", [("a", "score")], [("g", "grade")], [{"_id": "1", "a": "> 50", "g": "'A'"}])),
                               node("out", "outputNode", "Out", {"schema": outschema})], "edges": [edge("in", "t"), edge("t", "out")]}, [{"score": 70}, {"score": 10}])
nodes_child = chain(node("c", "expressionNode", "Child", expr([("fromParent", "$nodes.Request.$nodes.Parent.p"), ("keysLen", "len(keys($nodes))")])))
nodes_parent = chain(node("p", "expressionNode", "Parent", expr([("p", "41 + 1")])), node("d", "decisionNode", "Sub", {"key": "child.json"}))
g("nodes-in-subdecision", nodes_parent, [{"q": 1}], {"child.json": nodes_child})
g("array-input-context", chain(node("x", "expressionNode", "E", expr([("n", "len($root)")]))), [[1, 2, 3]])
sw_loop = {"nodes": [node("in", "inputNode"), node("sw", "switchNode", "S", switch("collect", [("s1", "a > 1"), ("s2", "a > 2")])),
            node("x", "expressionNode", "X", expr([("x", "1")])), node("y", "expressionNode", "Y", expr([("y", "2")])), node("join", "expressionNode", "Join", expr([("j", "x + (y ?? 0)")])), node("out", "outputNode")],
           "edges": [edge("in", "sw"), edge("sw", "x", "s1"), edge("sw", "y", "s2"), edge("x", "join"), edge("y", "join"), edge("join", "out")]}
g("switch-branches-join", sw_loop, [{"a": 3}, {"a": 2}, {"a": 0}])
g("table-nested-output-paths", chain(node("t", "decisionTableNode", "T", table("first", [("a", "x")], [("o1", "r.a.b"), ("o2", "r.a.c"), ("o3", "r.d")],
  [{"_id": "1", "a": "", "o1": "1", "o2": "'two'", "o3": "[1, 2]"}]))), [{"x": 0}])
g("table-empty-rules", chain(node("t", "decisionTableNode", "T", table("first", [("a", "x")], [("o", "y")], []))), [{"x": 1}])
g("collect-empty", chain(node("t", "decisionTableNode", "T", dict(table("collect", [("a", "x")], [("o", "y")], [{"_id": "1", "a": "> 5", "o": "1"}]), passThrough=True))), [{"x": 1}])

# --- nulls: the final merge drops null members; a schema accepts null for an optional property
g("null-members-dropped-at-end", chain(node("x", "expressionNode", "E", dict(expr([("y", "1"), ("z", "null")]), passThrough=True))),
  [{"a": None, "b": {"c": None}, "d": 1}])
nullschema = json.dumps({"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}, "s": {"type": "string", "minLength": 2}, "e": {"enum": ["a"]}}})
g("schema-null-optional", {"nodes": [node("in", "inputNode", "In", {"schema": nullschema}), node("out", "outputNode")], "edges": [edge("in", "out")]},
  [{"x": 1, "s": None, "e": None}, {"x": None}, {"x": 1, "s": "a"}])

# --- switch default statements (isDefault is ignored; an empty condition is true)
def sw_default(stmts, hit):
    return {"nodes": [node("in", "inputNode"), node("s", "switchNode", "S", {"hitPolicy": hit, "statements": stmts}),
                      node("a", "expressionNode", "A", expr([("a", "1")])), node("b", "expressionNode", "B", expr([("b", "2")])), node("out", "outputNode")],
            "edges": [edge("in", "s"), edge("s", "a", "x"), edge("s", "b", "y"), edge("a", "out"), edge("b", "out")]}
g("switch-default-first-listed", sw_default([{"id": "y", "condition": "", "isDefault": True}, {"id": "x", "condition": "true", "isDefault": False}], "first"), [{}])
g("switch-default-collect", sw_default([{"id": "x", "condition": "v > 1", "isDefault": False}, {"id": "y", "condition": "", "isDefault": True}], "collect"), [{"v": 2}, {"v": 0}])
