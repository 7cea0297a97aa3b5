from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockstripe.billing.periods import boundary, period_containing


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


def test_month_end_anchor_clamps_and_recovers():
    anchor = ts(2025, 1, 31, 13, 45, 7)
    assert [boundary(anchor, "month", 1, n) for n in range(5)] == [
        anchor,
        ts(2025, 2, 28, 13, 45, 7),
        ts(2025, 3, 31, 13, 45, 7),
        ts(2025, 4, 30, 13, 45, 7),
        ts(2025, 5, 31, 13, 45, 7),
    ]


def test_month_end_anchor_in_leap_year():
    assert boundary(ts(2024, 1, 31), "month", 1, 1) == ts(2024, 2, 29)


def test_negative_boundaries_count_backwards():
    anchor = ts(2025, 3, 31, 6)
    assert boundary(anchor, "month", 1, -1) == ts(2025, 2, 28, 6)
    assert boundary(anchor, "month", 1, -2) == ts(2025, 1, 31, 6)
    assert boundary(anchor, "month", 3, -1) == ts(2024, 12, 31, 6)


def test_year_from_leap_day():
    anchor = ts(2024, 2, 29, 12)
    assert boundary(anchor, "year", 1, 1) == ts(2025, 2, 28, 12)
    assert boundary(anchor, "year", 1, 4) == ts(2028, 2, 29, 12)
    assert boundary(anchor, "year", 1, -1) == ts(2023, 2, 28, 12)


def test_multi_month_count():
    assert boundary(ts(2025, 8, 31), "month", 6, 1) == ts(2026, 2, 28)
    assert boundary(ts(2025, 1, 15), "month", 2, 3) == ts(2025, 7, 15)


def test_days_and_weeks_are_fixed_lengths():
    anchor = ts(2025, 3, 1, 9)
    assert boundary(anchor, "day", 1, 1) == ts(2025, 3, 2, 9)
    assert boundary(anchor, "day", 3, -2) == ts(2025, 2, 23, 9)
    assert boundary(anchor, "week", 2, 1) == ts(2025, 3, 15, 9)


def test_period_containing_the_anchor_starts_there():
    anchor = ts(2025, 1, 31, 10)
    assert period_containing(anchor, "month", 1, anchor) == (anchor, ts(2025, 2, 28, 10))


def test_period_containing_an_end_is_the_next_period():
    anchor = ts(2025, 1, 31, 10)
    assert period_containing(anchor, "month", 1, ts(2025, 2, 28, 10)) == (ts(2025, 2, 28, 10), ts(2025, 3, 31, 10))
    assert period_containing(anchor, "month", 1, ts(2025, 2, 28, 10) - 1) == (anchor, ts(2025, 2, 28, 10))


def test_period_containing_before_the_anchor():
    anchor = ts(2025, 5, 15)
    assert period_containing(anchor, "month", 1, ts(2025, 3, 20)) == (ts(2025, 3, 15), ts(2025, 4, 15))
    assert period_containing(anchor, "day", 1, anchor - 1) == (anchor - 86_400, anchor)


def test_period_containing_far_from_the_anchor():
    anchor = ts(1970, 1, 31)
    assert period_containing(anchor, "month", 1, ts(2099, 2, 28, 23)) == (ts(2099, 2, 28), ts(2099, 3, 31))


@pytest.mark.parametrize(
    "interval, count", [("month", 0), ("day", -1), ("fortnight", 1)]
)
def test_rejects_bad_intervals(interval, count):
    with pytest.raises(ValueError):
        boundary(0, interval, count, 1)


# 1970 .. ~2100, so every boundary stays well inside what `datetime.date` can represent.
instants = st.integers(min_value=0, max_value=4_100_000_000)
intervals = st.sampled_from(["day", "week", "month", "year"])
counts = st.integers(min_value=1, max_value=12)


@settings(max_examples=300, deadline=None)  # correctness, not speed: a busy machine must not fail it
@given(anchor=instants, interval=intervals, count=counts, t=instants)
def test_period_containing_contains_t(anchor, interval, count, t):
    start, end = period_containing(anchor, interval, count, t)
    assert start <= t < end
    # It is one of the anchor's periods: its end is the boundary after its start.
    assert period_containing(anchor, interval, count, start) == (start, end)
    assert period_containing(anchor, interval, count, end)[0] == end


@settings(max_examples=300, deadline=None)  # correctness, not speed: a busy machine must not fail it
@given(anchor=instants, interval=intervals, count=counts, n=st.integers(min_value=-40, max_value=40))
def test_consecutive_periods_tile_time(anchor, interval, count, n):
    start = boundary(anchor, interval, count, n)
    end = boundary(anchor, interval, count, n + 1)
    assert start < end
    assert period_containing(anchor, interval, count, start) == (start, end)
    assert period_containing(anchor, interval, count, end - 1) == (start, end)
    # Time of day is preserved (day-number arithmetic never shifts the clock).
    assert (start - anchor) % 86_400 == 0


@settings(max_examples=300, deadline=None)  # correctness, not speed: a busy machine must not fail it
@given(anchor=instants, count=counts, n=st.integers(min_value=-40, max_value=40))
def test_month_periods_have_calendar_lengths(anchor, count, n):
    length = boundary(anchor, "month", count, n + 1) - boundary(anchor, "month", count, n)
    assert 28 * count * 86_400 <= length <= 31 * count * 86_400
