"""SpiffWorkflow's script engine, with every expression and script run in the sandbox."""

from __future__ import annotations

import ast
import functools

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import sandbox


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, time_limit: float):
        super().__init__({})
        self.time_limit = time_limit

    def evaluate(self, expression, context, external_context=None):
        variables = {**(external_context or {}), **context}
        return sandbox.evaluate(expression, variables, time_limit=self.time_limit)

    def execute(self, script, context, external_context=None):
        variables = {**(external_context or {}), **context}
        result = sandbox.execute(script, variables, time_limit=self.time_limit)
        for key in list(context):
            if key not in result:
                del context[key]
        context.update({k: v for k, v in result.items() if k not in (external_context or {})})
        return True


@functools.lru_cache(maxsize=4096)
def _syntax_error(text: str) -> SyntaxError | None:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return exc
    return None


class SandboxScriptEngine(PythonScriptEngine):
    def __init__(self, time_limit: float = 1.0):
        super().__init__(environment=SandboxEnvironment(time_limit))

    def validate(self, expression):
        # SpiffWorkflow's DMN engine parses every rule's test on every evaluation (and again
        # after a SyntaxError); parsing once per text is faster, and keeps concurrent threads
        # off CPython 3.11's ast.parse, which is not thread-safe (measured: "AST constructor
        # recursion depth mismatch" under 16 threads).
        error = _syntax_error(expression)
        if error is not None:
            raise SyntaxError(error.msg, (error.filename, error.lineno, error.offset, error.text))
