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
# The Gregorian calendar repeats every 400 years (146,097 days): dates past `date.max` (a period that
# ends after year 9999) are computed 400 years earlier and shifted back.
_CYCLE_YEARS, _CYCLE_DAYS = 400, 146_097


def boundary(anchor: int, interval: Interval, interval_count: int, n: int) -> int:
    """The n-th period boundary from `anchor` (Unix seconds); n may be zero or negative."""
    if interval in _FIXED_DAYS:
        return anchor + n * _period_seconds(interval, interval_count)
    day_number, time_of_day = divmod(anchor, _DAY)
    start, start_cycles = _date_and_cycles(_EPOCH + day_number)
    months = _month_number(start) + start_cycles * _CYCLE_YEARS * 12
    year, month0 = divmod(months + n * _period_months(interval, interval_count), 12)
    cycles = max(0, -(-(year - date.max.year) // _CYCLE_YEARS))
    year -= cycles * _CYCLE_YEARS
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return (date(year, month0 + 1, day).toordinal() + cycles * _CYCLE_DAYS - _EPOCH) * _DAY + time_of_day


def period_containing(anchor: int, interval: Interval, interval_count: int, t: int) -> tuple[int, int]:
    """The period `[start, end)` that contains the instant `t`, which may lie before the anchor."""
    if interval in _FIXED_DAYS:
        n = (t - anchor) // _period_seconds(interval, interval_count)
    else:
        # Whole calendar months between the two dates is off by at most one period (day of month and
        # time of day are ignored), so this estimate needs at most a step either way.
        elapsed = _utc_month_number(t) - _utc_month_number(anchor)
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


def _date_and_cycles(ordinal: int) -> tuple[date, int]:
    """The date of day `ordinal`, moved back by whole 400-year cycles (returned) if past `date.max`."""
    cycles = max(0, -(-(ordinal - date.max.toordinal()) // _CYCLE_DAYS))
    return date.fromordinal(ordinal - cycles * _CYCLE_DAYS), cycles


def _utc_month_number(t: int) -> int:
    moved, cycles = _date_and_cycles(_EPOCH + t // _DAY)
    return _month_number(moved) + cycles * _CYCLE_YEARS * 12


def _month_number(d: date) -> int:
    """Months since year 0, so month arithmetic is plain integer arithmetic."""
    return d.year * 12 + d.month - 1
