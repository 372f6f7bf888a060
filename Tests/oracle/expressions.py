"""ZEN expressions and unary tests probed against zen-engine 2.1.3: one context, many expressions.

Each expression runs in an expression node (key "r") with CONTEXT as the graph's input; each unary test runs as the
only input cell of a decision table rule, against several column values. Nothing here depends on the clock.
"""

CONTEXT = {
    "n": 5,
    "x": 2.5,
    "neg": -3.7,
    "big": 123456789.123456789,
    "s": "Hello World",
    "padded": "  padded  ",
    "email": "zhang.wei@example.com",
    "num_text": "42.50",
    "arr": [1, 2, 3, 4, 5],
    "dup": [3, 1, 3, 2, 3, 1],
    "nested_arr": [[1, 2], [3, [4, 5]]],
    "words": ["pear", "apple", "fig"],
    "empty": [],
    "objs": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "x"}],
    "o": {"k": 1, "name": "yidai", "nested": {"v": "deep", "list": [10, 20]}},
    "t": True,
    "f": False,
    "z": None,
    "day": "2024-03-15",
    "stamp": "2024-03-15T10:30:45Z",
    "applicant": {"age": 35, "monthlyIncome": 25000, "tags": ["vip", "pilot"]},
}

EXPRESSIONS = [
    # literals
    "1", "-1", "1.5", "1_000_000", "1e3", "2.5e-3", "0.1 + 0.2", "0.1 + 0.2 == 0.3", "'single'", '"double"',
    "true", "false", "null", '[1, "a", true, null]', '{a: 1, "b c": 2, nested: {x: [1, 2]}}', "[]", "{}",
    "`n is ${n}`", "`${s} / ${o.name}`",
    # member and index access
    "o.k", "o.nested.v", 'o["nested"]["v"]', "o.nested.list[1]", "arr[0]", "arr[4]", "arr[-1]", "objs[1].b",
    "arr[1:3]", "arr[:2]", "arr[3:]", "s[0:5]", "o.missing", "missing", "missing.deeper", "applicant.tags[0]",
    # arithmetic
    "n + 2", "n - 7", "n * x", "n / 4", "10 / 3", "n % 3", "neg % 2", "2 ^ 10", "2 ^ 0.5", "-n", "-(n + 1)",
    "(1 + 2) * 3", "1 + 2 * 3", "big * 1000", "big / 7", "x * x * x", "1 / 0", '"a" + "b"', 's + " " + o.name',
    "string(1 / 3)", "string(10 / 3)", "string(2 / 3)", "string(big / 7)", "string(big * 1000)", "string(0.1 + 0.2)",
    "string(2 ^ 0.5)", "string(1e3)", "10 % 0", "arr[10]",
    # exact decimal text (zen-engine keeps the scale: 1.50 stays "1.50", 100 * 1.07 is "107.00")
    "string(1 / 7)", "string(100 / 3 * 3)", "string(2 ^ 64)", "string(2 ^ -2)", "string(10 ^ 20)", "string(1.5 ^ 2)",
    "string(4 ^ 0.5)", "string(27 ^ (1 / 3))", "string(0.1 * 3)", "string(1e28 / 3)", "string(7 % 2.5)",
    "string(-7 % 3)", "string(avg([1, 2, 2]))", "string(1.0)", "string(1.50)", "string(100 * 1.07)",
    "string(round(1.23456, 3))", "string(3 / 4 * 4)", "string(x * 2)", "string(25000 * 0.6 - 3000)",
    "0.3 - 0.1", "1.10 * 3", "100 * 1.07", "25000 * 0.5 - 3000",
    # comparison
    "n > 3", "n >= 5", "n < 5", "n <= 4", "n == 5", "n != 5", "x == 2.50", 's == "Hello World"', '"a" < "b"',
    "t == true", "z == null", "missing == null", "n == \"5\"", "[1, 2] == [1, 2]",
    # logic
    "t and f", "t or f", "not t", "!t", "not (n > 3)", "t and n > 3", "f or n < 3", "z ?? 3", "n ?? 3",
    "missing ?? 'default'", "z or t", "f and missing.x",
    # ternary
    'n > 3 ? "big" : "small"', 'n > 10 ? "huge" : n > 3 ? "big" : "small"', "t ? 1 : 1 / 0",
    # in / not in, arrays and ranges
    "3 in arr", "6 not in arr", "6 in arr", '"b" in ["a", "b"]', "n in [1..5]", "n in [1..5)", "n in (1..5]",
    "n in (1..5)", "n in ]1..5[", "n in ]1..5]", "x in [2..3]", "n not in [1..4]", "0 in [1..5]",
    '"pilot" in applicant.tags', "applicant.age in [22..55]",
    '"k" in o', '"q" in o', '"ell" in s', "$root.n", "$.n", "{[s]: 1}", "{x: n * 2}.x", "map(objs as item, item.a)",
    "v = n * 2; v + 1", "a = 1; b = a + 1; b * 10", 'd(day) in [d("2024-01-01")..d("2024-12-31")]', 'd(day).add("1d 2h")',
    "map([1..3], # * 10)", "2 ^ 3 ^ 2", "-2 ^ 2", "1 ? 2 : 3", "true and 1",
    # strings
    "len(s)", "upper(s)", "lower(s)", "trim(padded)", 'startsWith(s, "Hell")', 'startsWith(s, "hell")',
    'endsWith(s, "ld")', 'contains(s, "lo W")', 'contains(s, "xyz")', 'matches(email, "^[a-z.]+@[a-z]+\\\\.com$")',
    'matches(s, "^\\\\d+$")', 'matches(email, "^[a-z.]+@[a-z]+[.]com$")', 'matches("2024", "^[0-9]{4}$")', 'extract(day, "(\\\\d+)-(\\\\d+)-(\\\\d+)")', 'extract(day, "([0-9]+)-([0-9]+)")', 'split("a,b,c", ",")',
    'fuzzyMatch("hello", "hallo")', 'fuzzyMatch(["apple", "apply"], "apple")', "string(n)", "string(x)",
    "string(t)", 'number("42")', "number(num_text)", 'bool("true")', 'bool("false")', 'isNumeric("12.5")',
    'len("中文")', 'upper("straße")', 'string(z)', 'isNumeric("abc")', "isNumeric(n)", "type(arr)", "type(o)", "type(s)", "type(n)", "type(t)", "type(z)",
    # numbers
    "abs(neg)", "abs(n)", "sum(arr)", "sum(empty)", "avg(arr)", "min(arr)", "max(arr)", "min([x, neg])",
    "max([x, neg, n])", "median(arr)", "median([1, 2, 3, 4])", "mode(dup)", "floor(x)", "floor(neg)", "ceil(x)",
    "ceil(neg)", "round(x)", "round(3.5)", "round(-2.5)", "round(neg)", "round(big, 2)", "round(1.005, 2)",
    "round(2.675, 2)", "trunc(neg)", "trunc(x)", "floor(74070 / 1000) * 1000",
    # arrays and objects
    "len(arr)", "len(empty)", "contains(arr, 3)", "contains(arr, 9)", "flatten(nested_arr)", "keys(o)",
    "values({a: 1, b: 2})", "merge([[1, 2], [3]])", "merge([{a: 1}, {b: 2}])", "mergeDeep([{a: {x: 1}}, {a: {y: 2}}])",
    "keys(arr)",
    # closures
    "map(arr, # * 2)", "map(objs, #.b)", 'map(objs, {code: #.b, double: #.a * 2})', "filter(arr, # > 2)",
    'filter(objs, #.b == "x")', "some(arr, # > 4)", "some(empty, # > 4)", "all(arr, # > 0)", "all(empty, # > 0)",
    "none(arr, # > 5)", "one(arr, # == 3)", "one(dup, # == 3)", "count(arr, # > 2)", "count(objs, #.b == \"x\")",
    "flatMap(objs, [#.a, #.a * 10])", "sum(map(objs, #.a))", "map(filter(arr, # % 2 == 1), # ^ 2)",
    "avg(empty)", "min(empty)", 'contains(o, "k")',
    "map(words, upper(#))", "filter(words, len(#) > 3)", "map(arr, # in [2..4])",
    # dates (no clock)
    'date("2024-03-15")', 'date("2024-03-15T10:30:00Z")', 'time("10:30")', 'time("10:30:15")', 'duration("1h")',
    'duration("30m")', 'duration("2d")', "year(date(day))", "monthOfYear(date(day))", "dayOfMonth(date(day))",
    "dayOfWeek(date(day))", "dayOfYear(date(day))", "weekOfYear(date(day))", "monthString(date(day))",
    "weekdayString(date(day))", "dateString(date(stamp))", 'startOf(date(stamp), "day")', 'endOf(date(stamp), "day")',
    'startOf(date(stamp), "month")', "date(day) + duration(\"1d\")", "date(stamp) > date(day)",
    "d(day)", "d(stamp)", "d(day).year()", "d(day).month()", "d(day).day()", "d(day).weekday()", "d(day).dayOfYear()",
    "d(day).quarter()", "d(day).week()", "d(stamp).hour()", "d(stamp).minute()", "d(stamp).second()",
    "d(day).timestamp()", 'd(day).add(1, "d")', 'd(day).add(1, "month")', 'd("2024-01-31").add(1, "M")',
    'd(day).sub(2, "y")', 'd(day).set("day", 1)', 'd(day).startOf("month")', 'd(day).endOf("month")',
    'd(stamp).startOf("day")', 'd(day).format("%Y/%m/%d")', 'd(stamp).format("%H:%M")',
    'd(day).diff(d("2024-01-01"), "day")', 'd(day).diff(d("2023-03-15"), "year")', 'd(day).isBefore(d("2024-04-01"))',
    'd(day).isAfter(d("2024-04-01"))', 'd(day).isSame(d("2024-03-15"))', 'd(day).isSameOrBefore(d(day))',
    'd(day).isSameOrAfter(d("2024-03-16"))', "d(day).isLeapYear()", 'd("2023-02-01").isLeapYear()',
    'd(day).isValid()', 'd(day) < d("2024-03-16")', 'd(day) == d("2024-03-15")',
    # the clock, in forms whose answer does not depend on the moment (real-world graphs use date('now'))
    'date("now") > date("2020-01-01")', 'd().isAfter(d("2020-01-01"))', "d().year() >= 2024",
]

