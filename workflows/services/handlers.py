"""Running service-task handlers for the engine."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from .. import extensions


class HandlerMissing(Exception):
    pass


def run_handler(topic: str, variables: dict) -> dict | None:
    handler = extensions.get_handler(topic)
    if handler is None:
        raise HandlerMissing(f"service task handler '{topic}' is not registered")
    result = handler.func(variables)
    if result is not None and not isinstance(result, dict):
        raise TypeError(f"handler '{topic}' returned {type(result).__name__}, not a dict")
    return as_recorded(result)


def as_recorded(result: dict | None) -> dict | None:
    """A handler's result as the audit event keeps it (plain JSON: dates as ISO strings,
    decimals as strings). The engine is given exactly this, so a replay, which is given the
    recorded result, computes the same state."""
    if result is None:
        return None
    return json.loads(json.dumps(result, cls=DjangoJSONEncoder, ensure_ascii=False))


def recorded_inputs(step) -> dict:
    """What an engine event records besides its own input: the results of the synchronous
    handlers the step ran (by task id), which a replay gives back instead of calling them."""
    return {"handlers": step.handler_results} if step.handler_results else {}
