from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from mockstripe.billing.discounts import Off, line_discounts, percent_of, round_amount, spread
from mockstripe.billing.taxes import Rate, Tax, line_taxes


def test_money_rounds_half_up():
    assert round_amount(Fraction(5, 2)) == 3
    assert round_amount(Fraction(249, 100)) == 2
    assert percent_of(1999, 25) == 500  # 499.75
    assert percent_of(1998, 25) == 500  # 499.5 rounds up
    assert percent_of(1000, Decimal("12.5")) == 125


def test_spread_by_largest_remainder_adds_up():
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(10, [3, 0, 1]) == [8, 0, 2]  # 7.5 and 2.5: the earlier line takes the odd cent
    assert spread(-10, [1, 1]) == [-5, -5]
    assert spread(7, [0, 0]) == [0, 0]


def test_a_percentage_is_taken_of_the_eligible_lines_only():
    every = [True, True, True]
    assert line_discounts([1000, 2000, 3000], [Off(every, percent_off=25)]) == [[250], [500], [750]]
    only_second = [False, True, False]
    assert line_discounts([1000, 2000, 3000], [Off(only_second, percent_off=10)]) == [[0], [200], [0]]


def test_a_fixed_amount_is_spread_in_proportion_and_never_exceeds_the_lines():
    assert line_discounts([1000, 3000], [Off([True, True], amount_off=1000)]) == [[250], [750]]
    assert line_discounts([300, 200], [Off([True, True], amount_off=5000)]) == [[300], [200]]


def test_discounts_stack_on_what_the_previous_ones_left():
    offs = [Off([True], amount_off=1000), Off([True], percent_off=50)]
    assert line_discounts([5000], offs) == [[1000, 2000]]


def test_credit_lines_are_never_discounted():
    assert line_discounts([1000, -500], [Off([True, True], percent_off=10)]) == [[100], [0]]


@given(
    st.lists(st.integers(min_value=-10_000, max_value=10_000_000), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=10_000_000),
    st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
)
def test_discounts_add_up_and_stay_within_each_line(amounts, amount_off, percent):
    every = [True] * len(amounts)
    offs = [Off(every, amount_off=amount_off), Off(every, percent_off=percent)]
    per_line = line_discounts(amounts, offs)
    for amount, parts in zip(amounts, per_line, strict=True):
        assert all(part >= 0 for part in parts)
        assert sum(parts) <= max(0, amount)
    positive = sum(max(0, a) for a in amounts)
    assert sum(parts[0] for parts in per_line) == min(amount_off, positive)


def test_exclusive_tax_is_added_on_top():
    assert line_taxes(1000, [Rate(19, inclusive=False)]) == [Tax(amount=190, taxable_amount=1000)]
    assert line_taxes(999, [Rate(Decimal("7.25"), inclusive=False)]) == [Tax(amount=72, taxable_amount=999)]


def test_inclusive_tax_is_inside_the_amount():
    # 1000 / 1.19 = 840.34 -> 840 before tax; the 160 left is the tax.
    assert line_taxes(1000, [Rate(19, inclusive=True)]) == [Tax(amount=160, taxable_amount=840)]


def test_inclusive_and_exclusive_together():
    # 1100 / 1.10 = 1000 before tax: 100 inclusive, and 5 % exclusive of 1000.
    assert line_taxes(1100, [Rate(10, inclusive=True), Rate(5, inclusive=False)]) == [
        Tax(amount=100, taxable_amount=1000),
        Tax(amount=50, taxable_amount=1000),
    ]


@given(
    st.integers(min_value=-1_000_000, max_value=10_000_000),
    st.lists(st.decimals(min_value=0, max_value=100, places=4), min_size=1, max_size=3),
)
def test_inclusive_taxes_and_the_amount_before_tax_add_up_to_the_amount(amount, percents):
    taxes = line_taxes(amount, [Rate(p, inclusive=True) for p in percents])
    assert taxes[0].taxable_amount + sum(tax.amount for tax in taxes) == amount
