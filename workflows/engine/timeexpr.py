"""Dates and durations written in diagrams (ISO 8601)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

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
