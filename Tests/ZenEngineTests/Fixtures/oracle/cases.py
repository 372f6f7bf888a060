# Expression cases for the ZEN oracle (zen-engine 2.1.3). (kind, expression, context)
C = {"a": 5, "b": 2.5, "s": "Hello World", "arr": [1, 2, 3, 4], "strs": ["a", "b", "c"], "nul": None,
     "o": {"x": 1, "y": {"z": "deep"}}, "t": True, "f": False, "items": [{"p": 10, "q": 2}, {"p": 5, "q": 1}, {"p": 7, "q": 0}],
     "income": 12000, "debt": 3500.50, "age": 35, "emp": "employed", "dates": ["2024-01-15", "2023-06-30"], "empty": [], "zero": 0}
E = []
def e(x, ctx=C): E.append(("expr", x, ctx))
def u(x, v, ctx=None):
    c = dict(ctx or {}); c["$"] = v; E.append(("unary", x, c))

for x in ["1 + 2", "0.1 + 0.2", "0.1 + 0.2 == 0.3", "10 - 3.5", "2 * 3.5", "10 / 4", "1 / 3", "10 / 0", "7 % 3", "-7 % 3", "7.5 % 2", "10 % 0",
          "2 ^ 10", "2 ^ 0.5", "2 ^ -1", "2 ^ 3 ^ 2", "-2 ^ 2", "(1 + 2) * 3", "1 + 2 * 3", "-a", "+a", "--a", "a * b", "income * 0.3", "debt / income",
          "1 == 1", "1 == 1.0", "1 != 2", "'a' == 'a'", "'a' == \"a\"", "1 == '1'", "null == null", "nul == null", "true == true", "[1] == [1]", "o == o",
          "1 < 2", "2 <= 2", "3 > 2", "3 >= 4", "'a' < 'b'", "nul > 1", "a > 3 and a < 10", "a > 3 or x", "true and false", "false or true", "not true", "!false",
          "not (a > 3)", "true and 1", "false and 1", "1 and true", "t ? 'yes' : 'no'", "f ? 'yes' : 'no'", "a > 3 ? 'big' : 'small'", "1 ? 2 : 3",
          "a > 10 ? 'x' : a > 3 ? 'y' : 'z'", "nul ?? 'default'", "a ?? 'default'", "missing ?? 7", "missing.deep ?? 7", "f ?? 1",
          "a in [1, 5, 9]", "a not in [1, 5, 9]", "'b' in strs", "'z' in strs", "'x' in o", "'q' in o", "a in [1..5]", "a in [1..5)", "a in (1..5]", "a in (5..10)", "a in ]1..5[", "a in ]5..10[", "a in [5..1]",
          "a not in [1..4]", "2.5 in [2..3]", "b in (2.5..3]", "true in [true]", "null in [1, null]", "'a' in 'abc'", "[1] in [[1]]",
          "s", "o.x", "o.y.z", "o['y']['z']", "o.missing", "o.missing.deeper", "arr[0]", "arr[3]", "arr[10]", "arr[1+1]", "arr[-1]", "arr[1:2]", "arr[:1]", "arr[2:]", "arr[1:1]",
          "s[0]", "s[0:4]", "items[0].p", "items[1]['q']", "$root.a", "$", "$root", "missing", "o.y",
          "'single' + \"double\"", "`template ${a} and ${s}`", "`no interpolation`", "`${a + 1}`", "`${nul}`", "`${t}`", "`${o}`",
          "[1, 'two', true, null]", "[]", "{}", "{a: 1, b: 'x'}", "{b: 1, a: 2}", "{'quoted key': 1}", "{[s]: 1}", "{x: a * 2}.x", "{a: 1, a: 2}",
          "len(s)", "len(arr)", "len('héllo')", "len(o)", "len(5)", "upper(s)", "lower(s)", "trim('  pad  ')", "startsWith(s, 'Hello')", "endsWith(s, 'World')", "startsWith(s, 'World')",
          "contains(s, 'lo W')", "contains(s, '')", "contains(arr, 3)", "contains(arr, '3')", "contains(strs, 'b')", "contains(5, 5)",
          "matches(s, '^H.*d$')", "matches('abc123', '[0-9]+')", "matches('abc', '^[0-9]+$')", "extract('2024-01-15', '(\\\\d+)-(\\\\d+)-(\\\\d+)')", "extract('abc', 'x')",
          "split('a,b,c', ',')", "split('abc', '')", "split('a,,b', ',')", "fuzzyMatch('hello', 'hallo')", "fuzzyMatch(['hello', 'help'], 'hello')", "fuzzyMatch('', '')",
          "abs(-5)", "abs(2.5)", "round(2.5)", "round(3.5)", "round(-2.5)", "round(2.345, 2)", "round(2.355, 2)", "round(1234.5678, 1)", "floor(2.7)", "floor(-2.1)", "ceil(2.1)", "ceil(-2.7)",
          "trunc(2.789)", "trunc(-2.789)", "trunc(2.789, 1)", "min(arr)", "max(arr)", "min([3.5, -1, 2])", "max([])", "sum(arr)", "sum([])", "avg(arr)", "avg([1, 2])", "avg([])", "median([3, 1, 2])", "median([4, 1, 3, 2])",
          "mode([1, 2, 2, 3, 3])", "mode([5, 1, 1])", "number('42')", "number('3.14')", "number(' 7 ')", "number('abc')", "number(true)", "number(null)", "string(42)", "string(3.50)", "string(true)", "string(null)", "string(arr)",
          "bool(1)", "bool(0)", "bool('true')", "bool('false')", "bool('')", "bool('x')", "bool(null)", "bool(arr)", "bool(o)",
          "isNumeric('12.5')", "isNumeric('abc')", "isNumeric(5)", "isNumeric(null)", "type(1)", "type('s')", "type(true)", "type(null)", "type(arr)", "type(o)",
          "keys(o)", "keys(arr)", "values(o)", "keys({b: 1, a: 2})", "flatten([[1, 2], [3], 4])", "merge([{a: 1}, {b: 2}])", "merge([[1], [2, 3]])", "mergeDeep([{a: {x: 1}}, {a: {y: 2}}])",
          "map(arr, # * 2)", "map(items, #.p)", "filter(arr, # > 2)", "filter(items, #.q > 0)", "some(arr, # > 3)", "some(arr, # > 10)", "all(arr, # > 0)", "all(arr, # > 1)", "all([], # > 1)",
          "none(arr, # > 10)", "none(arr, # > 3)", "count(arr, # > 1)", "one(arr, # == 2)", "one(arr, # > 1)", "map([1..3], # * 10)", "map((1..4), #)", "count(items, #.p > 6)",
          "sum(map(items, #.p * #.q))", "map(arr, # > 2 ? 'hi' : 'lo')", "filter(strs, # != 'b')", "flatMap([[1], [2, 3]], #)", "map(items as item, item.p)", "some(arr, 'x')",
          "map(arr, map([1, 2], #))", "d('2024-01-15')", "d('2024-01-15').add(1, 'd')", "d('2024-01-31').add(1, 'M')", "d('2024-01-15').sub(2, 'y')", "d('2024-01-15 10:30:00').format('%Y/%m/%d %H:%M')",
          "d('2024-01-15').year()", "d('2024-01-15').month()", "d('2024-01-15').day()", "d('2024-01-15').weekday()", "d('2024-01-15').dayOfYear()", "d('2024-03-15').quarter()", "d('2024-01-15').week()",
          "d('2024-01-15').isBefore(d('2024-02-01'))", "d('2024-01-15').isAfter('2024-02-01')", "d('2024-01-15').isSame(d('2024-01-20'), 'month')", "d('2024-01-15') < d('2024-02-01')",
          "d('2024-01-15') == d('2024-01-15')", "d('2024-06-15').diff(d('2024-01-15'), 'month')", "d('2024-06-15').diff(d('2024-01-15'), 'day')", "d('2024-06-15').diff('2024-06-14')",
          "d('2024-01-15T10:20:30Z')", "d('2024-01-15').startOf('month')", "d('2024-01-15').endOf('month')", "d('2024-01-15').timestamp()", "d('2024-02-29').isLeapYear()", "d('garbage').isValid()",
          "d('2024-01-15').set('day', 3)", "d(0)", "d('2024-01-15').add('1d 2h')", "type(d('2024-01-15'))", "string(d('2024-01-15'))", "d('2024-01-15') in [d('2024-01-01')..d('2024-12-31')]",
          "date('2024-01-15')", "date('2024-01-15 10:00:00')", "year('2024-03-05')", "monthOfYear('2024-03-05')", "dayOfMonth('2024-03-05')", "dayOfWeek('2024-03-05')", "dateString('2024-03-05')",
          "weekdayString('2024-03-05')", "monthString('2024-03-05')", "startOf('2024-03-05 10:00:00', 'day')", "endOf('2024-03-05', 'month')", "duration('1h 30m')", "time('10:30')", "time('10:30:15')",
          "x = 5; x * 2", "a = 1; b = a + 1", "a = 1; b = a + 1; b * 10", "o.x + o.x", "max([a, b, income])", "round(debt / income * 100, 2)", "unknownFn(1)", "1 +", "(1", "'unterminated",
          "a..b", "[1, 2", "{a: }", "1 2", "a.in", "o.x.y.z", "arr[o]", "s[100]", "s[1:3]", "arr[3:1]", "round(1.5, -1)", "round(1.23456, 30)", "2 ^ 100", "99999999999 * 99999999999",
          "0.1 * 3", "1e3", "1.5e-2 * 100", "1_000 + 1", "100 * 1.1", "19.99 * 3", "200000 / 3", "round(200000 / 3, 2)", "1 - 0.9", "3 * (1/3)"]:
    e(x)

