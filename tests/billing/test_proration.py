from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockstripe.billing.proration import Charge, prorated, proration_lines, remaining_share

JAN_1 = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=timezone.utc).timestamp())


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


def price(price_id: str, unit_amount: int) -> dict:
    return {"id": price_id, "unit_amount": unit_amount, "billing_scheme": "per_unit"}


def amounts(lines) -> list[tuple[str, str, int]]:
    return [(line.kind, line.charge.key, line.amount) for line in lines]


def test_upgrade_mid_month_credits_unused_and_charges_remaining_time():
    # 16 of January's 31 days are left on Jan 16: 1000 x 16/31 = 516.13, 3000 x 16/31 = 1548.39.
    lines = proration_lines(
        [Charge("si_1", price("basic", 1000), 1)],
        [Charge("si_1", price("pro", 3000), 1)],
        JAN_1,
        FEB_1,
        ts(2025, 1, 16),
    )
    assert amounts(lines) == [("unused", "si_1", -516), ("remaining", "si_1", 1548)]
    assert all((line.start, line.end) == (ts(2025, 1, 16), FEB_1) for line in lines)


def test_quantity_downgrade_prorates_both_quantities_to_the_second():
    # Jan 11 12:00 leaves 20.5 days: 5 x 1200 x 20.5/31 = 3967.74 and 3 x 1200 x 20.5/31 = 2380.65.
    seats = price("seat", 1200)
    lines = proration_lines([Charge("si_1", seats, 5)], [Charge("si_1", seats, 3)], JAN_1, FEB_1, ts(2025, 1, 11, 12))
    assert amounts(lines) == [("unused", "si_1", -3968), ("remaining", "si_1", 2381)]


def test_one_second_counts():
    # 2,678,400 seconds in January: an amount of 100 per second loses exactly 100 for one second used.
    assert prorated(267_840_000, JAN_1, FEB_1, JAN_1 + 1) == 267_839_900


def test_half_a_minor_unit_rounds_up():
    assert prorated(1, 0, 2, 1) == 1
    assert prorated(3, 0, 2, 1) == 2


def test_unchanged_items_prorate_nothing_added_and_removed_items_one_line_each():
    basic, addon, extra = (
        Charge("si_1", price("basic", 1000), 1),
        Charge("si_2", price("addon", 500), 2),
        Charge("new_0", price("extra", 3100), 1),
    )
    lines = proration_lines([basic, addon], [basic, extra], JAN_1, FEB_1, ts(2025, 1, 21))
    # 11 of 31 days left: 1000 x 11/31 = 354.84, 3100 x 11/31 = 1100.
    assert amounts(lines) == [("unused", "si_2", -355), ("remaining", "new_0", 1100)]


def test_a_change_at_the_period_end_or_to_a_free_price_makes_no_lines():
    assert (
        proration_lines(
            [Charge("si_1", price("a", 1000), 1)], [Charge("si_1", price("b", 2000), 1)], JAN_1, FEB_1, FEB_1
        )
        == []
    )
    lines = proration_lines(
        [Charge("si_1", price("a", 1000), 1)], [Charge("si_1", price("free", 0), 1)], JAN_1, FEB_1, ts(2025, 1, 16)
    )
    assert amounts(lines) == [("unused", "si_1", -516)]


def test_tiered_prices_prorate_their_period_amount():
    volume = {"id": "vol", "billing_scheme": "tiered", "tiers_mode": "volume"}
    tiers = [{"up_to": 5, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]
    # 10 seats at 800 = 8000 a period; 16/31 left = 4129.03.
    lines = proration_lines([], [Charge("new_0", volume, 10, tiers)], JAN_1, FEB_1, ts(2025, 1, 16))
    assert amounts(lines) == [("remaining", "new_0", 4129)]


@pytest.mark.parametrize("at", [JAN_1 - 1, FEB_1 + 1])
def test_an_instant_outside_the_period_is_refused(at: int):
    with pytest.raises(ValueError):
        remaining_share(JAN_1, FEB_1, at)


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=10**8),
    st.data(),
)
def test_credit_and_charge_of_the_same_amount_cancel(amount: int, length: int, data: st.DataObject):
    at = data.draw(st.integers(min_value=0, max_value=length))
    before = [Charge("si_1", price("a", amount), 1)]
    after = [Charge("si_1", price("b", amount), 1)]
    assert sum(line.amount for line in proration_lines(before, after, 0, length, at)) == 0
    assert 0 <= prorated(amount, 0, length, at) <= amount
