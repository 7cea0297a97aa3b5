"""Item periods of a subscription: calendar months from the billing cycle anchor, in UTC."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mockstripe.domain.subscriptions import current_period, natural_period_end


def _utc(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, tzinfo=timezone.utc).timestamp())


def _subscription(start: int, anchor: int) -> dict:
    return {"start_date": start, "billing_cycle_anchor": anchor}


def _price(interval: str = "month", count: int = 1) -> dict:
    return {"recurring": {"interval": interval, "interval_count": count}}


JAN_31 = _utc(2024, 1, 31)


@pytest.mark.parametrize(
    ("now", "period"),
    [
        (_utc(2024, 1, 31), (_utc(2024, 1, 31), _utc(2024, 2, 29))),
        (_utc(2024, 2, 10), (_utc(2024, 1, 31), _utc(2024, 2, 29))),
        # The clamp to Feb 29 does not stick: the next boundary is back on the 31st.
        (_utc(2024, 3, 5), (_utc(2024, 2, 29), _utc(2024, 3, 31))),
        (_utc(2024, 4, 15), (_utc(2024, 3, 31), _utc(2024, 4, 30))),
        (_utc(2025, 2, 28), (_utc(2025, 2, 28), _utc(2025, 3, 31))),
    ],
)
def test_monthly_periods_clamp_to_month_ends(now: int, period: tuple[int, int]) -> None:
    assert current_period(_subscription(JAN_31, JAN_31), _price(), now) == period


def test_a_later_anchor_makes_a_short_first_period() -> None:
    start, anchor = _utc(2024, 1, 20), JAN_31
    subscription = _subscription(start, anchor)

    assert current_period(subscription, _price(), start) == (start, anchor)
    assert current_period(subscription, _price(), anchor) == (anchor, _utc(2024, 2, 29))


@pytest.mark.parametrize(
    ("price", "end"),
    [
        (_price("day", 3), _utc(2024, 2, 3)),
        (_price("week"), _utc(2024, 2, 7)),
        (_price("month", 3), _utc(2024, 4, 30)),
        (_price("year"), _utc(2025, 1, 31)),
    ],
)
def test_other_intervals(price: dict, end: int) -> None:
    assert current_period(_subscription(JAN_31, JAN_31), price, JAN_31) == (JAN_31, end)
    assert natural_period_end(JAN_31, price) == end
