from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockstripe.billing.pricing import amount_for, billed_quantity


def per_unit(unit_amount=None, unit_amount_decimal=None, transform=None):
    if unit_amount is not None and unit_amount_decimal is None:
        unit_amount_decimal = str(unit_amount)  # as the API renders it
    return {
        "billing_scheme": "per_unit",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
        "transform_quantity": transform,
        "tiers_mode": None,
    }


def tiered(mode):
    return {
        "billing_scheme": "tiered",
        "unit_amount": None,
        "unit_amount_decimal": None,
        "transform_quantity": None,
        "tiers_mode": mode,
    }


def tier(up_to, unit=None, flat=None, unit_decimal=None, flat_decimal=None):
    return {
        "up_to": up_to,
        "unit_amount": unit,
        "unit_amount_decimal": unit_decimal if unit_decimal is not None else (None if unit is None else str(unit)),
        "flat_amount": flat,
        "flat_amount_decimal": flat_decimal if flat_decimal is not None else (None if flat is None else str(flat)),
    }


PACKAGE_UP = per_unit(4, transform={"divide_by": 100, "round": "up"})
PACKAGE_DOWN = per_unit(4, transform={"divide_by": 100, "round": "down"})
PER_TOKEN = per_unit(unit_amount_decimal="0.04")


@pytest.mark.parametrize("usage, amount", [(25, 4), (250, 12), (1_000_001, 40_004), (0, 0), (100, 4), (101, 8)])
def test_package_price_rounding_up(usage, amount):
    assert amount_for(PACKAGE_UP, Decimal(usage)) == amount


@pytest.mark.parametrize("usage, amount", [(25, 0), (250, 8), (1_000_001, 40_000), (99, 0), (100, 4)])
def test_package_price_rounding_down(usage, amount):
    assert amount_for(PACKAGE_DOWN, Decimal(usage)) == amount


@pytest.mark.parametrize("usage, amount", [(25, 1), (250, 10), (1_000_001, 40_000), (1_000_013, 40_001)])
def test_decimal_unit_amount_rounds_once_at_the_end(usage, amount):
    # 1,000,001 × 0.04 = 40,000.04 → 40,000; 1,000,013 × 0.04 = 40,000.52 → 40,001.
    assert amount_for(PER_TOKEN, Decimal(usage)) == amount


def test_half_a_minor_unit_rounds_up():
    assert amount_for(per_unit(unit_amount_decimal="0.5"), Decimal(1)) == 1
    assert amount_for(per_unit(unit_amount_decimal="0.5"), Decimal(3)) == 2


def test_unit_amount_alone_is_used_when_decimal_is_absent():
    price = per_unit(7)
    price["unit_amount_decimal"] = None
    assert amount_for(price, 3) == 21


def test_large_usage_is_exact():
    price = per_unit(unit_amount_decimal="0.000000000001")  # 12 decimals
    assert amount_for(price, Decimal("999999999999999")) == 1000
    assert amount_for(per_unit(3), Decimal(10**15)) == 3 * 10**15


def test_fractional_usage():
    assert amount_for(per_unit(10), Decimal("2.5")) == 25
    assert amount_for(PACKAGE_UP, Decimal("0.5")) == 4


def test_negative_usage_bills_nothing():
    assert amount_for(per_unit(5), Decimal(-10)) == 0
    assert amount_for(PACKAGE_UP, Decimal(-1)) == 0
    assert amount_for(tiered("graduated"), Decimal(-3), [tier(None, 1, flat=100)]) == 0


def test_billed_quantity():
    assert billed_quantity(PACKAGE_UP, Decimal(1_000_001)) == 10_001
    assert billed_quantity(PACKAGE_DOWN, Decimal(1_000_001)) == 10_000
    assert billed_quantity(PER_TOKEN, Decimal("2.5")) == Decimal("2.5")
    assert billed_quantity(PER_TOKEN, Decimal(-4)) == 0


GRADUATED_TIERS = [
    tier(10, 100, flat=50),
    tier(20, 80),
    tier(None, 50, flat=7),
]