for (x, v) in [("> 5", 6), ("> 5", 5), ("< 5", 4), (">= 5", 5), ("<= 5", 6), ("5", 5), ("5", "5"), ("'a'", "a"), ("'a', 'b'", "b"), ("'a', 'b'", "c"), ("\"employed\",\"self\"", "self"),
               ("[18..60]", 18), ("[18..60]", 61), ("(18..60)", 18), ("]18..60[", 18), ("]18..60[", 30), ("[18..60)", 60), ("(18..60]", 60), ("[1, 2, 3]", 2), ("[1, 2, 3]", 4),
               ("not in [1, 2]", 3), ("not in [1..5]", 3), ("!= 5", 5), ("!= 5", 6), ("$ > 5 and $ < 10", 7), ("$ > 5 and $ < 10", 12), ("> 5 and < 10", 7), ("> 5, < 0", -1), ("> 5 or < 0", 3),
               ("$", 5), ("$ == 5", 5), ("$ + 1 == 6", 5), ("contains($, 'ell')", "hello"), ("startsWith($, 'he')", "hello"), ("len($) > 3", "hello"), ("len($) > 3", "hi"), ("true", True),
               ("false", True), ("null", None), ("null", 0), ("> 5", None), ("> 5", "x"), ("[18..60]", None), ("'a'", None), ("some($, # > 2)", [1, 3]), ("$ in [1, 2]", 2),
               ("> limit", 5), ("== other.x", 3), ("$ * 2 > 10", 6), ("($ > 1)", 2), ("($ > 1 and $ < 5)", 2), ("$.a > 1", {"a": 2}), ("matches($, '^[0-9]+$')", "123"), ("1 + 1", 2), ("abs($)", 5),
               ("< 5.5", 5.4), ("== 0.3", 0.3), ("> 0.1 + 0.1", 0.3), ("'a'", "b"), ("not('a')", "a"), ("lower($) == 'x'", "X"), ("$ > 5 ? true : false", 6), ("$ ?? 1", None), ("[]", 1),
               ("d($) > d('2024-01-01')", "2024-06-01"), ("in ['a', 'b']", "a"), ("2, 3", 3), ("> -1", 0), ("-1", -1)]:
    u(x, v, {"limit": 4, "other": {"x": 3}})
