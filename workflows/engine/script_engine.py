"""SpiffWorkflow's script engine, with every expression and script run in the sandbox."""

from __future__ import annotations

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


class SandboxScriptEngine(PythonScriptEngine):
    def __init__(self, time_limit: float = 1.0):
        super().__init__(environment=SandboxEnvironment(time_limit))
