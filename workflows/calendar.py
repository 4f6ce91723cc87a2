"""The business calendar: working days with statutory holidays and adjusted working days (调休).

National rules come from the maintained ``holidays`` package (China: holidays plus the weekend
days that are worked instead); a county's own exceptions (``CalendarDay`` rows, edited in the
admin) win over them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone

from . import conf


@lru_cache(maxsize=32)
def _national(year: int):
    return holidays.country_holidays(conf.get("HOLIDAY_COUNTRY"), years=[year])


def preload() -> None:
    """Import the country's holiday rules now, at start-up. On first use inside a diagram's
    expression (``working_days``) the import would count against the sandbox's time limit, and
    an import cut short there leaves the module broken for the whole process."""
    holidays.country_holidays(conf.get("HOLIDAY_COUNTRY"))


def _exceptions() -> dict[date, bool]:
    from .models import CalendarDay

    return dict(CalendarDay.objects.values_list("date", "is_working_day"))


def is_working_day(day: date, *, exceptions: dict[date, bool] | None = None) -> bool:
    exceptions = _exceptions() if exceptions is None else exceptions
    if day in exceptions:
        return exceptions[day]
    return _national(day.year).is_working_day(day)


def add_working_days(start: date | datetime, days: int) -> date:
    """The date ``days`` working days after ``start`` (the start day itself not counted)."""
    if days < 0:
        raise ValueError("the number of working days cannot be negative")
    day = start.date() if isinstance(start, datetime) else start
    exceptions = _exceptions()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, exceptions=exceptions):
            counted += 1
    return day


def working_days_deadline(days: int, *, start: datetime | None = None) -> datetime:
    """The end (23:59:59 local time) of the ``days``-th working day after ``start`` (now)."""
    start = start or timezone.now()
    local = timezone.localtime(start)
    end = add_working_days(local, days)
    return datetime.combine(end, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


def working_days_between(first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last``."""
    exceptions = _exceptions()
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day, exceptions=exceptions)
    return count
