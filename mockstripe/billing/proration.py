"""Proration: what a licensed item's change mid-period credits and charges, to the second.

A change at instant `at` inside the period `[start, end)` credits the old item for its unused time and
charges the new one for the remaining time, each as `amount x (end - at) / (end - start)`; the two
are separate lines, each rounded to a whole minor unit on its own (so an unchanged item's credit and
charge cancel exactly). Metered items never prorate: their usage bills at period end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, Literal

from .pricing import ROUNDING, amount_for

# Enough digits for a 12-decimal price times a large quantity times a ratio of two second counts.
_PRECISION = 60


@dataclass(frozen=True)
class Charge:
    """A licensed item as billed for a whole period: its price and quantity. `key` names the item
    (its id, or the index of a new item) so the lines can be tied back to it."""

    key: str
    price: Mapping[str, Any]
    quantity: int
    tiers: Sequence[Mapping[str, Any]] | None = None

    def period_amount(self) -> int:
        """What the whole period costs, in minor units."""
        return amount_for(self.price, self.quantity, self.tiers)


@dataclass(frozen=True)
class ProrationLine:
    """One proration: `unused` (a credit, negative amount) for the old charge, or `remaining` (a
    positive amount) for the new one, covering `[at, end)`."""

    kind: Literal["unused", "remaining"]
    charge: Charge
    amount: int
    start: int
    end: int


def remaining_share(start: int, end: int, at: int) -> Decimal:
    """The part of `[start, end)` left after `at`, as an exact-enough fraction in [0, 1]."""
    if not start <= at <= end or start >= end:
        raise ValueError(f"proration instant {at} outside the period [{start}, {end})")
    with localcontext(prec=_PRECISION):
        return Decimal(end - at) / Decimal(end - start)


def prorated(amount: int, start: int, end: int, at: int) -> int:
    """`amount` (a whole period's) for the time left after `at`, rounded to a whole minor unit."""
    with localcontext(prec=_PRECISION):
        exact = Decimal(amount) * remaining_share(start, end, at)
        return int(exact.quantize(Decimal(1), rounding=ROUNDING))


def proration_lines(
    before: Sequence[Charge], after: Sequence[Charge], start: int, end: int, at: int
) -> list[ProrationLine]:
    """The prorations of replacing the licensed charges `before` by `after` at `at`: a credit for every
    old charge that changed or went, then a charge for every new or changed one. Charges kept as they
    were (same key, price and quantity) prorate nothing. No line is made for time that is not left
    (`at == end`) or for a zero amount."""
    kept = {c.key: c for c in before}
    unchanged = {c.key for c in after if _same(kept.get(c.key), c)}
    changed_before = [c for c in before if c.key not in unchanged]
    changed_after = [c for c in after if c.key not in unchanged]
    lines = [
        ProrationLine("unused", c, -prorated(c.period_amount(), start, end, at), at, end) for c in changed_before
    ] + [ProrationLine("remaining", c, prorated(c.period_amount(), start, end, at), at, end) for c in changed_after]
    return [line for line in lines if line.amount]


def _same(old: Charge | None, new: Charge) -> bool:
    return old is not None and old.price.get("id") == new.price.get("id") and old.quantity == new.quantity
