"""The sandbox for expressions and scripts that come from diagrams.

Diagrams are edited by people in a web modeler, so their conditions and scripts are untrusted.
Instead of handing them to ``eval``/``exec`` (SpiffWorkflow's default), every piece of code is
parsed and checked against a whitelist of syntax first: no imports, no function or class
definitions, no names or attributes that start with an underscore (which closes every
``__class__.__subclasses__()`` style escape), no generator or frame attributes (``gi_frame``,
``f_globals`` ...), no ``str.format`` (whose ``{0.attr}`` fields walk attributes unchecked), calls
only to a fixed set of harmless built-ins and to methods of plain data values. What passes runs
with those built-ins only, under a time limit. The same check runs at deploy, so an unsafe
diagram is refused before it can run.

The time limit cannot stop a single operation that is slow or huge inside C (``'x' * 10**9``,
``2 ** 10**9``, ``str()`` of a list that holds one long list many times, ``int()`` of
``Decimal('1e1000000')``), so every operation that can build or walk a large value in one step
is bounded before it runs (``_Guard``): its result's length, its arguments' size counted as
``str()`` or ``==`` would meet them (shared parts every time they appear, see sizes.py), a
number's digits. Memory built up step by step is watched while the code runs: past its limit the
code stops, as it does past its time limit. Those limits are settings (``configure``, installed
by the host from ``WORKFLOWS``); their messages are the host's translations (i18n.py).

A process per evaluation would let the operating system enforce both limits, but forking costs
about 3.5 ms against 2.5 µs for a condition in-process (measured on a loaded Django process),
and conditions are evaluated on every step: the bounds here keep the code in-process.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib
import math
import operator
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from .i18n import _
from .sizes import logical_items, resident_bytes

MAX_SEQUENCE = 100_000
MAX_POWER_EXPONENT = 1_000
MAX_INTEGER_DIGITS = 20_000
_MAX_INTEGER_BITS = math.ceil(MAX_INTEGER_DIGITS * math.log2(10))


@dataclass
class Limits:
    """The limits the host may set (WORKFLOWS["SCRIPT_MAX_ITEMS"], ["SCRIPT_MEMORY_LIMIT_MB"])."""

    # What str(), ==, sorted() ... may walk in one step, and what * and + may build.
    max_items: int = 1_000_000
    # How much the process may grow while one piece of diagram code runs.
    memory_mb: int = 256


LIMITS = Limits()


def configure(*, max_items: int, memory_mb: int) -> None:
    LIMITS.max_items = int(max_items)
    LIMITS.memory_mb = int(memory_mb)


class SandboxViolation(Exception):
    """The code uses something the sandbox does not allow. Raised before it runs."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class SandboxTimeout(Exception):
    """The code ran longer than the time limit."""