for x in ["2/3", "200000/3", "1/7", "100/3", "1e20/3", "10/3", "0.1/3", "9/1.1", "1/3*3", "2/3*3", "-7/2", "123456789/1000", "1/8", "-1/3", "1/-3",
          "round(-2.345, 2)", "round(2.5)", "round(-2.5)", "round(1.005, 2)", "round(0.5)", "round(0.4999)", "floor(-0.5)", "ceil(-0.5)", "trunc(-0.5)", "round(123.456, 5)",
          "floor(1e25 + 0.5)", "round(99999999999999999999.5)", "ceil(0.0000000000000000000001)", "floor(-0.0000000000000000000001)", "round(2.345, 0)", "trunc(1234.5678, 2)",
          "string(2/3)", "string(1/7)", "string(100/3)", "string(1e20/3)", "string(round(2.345,2))", "string(floor(2.50))", "string(trunc(2.789,1))", "string(1/8)", "string(123456789/1000)",
          "12345678901234567890 / 3", "0.000001 / 7", "5 / 0.001", "round(x / y, 2)"]:
    e(x, dict(C, x=1234.5, y=7))
for x in ["string(0.5 - 0.5)", "string(1.5 * 0)", "string(0 + 0.00)", "string(0.00 + 5)", "string(5.0 + 0)", "string(1e2)", "string(1e2 * 6.5 * 0.1)", "string(2.5e1)",
          "0 ^ -1", "0 ^ 0.5", "0 ^ 0", "(-2) ^ -1", "(-2) ^ 2", "(-2) ^ 3", "2 ^ -1000", "10 ^ 28", "10 ^ 30", "string(1.50 * 2)", "string(round(0.001, 2))"]:
    e(x)
for x in ["'审批' + '通过'", "len('审批')", "upper('ab审')", "contains('申请人', '请')", "startsWith('申请人', '申')", "split('甲,乙', ',')", "`结果: ${1 + 1}`",
          "name == '张三'", "len(name)", "name[0:2]", "matches(name, '^张')"]:
    e(x, dict(C, name="张三"))
for x in ['string(4/2)','string(1/0.4)','string(3/0.4)','string(1.5/2)','string(1.50/2)','string(0.5/2)','string(7/0.5)','string(1.25/5)','string(100/4)','string(1000/8)','string(1/125)',
          'string(5/4)','string(15/10)','string(150/100)','string(1/10)','string(21/10)','string(3/0.04)','string(0.3/0.04)','string(3.0/0.04)','string(10/4)','string(2.0/4)','string(-7/2)',
          'string(1/4)','string(1/2)','string(0/5.0)','string(12000 * 0.3 / 12)','string(round(10/3, 2))']:
    e(x)
