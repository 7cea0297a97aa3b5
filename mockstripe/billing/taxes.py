"""Tax maths: the tax each rate charges on one invoice line, after its discounts, in minor units.

An exclusive rate adds its percentage on top of the line's amount. An inclusive rate's tax is already
inside the amount: with inclusive rates summing to S %, the amount before tax is `amount / (1 + S/100)`
rounded, and the rest of the amount is the inclusive tax, split between the inclusive rates in
proportion to their percentages (so the amount before tax and the taxes add up to the amount).
Exclusive rates are taken of the amount before inclusive tax, each rounded on its own (see
`discounts.ROUNDING`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .discounts import round_amount, spread


@dataclass(frozen=True)
class Rate:
    percentage: Decimal | float
    inclusive: bool


@dataclass(frozen=True)
class Tax:
    """One rate's tax on one line: `amount`, on `taxable_amount` (the line's amount before any tax)."""

    amount: int
    taxable_amount: int


def line_taxes(amount: int, rates: Sequence[Rate]) -> list[Tax]:
    """The tax each of `rates` charges on a line of `amount` (already discounted), in order."""
    percents = [Fraction(Decimal(str(rate.percentage))) for rate in rates]
    inclusive = [percent if rate.inclusive else Fraction(0) for rate, percent in zip(rates, percents, strict=True)]
    taxable_amount = round_amount(Fraction(amount) / (1 + sum(inclusive, Fraction(0)) / 100))
    # Percentages with up to 4 decimals: scaled to whole weights for the split.
    inclusive_taxes = spread(amount - taxable_amount, [int(percent * 10_000) for percent in inclusive])
    return [
        Tax(
            amount=inclusive_tax if rate.inclusive else round_amount(taxable_amount * percent / 100),
            taxable_amount=taxable_amount,
        )
        for rate, percent, inclusive_tax in zip(rates, percents, inclusive_taxes, strict=True)
    ]
