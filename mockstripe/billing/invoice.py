"""Invoice totals from line amounts, billing credits and the customer's balance (no tax or discounts yet).

A customer balance is negative when it is a credit to the customer and positive when the customer
owes it; it is added to the total, and a credit larger than the total leaves nothing due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class InvoiceTotals:
    """The invoice's amount fields, in minor units, named as Stripe names them."""

    subtotal: int
    subtotal_excluding_tax: int
    total: int
    total_excluding_tax: int
    starting_balance: int
    amount_due: int
    amount_paid: int
    amount_remaining: int

    def as_fields(self) -> dict[str, int]:
        return asdict(self)


def invoice_totals(line_amounts: Iterable[int], starting_balance: int = 0, credits: int = 0) -> InvoiceTotals:
    """Totals of an unpaid invoice whose lines are `line_amounts`, less `credits` (billing credits,
    taken before tax), for a customer whose balance is `starting_balance`."""
    subtotal = sum(line_amounts)
    # Without tax or discounts the total is the subtotal less credits; they would be applied here.
    total = subtotal - credits
    amount_due = max(0, total + starting_balance)
    return InvoiceTotals(
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal,
        total=total,
        total_excluding_tax=total,
        starting_balance=starting_balance,
        amount_due=amount_due,
        amount_paid=0,
        amount_remaining=amount_due,
    )
