"""Tax rates on invoice lines: each line's `taxes` and the invoice's `total_taxes` and tax sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..billing.invoice import invoice_totals
from ..billing.taxes import Rate, line_taxes

Obj = dict[str, Any]


@dataclass
class InvoiceTaxes:
    """The taxes of one invoice's lines, summed per rate and per behaviour."""

    total_taxes: list[Obj] = field(default_factory=list)
    exclusive: int = 0
    inclusive: int = 0


def line_taxes_of(amount: int, rates: list[Obj]) -> list[Obj]:
    """The `taxes` of a line of `amount` under `rates` (tax rate objects), in their order."""
    taxes = line_taxes(amount, [Rate(rate["percentage"], rate["inclusive"]) for rate in rates])
    return [
        {
            "amount": tax.amount,
            "tax_behavior": "inclusive" if rate["inclusive"] else "exclusive",
            "tax_rate_details": {"tax_rate": rate["id"]},
            "taxability_reason": "not_available",
            "taxable_amount": tax.taxable_amount,
            "type": "tax_rate_details",
        }
        for rate, tax in zip(rates, taxes, strict=True)
    ]


def invoice_taxes(lines: list[Obj]) -> InvoiceTaxes:
    """The invoice's `total_taxes` (one entry per rate, in the order rates first appear) and sums."""
    summed = InvoiceTaxes()
    by_rate: dict[str, Obj] = {}
    for entry in lines:
        for tax in entry["taxes"]:
            rate_id = tax["tax_rate_details"]["tax_rate"]
            total = by_rate.get(rate_id)
            if total is None:
                total = by_rate[rate_id] = {**tax, "amount": 0, "taxable_amount": 0}
                summed.total_taxes.append(total)
            total["amount"] += tax["amount"]
            total["taxable_amount"] += tax["taxable_amount"]
            if tax["tax_behavior"] == "inclusive":
                summed.inclusive += tax["amount"]
            else:
                summed.exclusive += tax["amount"]
    return summed


def taxed_totals(lines: list[Obj], starting_balance: int, credits: int = 0) -> Obj:
    """An invoice's totals with its lines' discounts and taxes, less `credits`, with its
    `total_discount_amounts` (one entry per discount, in the order they first appear) and
    `total_taxes`, as invoice fields."""
    taxes = invoice_taxes(lines)
    by_discount: dict[str, Obj] = {}
    line_discounts = invoice_discounts = 0
    for entry in lines:
        for taken in entry["discount_amounts"]:
            total = by_discount.setdefault(taken["discount"], {"amount": 0, "discount": taken["discount"]})
            total["amount"] += taken["amount"]
            if taken["discount"] in entry["discounts"]:
                line_discounts += taken["amount"]
            else:
                invoice_discounts += taken["amount"]
    totals = invoice_totals(
        (entry["amount"] for entry in lines),
        starting_balance,
        credits,
        exclusive_tax=taxes.exclusive,
        inclusive_tax=taxes.inclusive,
        line_discounts=line_discounts,
        invoice_discounts=invoice_discounts,
    )
    return {**totals.as_fields(), "total_discount_amounts": list(by_discount.values()), "total_taxes": taxes.total_taxes}
