"""The sandbox that runs diagram conditions and scripts: what works, and every way out refused."""

import time
from datetime import date
from decimal import Decimal

import pytest

from workflows.engine.sandbox import (
    SandboxRuntimeError,
    SandboxTimeout,
    SandboxViolation,
    check_expression,
    check_script,
    evaluate,
    execute,
)

# --- What diagrams may do ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ("persons * amount + 10", {"persons": 3, "amount": 1000}, 3010),
        ("total / 4", {"total": 10}, 2.5),
        ("total // 4, total % 4", {"total": 10}, (2, 2)),
        ("2 ** 10", {}, 1024),
        ("-x + abs(-3)", {"x": 1}, 2),
        ("age >= 16 and age < 60", {"age": 30}, True),
        ("approved == True", {"approved": False}, False),
        ("1 < x <= 3", {"x": 3}, True),
        ("'县' in name", {"name": "县残联"}, True),
        ("kind not in ['a', 'b']", {"kind": "c"}, True),
        ("value is None", {"value": None}, True),
        ("'yes' if approved else 'no'", {"approved": True}, "yes"),
        ("f'{persons}人，共{total}元'", {"persons": 2, "total": 2000}, "2人，共2000元"),
        ("f'{amount:.2f}'", {"amount": 3.14159}, "3.14"),
        ("f'{day:%Y-%m-%d}'", {"day": date(2025, 3, 1)}, "2025-03-01"),
        ("'%d人' % persons", {"persons": 5}, "5人"),
        ("[p * 2 for p in items if p > 1]", {"items": [1, 2, 3]}, [4, 6]),
        ("{k: v for k, v in pairs}", {"pairs": [("a", 1)]}, {"a": 1}),
        ("{x % 2 for x in range(5)}", {}, {0, 1}),
        ("sum(x for x in range(5))", {}, 10),
        ("applicant.get('name', '无名')", {"applicant": {}}, "无名"),
        ("sorted(scores.keys())", {"scores": {"b": 1, "a": 2}}, ["a", "b"]),
        ("list(scores.values())", {"scores": {"a": 2}}, [2]),
        ("names.index('b') + names.count('a')", {"names": ["a", "b"]}, 2),
        ("', '.join(names).upper()", {"names": ["a", "b"]}, "A, B"),
        ("code.zfill(6)", {"code": "102"}, "000102"),
        ("text.replace('-', '').strip()", {"text": " 3301-02 "}, "330102"),
        ("items[1:] + items[:1]", {"items": [1, 2, 3]}, [2, 3, 1]),
        ("len(items), sum(items), min(items), max(items)", {"items": [3, 1, 2]}, (3, 6, 1, 3)),
        ("round(2.675, 1), round(Decimal('1.25'), 1)", {}, (2.7, Decimal("1.2"))),
        ("sorted(items, reverse=True)", {"items": [1, 3, 2]}, [3, 2, 1]),
        ("any(items) and not all(items)", {"items": [0, 1]}, True),
        ("list(zip(a, b)), list(enumerate(a))", {"a": [1], "b": [2]}, ([(1, 2)], [(0, 1)])),
        ("int('42') + float('0.5') + ceil(1.2) + floor(1.8)", {}, 45.5),
        ("str(12) + str(True)", {}, "12True"),
        ("isinstance(x, int) and isinstance(y, str)", {"x": 1, "y": "s"}, True),
        ("(due - start).days", {"due": date(2025, 3, 31), "start": date(2025, 3, 1)}, 30),
        ("start + timedelta(days=15)", {"start": date(2025, 3, 1)}, date(2025, 3, 16)),
        ("datetime(2025, 3, 1).strftime('%Y年%m月')", {}, "2025年03月"),
        ("datetime.strptime('2025-03-01', '%Y-%m-%d').year", {}, 2025),
        ("date.today() <= date(2999, 1, 1)", {}, True),
    ],
)
def test_expressions_compute_with_plain_data_and_safe_builtins(expression, variables, expected):
    assert evaluate(expression, variables) == expected


