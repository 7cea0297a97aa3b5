"""What a quantity of usage costs under a Stripe price, in the currency's minor unit.

Prices are the dicts the API renders (`billing_scheme`, `unit_amount[_decimal]`, `transform_quantity`,
`tiers_mode`); tiers are passed separately because they are stored apart from the rendered price. All
arithmetic is `Decimal`; the only rounding is to a whole minor unit at the very end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

# Stripe does not document how a fractional line amount is rounded; half-up is the common reading.
ROUNDING = ROUND_HALF_UP

# Whether zero usage still owes the first tier's flat fee. Unconfirmed against Stripe; with False, a
# period without usage always bills 0, under both tiers modes.
FLAT_FEE_AT_ZERO_USAGE = False

# Enough digits that products of 15-digit quantities and 12-decimal prices, and sums of them, are exact.
_PRECISION = 60


def billed_quantity(price: Mapping[str, Any], quantity: Decimal | int) -> Decimal:
    """The units a price charges for: usage clamped at 0 (a negative period sum bills nothing), then
    packaged by `transform_quantity` (quantity / divide_by, rounded up or down to whole packages)."""
    quantity = max(Decimal(quantity), Decimal(0))
    transform = price.get("transform_quantity")
    if transform is None:
        return quantity
    with localcontext(prec=_PRECISION):
        packages, remainder = divmod(quantity, Decimal(transform["divide_by"]))
        return packages + 1 if transform["round"] == "up" and remainder else packages


def amount_for(
    price: Mapping[str, Any], quantity: Decimal | int, tiers: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """The amount owed, in minor units, for `quantity` of usage under `price`."""
    with localcontext(prec=_PRECISION):
        units = billed_quantity(price, quantity)
        if price.get("billing_scheme") == "tiered":
            exact = _tiered(units, price.get("tiers_mode"), tiers)
        else:
            exact = units * _unit_amount(price)
        return int(exact.quantize(Decimal(1), rounding=ROUNDING))


def _tiered(units: Decimal, mode: str | None, tiers: Sequence[Mapping[str, Any]] | None) -> Decimal:
    if not tiers:
        raise ValueError("a tiered price needs its tiers")
    ordered = sorted(tiers, key=_sort_key)
    if ordered[-1]["up_to"] is not None:
        raise ValueError("the last tier must be unbounded (up_to: None)")
    if units == 0:
        return _flat_amount(ordered[0]) if FLAT_FEE_AT_ZERO_USAGE else Decimal(0)
    return _volume(units, ordered) if mode == "volume" else _graduated(units, ordered)


def _graduated(units: Decimal, tiers: Sequence[Mapping[str, Any]]) -> Decimal:
    """Tier i charges the units in `(up_to[i-1], up_to[i]]`, plus its flat fee if it has any of them."""
    total = Decimal(0)
    lower = Decimal(0)
    for tier in tiers:
        upper = tier["up_to"]
        top = units if upper is None else min(units, Decimal(upper))
        total += (top - lower) * _unit_amount(tier) + _flat_amount(tier)
        if top == units:
            break
        lower = top
    return total


def _volume(units: Decimal, tiers: Sequence[Mapping[str, Any]]) -> Decimal:
    """The first tier whose `up_to` reaches the quantity prices every unit."""
    tier = next(t for t in tiers if t["up_to"] is None or units <= t["up_to"])
    return units * _unit_amount(tier) + _flat_amount(tier)


def _sort_key(tier: Mapping[str, Any]) -> tuple[bool, int]:
    # `up_to: None` is the unbounded last tier.
    return (tier["up_to"] is None, tier["up_to"] or 0)


def _unit_amount(obj: Mapping[str, Any]) -> Decimal:
    return _decimal_amount(obj, "unit_amount")


def _flat_amount(tier: Mapping[str, Any]) -> Decimal:
    return _decimal_amount(tier, "flat_amount")


def _decimal_amount(obj: Mapping[str, Any], field: str) -> Decimal:
    """`<field>_decimal` (a string with up to 12 decimals) when set, else the integer `<field>`, else 0."""
    value = obj.get(f"{field}_decimal")
    if value is None:
        value = obj.get(field)
    return Decimal(0) if value is None else Decimal(value)