class SandboxRuntimeError(Exception):
    """The code failed while running (a missing variable, a division by zero ...)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class SandboxLimit(SandboxRuntimeError):
    """The code would exceed a size or memory limit; raised before the operation runs (or, for
    memory built up step by step, as soon as the growth is seen). The message is for people."""


# --- Size guards ------------------------------------------------------------------------------
# Operations that can build a huge value in one step (inside C, where the time limit cannot stop
# them) check the size of their result first. The _Guard transformer below routes code to them.

_SEQUENCES = (str, bytes, list, tuple)


def _limit(message: str, limit: int) -> SandboxLimit:
    return SandboxLimit(message % {"limit": f"{limit:,}"})


def _check_length(length: int) -> None:
    if length > MAX_SEQUENCE:
        raise _limit(_("texts and lists longer than %(limit)s are not allowed"), MAX_SEQUENCE)


def _too_many_items() -> SandboxLimit:
    return _limit(
        _(
            "values of more than %(limit)s items are not allowed "
            "(a part that appears several times counts every time)"
        ),
        LIMITS.max_items,
    )


def _check_items(value) -> None:
    """``value`` may be walked by one C-level step (str, ==, sorted ...) or built by * and +."""
    containers = list | tuple | set | frozenset | dict
    if isinstance(value, containers) and logical_items(value, LIMITS.max_items) > LIMITS.max_items:
        raise _too_many_items()


def _too_many_digits() -> SandboxLimit:
    return _limit(_("numbers longer than %(limit)s digits are not allowed"), MAX_INTEGER_DIGITS)


def _check_bits(bits: float) -> None:
    if bits > _MAX_INTEGER_BITS:
        raise _too_many_digits()


def _check_decimal(value) -> None:
    """Decimal('1e1000000') is small, but int() of it builds a million digits inside C."""
    finite = isinstance(value, Decimal) and value.is_finite() and value
    if finite and abs(value.adjusted()) > MAX_INTEGER_DIGITS:
        raise _too_many_digits()


_PLAIN = frozenset({int, float, bool, str, type(None), date, datetime, timedelta})


def _sized(value):
    """An operand of ==, <, in ... or of an f-string: walked by C code in one step."""
    if type(value) in _PLAIN:  # most operands of most conditions: nothing to measure
        return value
    _check_items(value)
    _check_decimal(value)
    return value


def _safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise _limit(_("range() of more than %(limit)s items is not allowed"), MAX_SEQUENCE)
    return r


def _guarded_pow(base, exponent):
    if isinstance(exponent, int | float) and abs(exponent) > MAX_POWER_EXPONENT:
        raise _limit(_("exponents above %(limit)s are not allowed"), MAX_POWER_EXPONENT)
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 1 and abs(base) > 1:
        _check_bits(exponent * math.log2(abs(base)))
    return base**exponent


def _check_mul(left, right) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(count, int):
            _check_length(len(seq) * count)
            # [[0] * 10_000] * 3_000 is short, but 30 million items to str() or save.
            if isinstance(seq, list | tuple) and count > 1:
                _check_repeated(seq, count)
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())


def _check_repeated(seq: list | tuple, count: int) -> None:
    if logical_items(seq, LIMITS.max_items // count) * count > LIMITS.max_items:
        raise _too_many_items()


def _guarded_mul(left, right):
    _check_mul(left, right)
    return left * right


def _guarded_imul(left, right):
    _check_mul(left, right)
    left *= right
    return left


def _check_add(left, right) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length(len(left) + len(right))
        if isinstance(left, list | tuple):  # x = x + x doubles what x holds, step by step
            budget = LIMITS.max_items
            if logical_items(left, budget) + logical_items(right, budget) > budget:
                raise _too_many_items()


def _guarded_add(left, right):
    _check_add(left, right)
    return left + right


def _guarded_iadd(left, right):
    _check_add(left, right)
    left += right
    return left


# printf-style fields: '%%', or '%' [(key)] [flags] [width] [.precision]
_PRINTF_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


def _guarded_mod(left, right):
    if isinstance(left, str | bytes):
        for value in right if isinstance(right, tuple) else [right]:
            _sized(value)  # '%s' % x is str(x), '%d' % Decimal(...) is int(...)
        text = left if isinstance(left, str) else left.decode("latin-1")
        for field in _PRINTF_FIELD.finditer(text):
            for size in field.groups():
                if size == "*":
                    raise SandboxLimit(_("'*' widths are not allowed in percent formatting"))
                if size is not None and int(size) > MAX_SEQUENCE:
                    raise _limit(_("format widths above %(limit)s are not allowed"), MAX_SEQUENCE)
    return left % right


def _safe_sum(iterable, /, start=0):
    if not isinstance(start, list | tuple):
        return sum(iterable, start)
    total = start  # sum() of lists: add them one by one, with the size check
    for item in iterable:
        total = _guarded_add(total, item)
    return total


def _padded(value, width, *_fill) -> int:
    return max(len(value), operator.index(width))


def _expanded(value, tabsize=8) -> int:
    tabs = value.count("\t" if isinstance(value, str) else b"\t")
    return len(value) + tabs * max(operator.index(tabsize), 0)


def _replaced(value, old, new, count=-1) -> int:
    found = value.count(old)  # '' is found len(value) + 1 times
    if count >= 0:
        found = min(found, count)
    return len(value) + found * max(len(new) - len(old), 0)


def _joined(value, items) -> int:
    if isinstance(value, list):  # list.extend
        return len(value) + len(items)
    pieces = sum(len(item) for item in items if isinstance(item, str | bytes))
    return pieces + len(value) * max(len(items) - 1, 0)


def _translated(value, table) -> int:
    targets = table.values() if isinstance(table, dict) else table
    longest = max((len(t) for t in targets if isinstance(t, str | bytes)), default=1)
    return len(value) * max(longest, 1)


# Methods of texts and lists whose result can be much larger than their arguments.
_RESULT_LENGTH = {
    "center": _padded,
    "ljust": _padded,
    "rjust": _padded,
    "zfill": _padded,
    "expandtabs": _expanded,
    "replace": _replaced,
    "join": _joined,
    "extend": _joined,
    "translate": _translated,
}
# Methods that compare every item with their argument (sort compares items with each other),
# or build a number as long as the value.
_WALKING_METHODS = frozenset({"count", "index", "remove", "sort", "as_integer_ratio"})
_SIZED_METHODS = frozenset(_RESULT_LENGTH) | _WALKING_METHODS


def _guarded_method(obj, name, /, *args, **kwargs):
    method = getattr(obj, name)
    unbound = isinstance(obj, type) and bool(args)  # str.join(", ", items): the value comes first
    target, rest = (args[0], list(args[1:])) if unbound else (obj, list(args))
    if name in _WALKING_METHODS:
        for value in (target, *rest):
            _sized(value)
        return method(*args, **kwargs)
    if not isinstance(target, _SEQUENCES):
        return method(*args, **kwargs)
    if name in ("join", "extend") and rest:
        rest[0] = list(rest[0])  # read an iterator once: measure it, then hand it on
    try:
        length = _RESULT_LENGTH[name](target, *rest, **kwargs)
    except (TypeError, ValueError, AttributeError, KeyError):
        length = 0  # arguments the method itself will refuse
    _check_length(length)
    return method(*([target] if unbound else []), *rest, **kwargs)


# datetime's C code imports these through the running code's builtins (date.today(), strftime,
# strptime). Diagram code itself can never name __import__: the check refuses it.
_MODULES_FOR_BUILTINS = frozenset({"time", "_strptime"})


def _import_for_builtins(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in _MODULES_FOR_BUILTINS:
        return importlib.import_module(name)
    raise ImportError(f"importing '{name}' is not allowed")


def _sized_arguments(*args, **kwargs) -> None:
    for value in args:
        _sized(value)


# Built-ins that walk a whole value in C (str of a list, sorted, max ...) or turn a Decimal into
# digits (int, round ...). Keyed by identity, so a built-in called under another name (s = str)
# is checked too; the host's own functions are not listed and run unchanged.
_CALL_GUARDS = {
    id(function): _sized_arguments
    for function in (str, int, float, round, math.ceil, math.floor, sorted, min, max, set)
}


def _guarded_call(function, /, *args, **kwargs):
    guard = _CALL_GUARDS.get(id(function))
    if guard is not None:
        guard(*args, **kwargs)
    result = function(*args, **kwargs)
    if function is tuple:
        # A tuple is hashed item by item, nested ones too, every time it is a key: one made from
        # a generator is measured once it exists (a list of shared rows cannot be a key at all).
        _check_items(result)
    return result


SAFE_BUILTINS: dict[str, object] = {
    "__import__": _import_for_builtins,
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "date": date,
    "datetime": datetime,
    "Decimal": Decimal,
    "dict": dict,
    "enumerate": enumerate,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "range": _safe_range,
    "reversed": reversed,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": _safe_sum,
    "timedelta": timedelta,
    "tuple": tuple,
    "zip": zip,
    "ceil": math.ceil,
    "floor": math.floor,
    "True": True,
    "False": False,
    "None": None,
}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.Expression,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.If,
    ast.For,
    ast.Break,
    ast.Continue,
    ast.Pass,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.comprehension,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.Load,
    ast.Store,
    ast.And,
    ast.Or,
    ast.Not,
    ast.Invert,
    ast.UAdd,
    ast.USub,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.BitAnd,
    ast.BitOr,
)

_FORBIDDEN_DESCRIPTIONS: dict[type[ast.AST], str] = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.FunctionDef: "defining functions is not allowed",
    ast.AsyncFunctionDef: "defining functions is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ClassDef: "defining classes is not allowed",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.With: "with is not allowed",
    ast.While: "while loops are not allowed (use for over a list)",
    ast.Try: "try is not allowed",
    ast.Raise: "raise is not allowed",
    ast.Delete: "del is not allowed",
    ast.Yield: "yield is not allowed",
    ast.Await: "await is not allowed",
    ast.NamedExpr: ":= is not allowed",
    ast.Starred: "* unpacking is not allowed",
}

# Names that would reach the interpreter, files or the network if a diagram could call them.
_FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "object",
        "super",
        "dir",
        "help",
        "breakpoint",
        "memoryview",
        "bytearray",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
        "__import__",
        "__builtins__",
    }
)


# Attributes that lead from a plain value to the interpreter. Underscore names reach classes and
# globals; a generator's frame (gi_frame.f_back.f_globals) reaches the host's modules; format's
# "{0.attr}" fields read attributes without any check.
_FORBIDDEN_ATTRIBUTE_PREFIXES = ("_", "gi_", "ag_", "cr_", "f_", "co_", "tb_")
_FORBIDDEN_ATTRIBUTES = {
    "format": 'use an f-string such as f"{name}" instead',
    "format_map": 'use an f-string such as f"{name}" instead',
    "mro": "",
}


@dataclass(frozen=True)
class CheckedCode:
    """Code that passed the whitelist, compiled and ready to run."""

    source: str
    code: object
    is_expression: bool


def _attribute_problem(node: ast.Attribute, called: set[int]) -> str | None:
    name = node.attr
    if name.startswith(_FORBIDDEN_ATTRIBUTE_PREFIXES) or name in _FORBIDDEN_ATTRIBUTES:
        hint = _FORBIDDEN_ATTRIBUTES.get(name)
        return f"the attribute '{name}' is not allowed" + (f" ({hint})" if hint else "")
    if name in _SIZED_METHODS and id(node) not in called:
        # Its size check runs only where it is called: value.name(...).
        return f"the method '{name}' may only be called directly, as in value.{name}(...)"
    return None


def _format_spec_problem(node: ast.FormattedValue) -> str | None:
    if node.format_spec is None:
        return None
    for part in node.format_spec.values:
        if isinstance(part, ast.FormattedValue):
            return 'computed format specifications such as f"{x:{width}}" are not allowed'
        if any(int(number) > MAX_SEQUENCE for number in re.findall(r"\d+", str(part.value))):
            return f"format widths above {MAX_SEQUENCE:,} are not allowed"
    return None


def _node_problem(node: ast.AST, called: set[int]) -> str | None:
    if type(node) in _FORBIDDEN_DESCRIPTIONS:
        return _FORBIDDEN_DESCRIPTIONS[type(node)]
    if not isinstance(node, _ALLOWED_NODES):
        return f"'{type(node).__name__}' is not allowed"
    if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in _FORBIDDEN_NAMES):
        return f"the name '{node.id}' is not allowed"
    if isinstance(node, ast.Attribute):
        return _attribute_problem(node, called)
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return "bytes literals are not allowed"
    if isinstance(node, ast.FormattedValue):
        return _format_spec_problem(node)
    return None


def _check_tree(tree: ast.AST) -> None:
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        problem = _node_problem(node, called)
        if problem:
            raise SandboxViolation(problem, getattr(node, "lineno", None))


@functools.lru_cache(maxsize=4096)
def check_expression(source: str) -> CheckedCode:
    """Parse and check an expression; raises SandboxViolation with the line."""
    return _check(source, mode="eval")


@functools.lru_cache(maxsize=4096)
def check_script(source: str) -> CheckedCode:
    """Parse and check a script (statements); raises SandboxViolation with the line."""
    return _check(source, mode="exec")


def _check(source: str, *, mode: str) -> CheckedCode:
    if source is None or not str(source).strip():
        raise SandboxViolation(f"the {'expression' if mode == 'eval' else 'script'} is empty", 1)
    # An expression is one value; a script keeps its lines (errors name them), minus the
    # indentation an XML editor may have added to every line.
    source = str(source).strip() if mode == "eval" else textwrap.dedent(str(source))
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        if mode == "eval":
            _refuse_statement(source)
        raise SandboxViolation(f"syntax error: {exc.msg}", exc.lineno) from None
    _check_tree(tree)
    tree = _Guard().visit(tree)
    ast.fix_missing_locations(tree)
    code = compile(tree, "<diagram>", mode)
    return CheckedCode(source=source, code=code, is_expression=mode == "eval")


def _refuse_statement(source: str) -> None:
    """Explain an expression that is really a statement (``import os``, ``approved = True``)."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError:
        return
    _check_tree(tree)
    first = tree.body[0]
    if isinstance(first, ast.Assign):
        raise SandboxViolation("'=' sets a variable; to compare two values use '=='", first.lineno)
    raise SandboxViolation(
        "this must be an expression that gives a value, not a statement", first.lineno
    )


