"""Limits that hold: one C-level step of diagram code cannot outrun the time limit or the memory.

Each attack of issue 18 (item 8) is here with what it meets now: a refusal before the
operation runs, in Chinese, within a fraction of the time limit; the process stays usable.
"""

import json
import time
from decimal import Decimal

import pytest

from workflows.engine.sandbox import LIMITS, SandboxLimit, evaluate, execute
from workflows.engine.sizes import json_bytes, logical_items

ITEMS = "数据不能超过 1,000,000 项（重复出现的部分每出现一次都计入）"
DIGITS = "数字不能超过 20,000 位"
# A list holding one 10,000-item list 3,000 times: 30 million items to str(), compare or save,
# built by a comprehension (no * or + for the size checks to see).
SHARED_ROWS = "x = [r for r in [[0] * 10000] for i in range(3000)]\n"


def _refused(run, source, variables=None):
    started = time.monotonic()
    with pytest.raises(SandboxLimit) as refused:
        run(source, variables or {})
    elapsed = time.monotonic() - started
    assert elapsed < 1, f"took {elapsed:.2f} s"  # within the time limit (1 s)
    return refused.value


def test_a_list_that_repeats_a_long_list_is_refused_where_it_is_built():
    # The attack that wrote a 60 MB case record: 3,000 references to one 10,000-item list.
    refused = _refused(execute, "x = [[0] * 10000] * 3000")
    assert (refused.message, refused.line) == (ITEMS, 1)
    refused = _refused(execute, "row = [[0] * 10000]\nx = row * 3000")
    assert (refused.message, refused.line) == (ITEMS, 2)


def test_doubling_a_list_step_by_step_is_refused_when_it_passes_the_limit():
    script = "x = [[0] * 10000]\nfor i in range(20):\n    x = x + x\n"
    refused = _refused(execute, script)
    assert (refused.message, refused.line) == (ITEMS, 3)


@pytest.mark.parametrize(
    ("use", "line"),
    [
        ("y = str(x)", 2),  # took 5 s against a 1 s limit
        ("s = str\ny = s(x)", 3),  # a built-in under another name is checked too
        ("y = f'{x}'", 2),
        ("y = '%s' % (x,)", 2),
        ("y = x == [r for r in [[0] * 10000] for i in range(3000)]", 2),
        ("y = [0] in x", 2),
        ("y = x.count([1])", 2),
        ("y = sorted(x)", 2),
        ("y = max(x)", 2),
        ("x.sort()", 2),
        ("t = tuple(r for r in x)", 2),
    ],
)
def test_walking_a_value_that_holds_a_long_list_many_times_is_refused_before_it_starts(use, line):
    refused = _refused(execute, SHARED_ROWS + use)
    assert (refused.message, refused.line) == (ITEMS, line)


@pytest.mark.parametrize(
    "expression",
    [
        "int(Decimal('1e1000000'))",  # held a worker 27 s
        "round(Decimal('1e1000000'))",
        "floor(Decimal('1e1000000'))",
        "'%d' % Decimal('1e1000000')",
        "f\"{Decimal('1e100000000'):f}\"",
        "Decimal('1e1000000').as_integer_ratio()",
        "(Decimal('1e999990') * 10) > 5",
    ],
)
def test_turning_a_huge_decimal_into_digits_is_refused(expression):
    refused = _refused(evaluate, expression)
    assert (refused.message, refused.line) == (DIGITS, 1)


def test_decimal_variables_are_checked_as_well():
    refused = _refused(evaluate, "int(amount)", {"amount": Decimal("1e50000")})
    assert refused.message == DIGITS


def test_memory_built_up_step_by_step_stops_the_script_and_is_given_back(monkeypatch):
    monkeypatch.setattr(LIMITS, "memory_mb", 64)
    # Each row is a fresh 800 kB list: small steps, each below every size check.
    script = "x = [[i] * 100000 for i in range(100000)]"
    refused = _refused(execute, script)
    assert (refused.message, refused.line) == ("脚本占用的内存超过了 64 MB，已停止", 1)
    # The process carries on: the next script runs as before.
    assert execute("y = [i * 2 for i in range(1000)]", {})["y"][-1] == 1998


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len(str([[0] * 1000] * 900))", 2_701_800),
        ("[[1, 2]] * 3 == [[1, 2], [1, 2], [1, 2]]", True),
        ("int(Decimal('1e19999')) > 0", True),
        ("sorted(names) == ['a', 'b'] and 'a' in names", True),
        ("f'{amount:.2f}元，{persons}人'", "1.50元，3人"),
    ],
)
def test_values_within_the_limits_work_as_before(source, expected):
    assert evaluate(source, {"names": ["b", "a"], "amount": 1.5, "persons": 3}) == expected


def test_the_limits_are_settings(settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "SCRIPT_MAX_ITEMS": 1000}
    assert LIMITS.max_items == 1000
    with pytest.raises(SandboxLimit) as refused:
        evaluate("str([[0] * 100] * 11)", {})
    assert refused.value.message == "数据不能超过 1,000 项（重复出现的部分每出现一次都计入）"
    assert evaluate("len(str([[0] * 100] * 9))", {}) == 2_718


def test_measuring_stops_at_the_budget():
    shared = [[0] * 10_000] * 3_000
    started = time.monotonic()
    assert logical_items(shared, 1_000_000) > 1_000_000
    assert json_bytes({"x": shared}, 2_000_000) > 2_000_000
    assert time.monotonic() - started < 0.2  # walks stop at their budget
    # the dict, its keys, the list, "xy", 3 and None
    assert logical_items({"a": ["xy", 3], "b": None}, 100) == 2 + 2 + 2 + 2 + 1 + 1
    value = {"名字": "张三", "items": [1, 22, None, 1.5], "ok": True}
    saved = len(json.dumps(value))  # as the engine's serializer writes it: 名 as \u540d
    assert saved <= json_bytes(value, 10_000) <= saved * 1.1
