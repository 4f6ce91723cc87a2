"""The sandbox for expressions and scripts that come from diagrams.

Diagrams are edited by people in a web modeler, so their conditions and scripts are untrusted.
Instead of handing them to ``eval``/``exec`` (SpiffWorkflow's default), every piece of code is
parsed and checked against a whitelist of syntax first: no imports, no function or class
definitions, no names or attributes that start with an underscore (which closes every
``__class__.__subclasses__()`` style escape), calls only to a fixed set of harmless built-ins and
to methods of plain data values. What passes runs with those built-ins only, under a time limit.
The same check runs at deploy, so an unsafe diagram is refused before it can run.
"""

from __future__ import annotations

import ast
import functools
import math
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

MAX_SEQUENCE = 100_000
MAX_POWER_EXPONENT = 1_000


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


def _safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ValueError(f"range() of more than {MAX_SEQUENCE} items is not allowed")
    return r


SAFE_BUILTINS: dict[str, object] = {
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
    "sum": sum,
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


@dataclass(frozen=True)
class CheckedCode:
    """Code that passed the whitelist, compiled and ready to run."""

    source: str
    code: object
    is_expression: bool


def _check_node(node: ast.AST) -> None:
    line = getattr(node, "lineno", None)
    if type(node) in _FORBIDDEN_DESCRIPTIONS:
        raise SandboxViolation(_FORBIDDEN_DESCRIPTIONS[type(node)], line)
    if not isinstance(node, _ALLOWED_NODES):
        raise SandboxViolation(f"'{type(node).__name__}' is not allowed", line)
    if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in _FORBIDDEN_NAMES):
        raise SandboxViolation(f"the name '{node.id}' is not allowed", line)
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise SandboxViolation(f"the attribute '{node.attr}' is not allowed", line)
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        raise SandboxViolation("bytes literals are not allowed", line)


def _check_tree(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        _check_node(node)


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
        raise SandboxViolation("the expression is empty", 1)
    source = str(source).strip() if mode == "eval" else str(source)
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise SandboxViolation(f"syntax error: {exc.msg}", exc.lineno) from None
    _check_tree(tree)
    tree = _GuardArithmetic().visit(tree)
    ast.fix_missing_locations(tree)
    code = compile(tree, "<diagram>", mode)
    return CheckedCode(source=source, code=code, is_expression=mode == "eval")


def _guarded_pow(base, exponent):
    if isinstance(exponent, int | float) and abs(exponent) > MAX_POWER_EXPONENT:
        raise ValueError(f"exponents above {MAX_POWER_EXPONENT} are not allowed")
    return base**exponent


def _guarded_mul(left, right):
    for seq, count in ((left, right), (right, left)):
        is_repeat = isinstance(seq, str | list | tuple) and isinstance(count, int)
        if is_repeat and len(seq) * count > MAX_SEQUENCE:
            raise ValueError(f"sequences longer than {MAX_SEQUENCE} are not allowed")
    return left * right


class _GuardArithmetic(ast.NodeTransformer):
    """Routes ``*`` and ``**`` through size checks, so ``'x' * 10**10`` cannot eat the memory."""

    _HELPERS = {ast.Pow: "__fz_pow", ast.Mult: "__fz_mul"}

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = self._HELPERS.get(type(node.op))
        if helper is None:
            return node
        return ast.copy_location(
            ast.Call(
                func=ast.Name(id=helper, ctx=ast.Load()), args=[node.left, node.right], keywords=[]
            ),
            node,
        )


_HELPER_GLOBALS = {"__fz_pow": _guarded_pow, "__fz_mul": _guarded_mul}


class _Deadline:
    """A trace function that stops the code once the time limit has passed."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def __call__(self, frame, event, arg):
        if time.monotonic() > self.deadline:
            raise SandboxTimeout("the script ran longer than its time limit")
        return self


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