def _helper_call(helper: str, args: list[ast.expr], node: ast.AST) -> ast.AST:
    call = ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, node)


class _Guard(ast.NodeTransformer):
    """Routes ``*``, ``**``, ``+``, ``%`` (also as ``*=`` ...) and the methods of _SIZED_METHODS
    through size checks, so ``'x' * 10**10`` or ``'x'.ljust(10**10)`` cannot eat the memory."""

    _BINARY = {ast.Pow: "__fz_pow", ast.Mult: "__fz_mul", ast.Add: "__fz_add", ast.Mod: "__fz_mod"}
    _IN_PLACE = {
        ast.Pow: "__fz_pow",
        ast.Mult: "__fz_imul",
        ast.Add: "__fz_iadd",
        ast.Mod: "__fz_mod",
    }

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = self._BINARY.get(type(node.op))
        return node if helper is None else _helper_call(helper, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        # ``x *= n`` becomes ``x = __fz_imul(x, n)`` (a subscript target is evaluated twice).
        self.generic_visit(node)
        helper = self._IN_PLACE.get(type(node.op))
        if helper is None:
            return node
        current = copy.deepcopy(node.target)
        current.ctx = ast.Load()
        value = _helper_call(helper, [current, node.value], node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        # == and in walk both sides inside C: a list holding one long list many times is
        # compared item by item, so both sides are measured first. Constants need no check.
        self.generic_visit(node)
        node.left = self._sized(node.left)
        node.comparators = [self._sized(value) for value in node.comparators]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)  # f"{x}" is str(x)
        node.value = self._sized(node.value)
        return node

    @staticmethod
    def _sized(value: ast.expr) -> ast.expr:
        # A constant, or a literal of constants (kind in ['a', 'b']), is as small as the source.
        literal = isinstance(value, ast.List | ast.Tuple | ast.Set) and all(
            isinstance(item, ast.Constant) for item in value.elts
        )
        if literal or isinstance(value, ast.Constant):
            return value
        return _helper_call("__fz_sized", [value], value)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name):
            call = ast.Call(
                func=ast.Name(id="__fz_call", ctx=ast.Load()),
                args=[func, *node.args],
                keywords=node.keywords,
            )
            return ast.copy_location(call, node)
        if not (isinstance(func, ast.Attribute) and func.attr in _SIZED_METHODS):
            return node
        call = ast.Call(
            func=ast.Name(id="__fz_method", ctx=ast.Load()),
            args=[func.value, ast.Constant(func.attr), *node.args],
            keywords=node.keywords,
        )
        return ast.copy_location(call, node)


