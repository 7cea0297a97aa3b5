"""Invoice totals from line amounts, discounts, billing credits, tax rates' taxes and the customer's
balance.

A line's own discounts (of its subscription item or invoice item) are inside the subtotal; the
invoice's discounts come off the subtotal, before tax.

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


def invoice_totals(
    line_amounts: Iterable[int],
    starting_balance: int = 0,
    credits: int = 0,
    *,
    exclusive_tax: int = 0,
    inclusive_tax: int = 0,
    line_discounts: int = 0,
    invoice_discounts: int = 0,
) -> InvoiceTotals:
    """Totals of an unpaid invoice whose lines are `line_amounts`, less the lines' own discounts,
    the invoice's discounts and `credits` (billing credits), all taken before tax, for a customer
    whose balance is `starting_balance`. Exclusive tax comes on top of the lines; inclusive tax is
    already inside them."""
    subtotal = sum(line_amounts) - line_discounts
    total_excluding_tax = subtotal - invoice_discounts - credits - inclusive_tax
    total = subtotal - invoice_discounts - credits + exclusive_tax
    amount_due = max(0, total + starting_balance)
    return InvoiceTotals(
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal - inclusive_tax,
        total=total,
        total_excluding_tax=total_excluding_tax,
        starting_balance=starting_balance,
        amount_due=amount_due,
        amount_paid=0,
        amount_remaining=amount_due,
    )
