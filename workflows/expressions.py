"""Functions the host offers to diagram expressions, beside the sandbox's safe built-ins.

``working_days(5)`` is the end of the fifth working day from now (an ISO 8601 date-time, so it
works both as a ``camunda:dueDate`` and as a timer's ``timeDate``);
``add_working_days("2025-03-03", 5)`` counts from a given date.
"""

from __future__ import annotations

from datetime import date, datetime

from .calendar import add_working_days as _add_working_days
from .calendar import preload, working_days_deadline
from .engine import sandbox


def working_days(days: int) -> str:
    return working_days_deadline(int(days)).isoformat()


def add_working_days(start, days: int) -> str:
    if isinstance(start, str):
        start = date.fromisoformat(start[:10])
    elif isinstance(start, datetime):
        start = start.date()
    return _add_working_days(start, int(days)).isoformat()


def install() -> None:
    sandbox.SAFE_BUILTINS["working_days"] = working_days
    sandbox.SAFE_BUILTINS["add_working_days"] = add_working_days
    preload()