_HELPER_GLOBALS = {
    "__fz_pow": _guarded_pow,
    "__fz_mul": _guarded_mul,
    "__fz_imul": _guarded_imul,
    "__fz_add": _guarded_add,
    "__fz_iadd": _guarded_iadd,
    "__fz_mod": _guarded_mod,
    "__fz_method": _guarded_method,
    "__fz_call": _guarded_call,
    "__fz_sized": _sized,
}


class _Deadline:
    """A trace function that stops the code once the time limit has passed, or once the process
    has grown by more than the memory limit (a loop that builds a large value step by step: each
    step is small, the total is not).

    Only the diagram's own frames are traced line by line: the sandbox's helpers are bounded by
    their checks, and tracing each of their lines made a condition ten times slower (measured:
    4 µs became 40 µs). Their calls still pass here, so the time limit is checked on each."""

    # Reading the process's size costs about 20 µs: look every so many events, and first at the
    # first look (so the many short conditions never pay for it). Before the first look and
    # between two looks, the code can add at most this many size-checked steps' worth.
    _MEMORY_EVERY = 64

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.memory_ceiling: int | None = None
        self.events = 0

    def __call__(self, frame, event, arg):
        if time.monotonic() > self.deadline:
            message = _("the script ran longer than its time limit (%(seconds)s s)")
            raise SandboxTimeout(message % {"seconds": f"{self.seconds:g}"})
        self.events += 1
        if self.events % self._MEMORY_EVERY == 0 and self._over_memory():
            raise _limit(_("the script used more than %(limit)s MB of memory"), LIMITS.memory_mb)
        if event == "call" and frame.f_code.co_filename != "<diagram>":
            return None
        return self

    def _over_memory(self) -> bool:
        resident = resident_bytes()
        if resident is None:
            return False
        if self.memory_ceiling is None:
            self.memory_ceiling = resident + LIMITS.memory_mb * 2**20
        return resident > self.memory_ceiling