def test_evaluate_does_not_change_the_variables_it_is_given():
    variables = {"items": [1, 2]}
    evaluate("items.append(3)", variables)
    assert evaluate("items", variables) == [1, 2, 3]  # the list itself is shared data ...
    evaluate("[x for x in items]", variables)
    assert set(variables) == {"items"}  # ... but no names are added


def test_a_script_returns_the_variables_it_assigned_and_those_it_was_given():
    script = (
        "total = persons * amount_per_person\n"
        "summary = f'{persons}人，共{total}元'\n"
        "names = sorted(n.strip() for n in raw.split(','))\n"
        "counts = {}\n"
        "for name in names:\n"
        "    counts[name] = counts.get(name, 0) + 1\n"
        "if total > 40000:\n"
        "    level = 'county'\n"
        "else:\n"
        "    level = 'township'\n"
        "total += 1\n"
        "names.extend(['d'])\n"
    )
    result = execute(script, {"persons": 48, "amount_per_person": 1000, "raw": "b, a, b"})
    assert result == {
        "persons": 48,
        "amount_per_person": 1000,
        "raw": "b, a, b",
        "total": 48001,
        "summary": "48人，共48000元",
        "names": ["a", "b", "b", "d"],
        "name": "b",  # a loop variable is a variable like any other
        "counts": {"a": 1, "b": 2},
        "level": "county",
    }


def test_a_script_does_not_leak_helpers_builtins_or_the_loop_machinery():
    result = execute("x = 2 ** 3 * 2\ny = 'a' + 'b'\nz = '%s' % x\nw = ','.join(['a'])", {})
    assert result == {"x": 16, "y": "ab", "z": "16", "w": "a"}
    assert not any(name.startswith("_") for name in result)


def test_a_script_leaves_the_callers_dict_alone():
    variables = {"a": 1}
    assert execute("b = a + 1", variables) == {"a": 1, "b": 2}
    assert variables == {"a": 1}


def test_a_script_indented_inside_the_xml_runs_and_keeps_its_line_numbers():
    assert execute("\n    x = 1\n    y = x + 1\n", {}) == {"x": 1, "y": 2}
    with pytest.raises(SandboxViolation) as refused:
        check_script("\n    x = 1\n    import os\n")
    assert (refused.value.message, refused.value.line) == ("imports are not allowed", 3)


def test_in_place_operators_keep_their_meaning():
    result = execute("a = [1]\nb = a\na += [2]\nd = {'k': 'ab'}\nd['k'] *= 2\nn = 3\nn **= 2", {})
    assert result["b"] == [1, 2]  # += on a list still changes it in place
    assert result["d"] == {"k": "abab"}
    assert result["n"] == 9


# --- What the check refuses, before anything runs ---------------------------------------------

ESCAPES = [
    ("import os", "imports are not allowed", 1),
    ("from os import path", "imports are not allowed", 1),
    ("__import__('os')", "the name '__import__' is not allowed", 1),
    ("open('/etc/passwd')", "the name 'open' is not allowed", 1),
    # ast.walk meets the outermost attribute of the chain first
    (
        "().__class__.__bases__[0].__subclasses__()",
        "the attribute '__subclasses__' is not allowed",
        1,
    ),
    ("x.__class__", "the attribute '__class__' is not allowed", 1),
    ("getattr(x, '__class__')", "the name 'getattr' is not allowed", 1),
    ("eval('1')", "the name 'eval' is not allowed", 1),
    ("exec('x=1')", "the name 'exec' is not allowed", 1),
    ("compile('1', 'f', 'eval')", "the name 'compile' is not allowed", 1),
    ("globals()", "the name 'globals' is not allowed", 1),
    ("type(x)", "the name 'type' is not allowed", 1),
    ("lambda: 1", "lambda is not allowed", 1),
    ("_secret", "the name '_secret' is not allowed", 1),
    ("__builtins__", "the name '__builtins__' is not allowed", 1),
    ("b'abc'", "bytes literals are not allowed", 1),
    # str.format reads attributes named inside the text: '{0.__globals__}' would reach modules
    (
        "'{0.__globals__}'.format(range)",
        "the attribute 'format' is not allowed (use an f-string such as f\"{name}\" instead)",
        1,
    ),
    (
        "'{r}'.format_map(d)",
        "the attribute 'format_map' is not allowed (use an f-string such as f\"{name}\" instead)",
        1,
    ),
    ("int.mro()", "the attribute 'mro' is not allowed", 1),
    # a generator's frame leads to the caller's globals, and from there to sys.modules
    ("(g for g in x).gi_frame", "the attribute 'gi_frame' is not allowed", 1),
    ("frame.f_back", "the attribute 'f_back' is not allowed", 1),
    ("frame.f_globals", "the attribute 'f_globals' is not allowed", 1),
    ("code.co_consts", "the attribute 'co_consts' is not allowed", 1),
    # methods that build large values must be called where their size is checked
    (
        "sorted(x, key=str.zfill)",
        "the method 'zfill' may only be called directly, as in value.zfill(...)",
        1,
    ),
    ("f'{x:>{width}}'", 'computed format specifications such as f"{x:{width}}" are not allowed', 1),
    ("f'{x:>1000000000}'", "format widths above 100,000 are not allowed", 1),
    ("x[0] if (y := 1) else 2", ":= is not allowed", 1),
    ("f(*args)", "* unpacking is not allowed", 1),
]


