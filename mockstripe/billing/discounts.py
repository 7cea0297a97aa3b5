"""Discount maths: how much each coupon takes off each invoice line, in minor units.

A discount applies to the lines it is eligible for (all of them, or those of the coupon's
`applies_to.products`). A percentage is taken of the eligible amount still left after the discounts
before it; a fixed amount is taken whole, never more than what is left. The discount's total is then
spread over its eligible lines in proportion to what is left on each, the cents left over by rounding
going to the lines with the largest remainders (earlier lines first on ties), so the lines' amounts
always add up to the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# UNSURE: Stripe rounds fractional cents to the nearest cent; halves are taken to round up.
ROUNDING = ROUND_HALF_UP


def round_amount(value: Fraction) -> int:
    """`value` (minor units) rounded to a whole minor unit, as Stripe rounds money."""
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1), rounding=ROUNDING))


def percent_of(amount: int, percent: Decimal | float) -> int:
    """`percent` % of `amount`, rounded."""
    return round_amount(Fraction(amount) * Fraction(Decimal(str(percent))) / 100)


@dataclass(frozen=True)
class Off:
    """What one discount takes off: `percent_off` or `amount_off`, on the lines it is eligible for
    (`eligible[i]` for line i)."""

    eligible: Sequence[bool]
    percent_off: Decimal | float | None = None
    amount_off: int | None = None


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (non-negative), by largest remainder."""
    if total < 0:
        return [-part for part in spread(-total, weights)]
    whole = sum(weights)
    if whole <= 0 or total == 0:
        return [0] * len(weights)
    shares = [Fraction(total * weight, whole) for weight in weights]
    parts = [int(share) for share in shares]
    left = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def line_discounts(line_amounts: Sequence[int], offs: Sequence[Off]) -> list[list[int]]:
    """For each line, the amount each discount (in the order given) takes off it.

    Lines with a negative amount (credits) are never discounted, and no line is discounted below zero."""
    left = [max(0, amount) for amount in line_amounts]
    result: list[list[int]] = [[] for _ in line_amounts]
    for off in offs:
        weights = [left[i] if off.eligible[i] else 0 for i in range(len(left))]
        eligible_total = sum(weights)
        if off.percent_off is not None:
            total = percent_of(eligible_total, off.percent_off)
        else:
            total = min(off.amount_off or 0, eligible_total)
        parts = spread(total, weights)
        for i, part in enumerate(parts):
            result[i].append(part)
            left[i] -= part
    return result
