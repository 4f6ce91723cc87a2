"""Running service-task handlers for the engine."""

from __future__ import annotations

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
    return result