@pytest.mark.parametrize(
    "usage, amount",
    [
        (0, 0),
        (1, 100 + 50),
        (10, 1_000 + 50),
        (11, 1_000 + 50 + 80),
        (20, 1_000 + 50 + 800),
        (21, 1_000 + 50 + 800 + 50 + 7),
        (35, 1_000 + 50 + 800 + 15 * 50 + 7),
    ],
)
def test_graduated(usage, amount):
    assert amount_for(tiered("graduated"), Decimal(usage), GRADUATED_TIERS) == amount


def test_tiers_may_come_in_any_order():
    assert amount_for(tiered("graduated"), 21, list(reversed(GRADUATED_TIERS))) == 1_907


@pytest.mark.parametrize(
    "usage, amount",
    [(0, 0), (1, 150), (10, 1_050), (11, 880), (20, 1_600), (21, 21 * 50 + 7)],
)
def test_volume(usage, amount):
    assert amount_for(tiered("volume"), Decimal(usage), GRADUATED_TIERS) == amount


def test_tier_decimal_amounts():
    tiers = [tier(1000, unit_decimal="0.015", flat_decimal="0.4"), tier(None, unit_decimal="0.01")]
    # 1000 × 0.015 + 0.4 + 500 × 0.01 = 20.4 → 20
    assert amount_for(tiered("graduated"), 1_500, tiers) == 20
    # 1500 × 0.01 = 15
    assert amount_for(tiered("volume"), 1_500, tiers) == 15


def test_tiered_price_without_tiers_is_an_error():
    with pytest.raises(ValueError):
        amount_for(tiered("graduated"), 1)


@pytest.mark.parametrize("mode", ["graduated", "volume"])
def test_tiers_without_an_unbounded_last_tier_are_an_error(mode):
    with pytest.raises(ValueError):
        amount_for(tiered(mode), 5, [tier(10, 1)])


# Tier tables with non-negative prices: 1..4 bounded tiers then an unbounded one.
amounts = st.integers(min_value=0, max_value=10_000)
decimal_amounts = st.decimals(min_value=0, max_value=100, places=3)


@st.composite
def tier_tables(draw):
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=1_000), min_size=0, max_size=4)))
    tiers = [tier(up_to, draw(amounts), flat=draw(amounts)) for up_to in bounds]
    tiers.append(tier(None, draw(amounts), flat=draw(amounts)))
    return tiers


usages = st.integers(min_value=0, max_value=2_000)


@settings(max_examples=200)
@given(tiers=tier_tables(), usage=usages)
def test_graduated_is_the_sum_of_per_tier_parts(tiers, usage):
    expected, lower = 0, 0
    for t in tiers:
        upper = usage if t["up_to"] is None else min(usage, t["up_to"])
        if upper > lower:
            expected += (upper - lower) * t["unit_amount"] + t["flat_amount"]
            lower = upper
    assert amount_for(tiered("graduated"), Decimal(usage), tiers) == expected


@settings(max_examples=200)
@given(tiers=tier_tables(), a=usages, b=usages)
def test_graduated_is_monotone(tiers, a, b):
    low, high = sorted((a, b))
    price = tiered("graduated")
    assert amount_for(price, low, tiers) <= amount_for(price, high, tiers)


@settings(max_examples=200)
@given(unit=amounts, flat=amounts, usage=usages)
def test_one_tier_volume_equals_graduated(unit, flat, usage):
    tiers = [tier(None, unit, flat=flat)]
    assert amount_for(tiered("volume"), usage, tiers) == amount_for(tiered("graduated"), usage, tiers)


@settings(max_examples=200)
@given(
    unit=decimal_amounts,
    divide_by=st.integers(min_value=1, max_value=10_000),
    usage=st.decimals(min_value=-1_000, max_value=10**9, places=2),
)
def test_round_up_never_bills_less_than_round_down(unit, divide_by, usage):
    up = per_unit(unit_amount_decimal=str(unit), transform={"divide_by": divide_by, "round": "up"})
    down = per_unit(unit_amount_decimal=str(unit), transform={"divide_by": divide_by, "round": "down"})
    assert amount_for(down, usage) <= amount_for(up, usage)
    assert billed_quantity(up, usage) - billed_quantity(down, usage) in (0, 1)