@pytest.mark.parametrize(("source", "message", "line"), ESCAPES)
def test_check_expression_refuses_every_escape(source, message, line):
    with pytest.raises(SandboxViolation) as refused:
        check_expression(source)
    assert (refused.value.message, refused.value.line) == (message, line)


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [e for e in ESCAPES if not e[0].startswith(("import ", "from "))],  # statements: see below
)
def test_check_script_refuses_every_escape_on_its_own_line(source, message, line):
    with pytest.raises(SandboxViolation) as refused:
        check_script(f"a = 1\nb = 2\nresult = {source}")
    assert (refused.value.message, refused.value.line) == (message, line + 2)


@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        ("import os", "imports are not allowed", 1),
        ("x = 1\nfrom os import path", "imports are not allowed", 2),
        ("def f(): pass", "defining functions is not allowed", 1),
        ("async def f(): pass", "defining functions is not allowed", 1),
        ("class A: pass", "defining classes is not allowed", 1),
        ("while True: pass", "while loops are not allowed (use for over a list)", 1),
        (
            "x = 1\n\nwhile True:\n    x += 1",
            "while loops are not allowed (use for over a list)",
            3,
        ),
        ("try:\n    x = 1\nexcept Exception:\n    pass", "try is not allowed", 1),
        ("with x:\n    pass", "with is not allowed", 1),
        ("raise ValueError()", "raise is not allowed", 1),
        ("del x", "del is not allowed", 1),
        ("global x", "global is not allowed", 1),
        ("x = 1\n_hidden = 2", "the name '_hidden' is not allowed", 2),
        ("x = 1\ny = b'raw'", "bytes literals are not allowed", 2),
        (
            "m = 'x'.ljust",
            "the method 'ljust' may only be called directly, as in value.ljust(...)",
            1,
        ),
        (
            "box = []\ngen = (b[0].gi_frame.f_back.f_globals for b in [box])",
            "the attribute 'f_globals' is not allowed",
            2,
        ),
    ],
)
def test_check_script_refuses_statements_that_leave_the_sandbox(script, message, line):
    with pytest.raises(SandboxViolation) as refused:
        check_script(script)
    assert (refused.value.message, refused.value.line) == (message, line)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("approved = True", "'=' sets a variable; to compare two values use '=='"),
        ("for x in y: pass", "this must be an expression that gives a value, not a statement"),
        ("import os", "imports are not allowed"),
        ("while True: pass", "while loops are not allowed (use for over a list)"),
    ],
)
def test_a_statement_where_an_expression_belongs_is_explained(expression, message):
    with pytest.raises(SandboxViolation) as refused:
        check_expression(expression)
    assert (refused.value.message, refused.value.line) == (message, 1)


def test_a_syntax_error_reports_its_line():
    with pytest.raises(SandboxViolation) as refused:
        check_script("total = 1\nsummary = (total +\n")
    assert (refused.value.message, refused.value.line) == ("syntax error: '(' was never closed", 2)
    with pytest.raises(SandboxViolation) as refused:
        check_expression("approved ==")
    assert (refused.value.message, refused.value.line) == ("syntax error: invalid syntax", 1)