# Unary tests (decision table input cells) and the column values they are tried on. The table's input also holds
# UNARY_CONTEXT, which cells may read (`> limit`).
UNARY_CONTEXT = {"limit": 4, "other": {"x": 3}}
UNARY_TESTS = {
    "> 5": [4, 5, 6],
    ">= 5": [4, 5, 6],
    "< 5": [4, 5, 6],
    "<= 5": [4, 5, 6],
    "== 5": [5, 6],
    "!= 5": [5, 6],
    "5": [5, 6],
    '"gold"': ["gold", "silver"],
    '"gold", "silver"': ["gold", "silver", "bronze"],
    "[18..60]": [17, 18, 60, 61],
    "(18..60)": [18, 19, 59, 60],
    "]18..60[": [18, 19, 60],
    "[18..60)": [18, 60],
    "(18..60]": [18, 60],
    "[0.5..0.7]": [0.49, 0.5, 0.7, 0.71],
    "not in [1..3]": [0, 2, 4],
    "in [1, 2, 3]": [2, 4],
    "[1, 2, 3]": [2, 4],
    "not in [1, 2]": [1, 3],
    "$ > 10 and $ < 20": [10, 15, 20],
    "> 10 and $ < 20": [10, 15],
    "$ % 2 == 0": [3, 4],
    "true": [True, False],
    "false": [True, False],
    "null": [None, 0],
    "len($) > 3": ["abc", "abcd"],
    'startsWith($, "VIP")': ["VIP-1", "REG-1"],
    'contains($, "x")': ["box", "bag"],
    "some($, # > 3)": [[1, 2], [1, 5]],
    '$ == "gold" or $ == "silver"': ["gold", "iron"],
    "abs($) < 1": [-0.5, 2],
    "> limit": [3, 5],
    "> 5, < 0": [-1, 3, 6],
    "> 5 or < 0": [-1, 3],
    "> 5 and < 10": [7, 12],
    "$": [0, 5, True, False],
    "== other.x": [3, 4],
    "$.a > 1": [{"a": 2}, {"a": 0}],
    "2, 3": [3, 4],
    "-1": [-1, 1],
    "[]": [1],
    'd($) > d("2024-01-01")': ["2024-06-01", "2023-06-01"],
    "": [1, "any", None],
    " ": [1],
}

# Where Yidai's engine is known to differ from zen-engine 2.1.3 (marked xfail, strict: fixing one makes its test
# report XPASS until it is removed here).
KNOWN_DIFFERENCES = {
    "string(2 ^ 0.5)": "a non-integer power goes through Double; zen-engine computes 28 significant digits",
    "string(4 ^ 0.5)": "a non-integer power goes through Double; zen-engine gives 2.0000000000000000000000000003",
    "string(27 ^ (1 / 3))": "a non-integer power goes through Double; zen-engine gives exactly 3",
    "string(100 / 3 * 3)": "zen-engine rounds a product that overflows its 96-bit mantissa to 28 digits (100.000...)",
    "string(7 % 2.5)": "zen-engine keeps the remainder's scale (2.0); Yidai prints 2",
}
