"""Billing periods: calendar boundaries counted from a billing-cycle anchor, in UTC.

Period n is `[boundary(n), boundary(n + 1))`; boundary 0 is the anchor itself. Days and weeks have a
fixed length in Unix time. Months and years keep the anchor's day of month and time of day, clamped to
the last day of shorter months, and every boundary is computed from the anchor rather than from the
previous boundary, so an anchor on Jan 31 gives Feb 28 (29), Mar 31, Apr 30: the clamp never sticks.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

Interval = Literal["day", "week", "month", "year"]

_DAY = 86_400
_EPOCH = date(1970, 1, 1).toordinal()
_FIXED_DAYS = {"day": 1, "week": 7}
_CALENDAR_MONTHS = {"month": 1, "year": 12}


def boundary(anchor: int, interval: Interval, interval_count: int, n: int) -> int:
    """The n-th period boundary from `anchor` (Unix seconds); n may be zero or negative."""
    if interval in _FIXED_DAYS:
        return anchor + n * _period_seconds(interval, interval_count)
    day_number, time_of_day = divmod(anchor, _DAY)
    start = date.fromordinal(_EPOCH + day_number)
    year, month0 = divmod(_month_number(start) + n * _period_months(interval, interval_count), 12)
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return (date(year, month0 + 1, day).toordinal() - _EPOCH) * _DAY + time_of_day


def period_containing(anchor: int, interval: Interval, interval_count: int, t: int) -> tuple[int, int]:
    """The period `[start, end)` that contains the instant `t`, which may lie before the anchor."""
    if interval in _FIXED_DAYS:
        n = (t - anchor) // _period_seconds(interval, interval_count)
    else:
        # Whole calendar months between the two dates is off by at most one period (day of month and
        # time of day are ignored), so this estimate needs at most a step either way.
        elapsed = _month_number(_utc_date(t)) - _month_number(_utc_date(anchor))
        n = elapsed // _period_months(interval, interval_count)
    while boundary(anchor, interval, interval_count, n) > t:
        n -= 1
    while boundary(anchor, interval, interval_count, n + 1) <= t:
        n += 1
    return boundary(anchor, interval, interval_count, n), boundary(anchor, interval, interval_count, n + 1)


def _period_seconds(interval: Interval, interval_count: int) -> int:
    _check_count(interval_count)
    return _FIXED_DAYS[interval] * interval_count * _DAY


def _period_months(interval: Interval, interval_count: int) -> int:
    _check_count(interval_count)
    if interval not in _CALENDAR_MONTHS:
        raise ValueError(f"unknown interval: {interval!r}")
    return _CALENDAR_MONTHS[interval] * interval_count


def _check_count(interval_count: int) -> None:
    if interval_count < 1:
        raise ValueError(f"interval_count must be at least 1, got {interval_count}")


def _utc_date(t: int) -> date:
    return date.fromordinal(_EPOCH + t // _DAY)


def _month_number(d: date) -> int:
    """Months since year 0, so month arithmetic is plain integer arithmetic."""
    return d.year * 12 + d.month - 1
