"""Dates and durations written in diagrams (ISO 8601)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


def resolve_moment(value, *, start: datetime, tz) -> datetime:
    """A due date from a duration (``P5D``), a date, a datetime, or a timedelta, after ``start``.

    Raises ValueError with a readable message when ``value`` is none of these."""
    if isinstance(value, timedelta):
        return start + value
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=tz)
    text = str(value).strip()
    if text.startswith(("P", "p")):
        try:
            parsed = TimerEventDefinition.parse_iso_duration(text.upper())
            return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
        except Exception:  # noqa: BLE001 - spiff raises several kinds for a bad duration
            raise ValueError(f"'{text}' is not an ISO 8601 duration such as P5D or PT4H") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is neither an ISO 8601 duration (P5D) nor a date (2025-03-31)"
        ) from None
    if len(text) == 10:
        return datetime.combine(moment.date(), time(23, 59, 59), tzinfo=tz)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


UTC = UTC


def _evaluate_timer_text(expression: str) -> str:
    from . import sandbox

    value = sandbox.evaluate(expression, {}, time_limit=1.0)
    return value.isoformat() if isinstance(value, datetime) else str(value)


def next_cycle_start(expression: str, *, after: datetime) -> datetime | None:
    """The first moment after ``after`` that a timer start event's expression names, or None.

    Dates fire once; ``R[n]/start/duration`` cycles repeat (``n`` is not counted here: a start
    cycle keeps going until the procedure is redeployed without it); a bare duration fires once
    that long after ``after``."""
    text = _evaluate_timer_text(expression).strip()
    upper = text.upper()
    if upper.startswith("R"):
        _, start, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
        if interval.total_seconds() <= 0:
            raise ValueError(f"'{text}' repeats with no interval")
        parts = text.split("/")
        if len(parts) == 3 and parts[2].upper().startswith("P") and not parts[1].startswith("P"):
            return _next_calendar_step(_as_written(parts[1], start), parts[2].upper(), after)
        moment = start
        while moment <= after:
            moment += interval
        return moment
    if upper.startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(upper)
        return after + TimerEventDefinition.get_timedelta_from_start(parsed, after)
    moment = TimerEventDefinition.get_datetime(text)
    return moment if moment > after else None


def _as_written(text: str, parsed: datetime) -> datetime:
    """The start in the offset it was written in (months are counted on that calendar)."""
    try:
        written = datetime.fromisoformat(text)
    except ValueError:
        return parsed
    return written if written.tzinfo else parsed


def _next_calendar_step(start: datetime, duration: str, after: datetime) -> datetime:
    """``start`` plus n whole periods, the first after ``after``. Each step counts from the
    start on the calendar, so ``P1M`` from 1 January stays on the 1st (SpiffWorkflow's own
    interval is the first period's length: 31 days, then drifting)."""
    parsed = TimerEventDefinition.parse_iso_duration(duration)
    steps, moment = 0, start
    while moment <= after:
        steps += 1
        scaled = {unit: amount * steps for unit, amount in parsed.items()}
        moment = start + TimerEventDefinition.get_timedelta_from_start(scaled, start)
    return moment


# What a modeler types as a literal: a cycle (R…/…), a duration (P…) or a date (2025-…).
_ISO_LITERAL = re.compile(r"^(R\d*/\S+|P[0-9A-Z.,]+|\d{4}-\d{2}-\d{2}\S*)$", re.I)
_CAMUNDA_EXPRESSION = re.compile(r"^\$\{(.*)\}$", re.DOTALL)


def timer_expression(text: str) -> str:
    """The Python expression SpiffWorkflow evaluates for a timer, from what a modeler wrote.

    Camunda modelers write literals (``P3D``, ``2025-03-31T12:00``, ``R/2025-01-02/P1Y``) or
    ``${expression}``; SpiffWorkflow wants a Python expression. Both forms are accepted."""
    text = (text or "").strip()
    match = _CAMUNDA_EXPRESSION.match(text)
    if match:
        return match.group(1).strip()
    if _ISO_LITERAL.match(text):
        return repr(text)
    return text


def check_timer_literal(text: str) -> str | None:
    """What is wrong with a literal timer value, or None (expressions are checked when they run)."""
    text = (text or "").strip()
    if not _ISO_LITERAL.match(text):
        return None
    try:
        if text.upper().startswith("R"):
            parts = text.split("/")
            has_interval = any(p.upper().startswith("P") for p in parts[1:])
            if not has_interval:
                return gettext(
                    "cycle '%(text)s' has no interval: write e.g. R/2025-01-02T08:00/P1Y"
                ) % {"text": text}
            _, _, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
            if interval.total_seconds() <= 0:
                return gettext("cycle '%(text)s' has a zero interval") % {"text": text}
        elif text.upper().startswith("P"):
            TimerEventDefinition.parse_iso_duration(text.upper())
        else:
            TimerEventDefinition.get_datetime(text)
    except Exception:  # noqa: BLE001 - spiff raises several kinds for a bad value
        message = gettext("'%(text)s' is not a valid ISO 8601 date, duration or cycle")
        return message % {"text": text}
    return None
