"""Extension points that processes/ fills: service-task handlers and custom task views.

A handler is a function ``handler(variables: dict) -> dict | None``; what it returns is merged
into the process variables. Register it under the name a diagram's ``camunda:topic`` uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from . import conf

Handler = Callable[[dict], dict | None]


@dataclass(frozen=True)
class RegisteredHandler:
    name: str
    func: Handler
    label: str
    asynchronous: bool = False
    max_attempts: int = 3
    backoff_seconds: float = 30.0


_handlers: dict[str, RegisteredHandler] = {}
_task_views: dict[str, str] = {}


def service_handler(
    name: str,
    *,
    label: str = "",
    asynchronous: bool = False,
    max_attempts: int = 3,
    backoff_seconds: float = 30.0,
):
    """Decorator: make ``func`` the handler of service tasks with ``camunda:topic=name``.

    An asynchronous handler runs as a background job while the instance waits; a failure is
    retried ``max_attempts`` times in all, ``backoff_seconds`` doubling each time, then the
    instance goes into ``incident``. Handlers must be idempotent: a job may run again after a
    worker dies mid-way."""

    def register(func: Handler) -> Handler:
        _handlers[name] = RegisteredHandler(
            name, func, label or name, asynchronous, max_attempts, backoff_seconds
        )
        return func

    return register


def unregister_handler(name: str) -> None:
    _handlers.pop(name, None)


def get_handler(name: str) -> RegisteredHandler | None:
    return _handlers.get(name)


def handler_names() -> list[str]:
    return sorted(_handlers)


def async_topics() -> frozenset[str]:
    return frozenset(name for name, handler in _handlers.items() if handler.asynchronous)


def register_task_view(form_key: str, label: str = "") -> None:
    """Declare that a portal view renders tasks with this form key (instead of a .form file)."""
    _task_views[form_key] = label or form_key


def form_exists(form_key: str) -> bool:
    if form_key in _task_views:
        return True
    name = form_key.removeprefix("embedded:").rsplit(":", 1)[-1].removesuffix(".form")
    return any((directory / f"{name}.form").is_file() for directory in conf.form_dirs())


def load_extension_modules() -> None:
    for module in conf.get("HANDLER_MODULES"):
        importlib.import_module(module)