@pytest.mark.parametrize(
    ("check", "message"),
    [(check_expression, "the expression is empty"), (check_script, "the script is empty")],
)
def test_empty_code_is_refused(check, message):
    with pytest.raises(SandboxViolation) as refused:
        check("  \n ")
    assert (refused.value.message, refused.value.line) == (message, 1)


# --- What stops code while it runs ------------------------------------------------------------

TOO_LONG = "文本或列表的长度不能超过 100,000"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'x' * 10**9", TOO_LONG),
        ("10**9 * 'x'", TOO_LONG),
        ("[0] * 10**9", TOO_LONG),
        ("'x'.encode() * 10**9", TOO_LONG),
        ("'x' * 100_000 + 'y'", TOO_LONG),
        ("'x'.ljust(10**9)", TOO_LONG),
        ("'x'.zfill(10**9)", TOO_LONG),
        ("str.center('x', 10**9)", TOO_LONG),
        ("('x' * 1000).replace('x', 'x' * 1000)", TOO_LONG),
        ("''.join(['x' * 1000] * 101)", TOO_LONG),
        ("'abc'.translate({97: 'x' * 100_000})", TOO_LONG),
        ("'\\t'.expandtabs(10**9)", TOO_LONG),
        ("sum([[0] * 1000] * 101, [])", TOO_LONG),
        ("2 ** 100000", "指数不能大于 1,000"),
        ("(10**1000) ** 1000", "数字不能超过 20,000 位"),
        ("range(10**9)", "range() 不能超过 100,000 项"),
        ("'%1000000000d' % 1", "格式宽度不能大于 100,000"),
        ("'%*d' % (10**9, 1)", "百分号格式化中不能使用 '*' 宽度"),
    ],
)
def test_an_expression_that_would_build_a_huge_value_fails_at_once(source, message):
    started = time.monotonic()
    with pytest.raises(SandboxRuntimeError) as failed:
        evaluate(source, {})
    assert (failed.value.message, failed.value.line) == (message, 1)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        ("x = 'x'\nx *= 10**9", TOO_LONG, 2),
        ("x = [0] * 60_000\nx += x", TOO_LONG, 2),
        ("x = [0] * 60_000\nx.extend(x)", TOO_LONG, 2),
        ("n = 2\nn **= 100000", "指数不能大于 1,000", 2),
        (
            "n = 10**1000\nfor i in range(30):\n    n = n * n",
            "数字不能超过 20,000 位",
            3,
        ),
    ],
)
def test_in_place_operators_and_growing_values_are_size_checked_too(script, message, line):
    with pytest.raises(SandboxRuntimeError) as failed:
        execute(script, {})
    assert (failed.value.message, failed.value.line) == (message, line)


def test_a_long_loop_is_stopped_by_the_time_limit():
    script = "n = 0\nfor i in range(100_000):\n    for j in range(100_000):\n        n += 1\n"
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match=r"脚本运行超过了时间限制（0.2 秒），已停止"):
        execute(script, {}, time_limit=0.2)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("source", "variables", "message", "line"),
    [
        ("x = 1\ny = missing + 1", {}, "NameError: name 'missing' is not defined", 2),
        ("x = 1\n\ny = x / zero", {"zero": 0}, "ZeroDivisionError: division by zero", 3),
        ("y = d['absent']", {"d": {}}, "KeyError: 'absent'", 1),
    ],
)
def test_a_runtime_failure_reports_its_kind_and_line(source, variables, message, line):
    with pytest.raises(SandboxRuntimeError) as failed:
        execute(source, variables)
    assert (failed.value.message, failed.value.line) == (message, line)


def test_dates_work_although_diagram_code_can_import_nothing():
    # datetime's C code imports 'time' through the running code's builtins; the diagram cannot.
    assert evaluate("date.today() > start", {"start": date(2000, 1, 1)}) is True
    assert evaluate("datetime.now() > datetime(2000, 1, 1)", {}) is True
    with pytest.raises(SandboxViolation) as refused:
        check_expression("__builtins__['__import__']('os')")
    assert refused.value.message == "the name '__builtins__' is not allowed"