def _run(checked: CheckedCode, namespace: dict, time_limit: float):
    run_globals = {"__builtins__": SAFE_BUILTINS, **_HELPER_GLOBALS}
    previous_trace = sys.gettrace()
    sys.settrace(_Deadline(time_limit))
    try:
        if checked.is_expression:
            return eval(checked.code, run_globals, namespace)  # noqa: S307 - checked above
        exec(checked.code, run_globals, namespace)  # noqa: S102 - checked above
        return None
    except (SandboxTimeout, SandboxViolation):
        raise
    except SandboxLimit as exc:
        exc.line = _error_line(exc)
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of diagram code is reported, not raised raw
        line = _error_line(exc)
        raise SandboxRuntimeError(f"{type(exc).__name__}: {exc}", line) from exc
    finally:
        sys.settrace(previous_trace)


def _error_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<diagram>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def evaluate(source: str, variables: dict, *, time_limit: float = 1.0):
    """Evaluate an expression against ``variables`` (not modified)."""
    return _run(check_expression(source), dict(variables), time_limit)


def execute(source: str, variables: dict, *, time_limit: float = 1.0) -> dict:
    """Run a script against a copy of ``variables`` and return the resulting variables."""
    namespace = dict(variables)
    _run(check_script(source), namespace, time_limit)
    return {k: v for k, v in namespace.items() if not k.startswith("_") and not callable(v)}
