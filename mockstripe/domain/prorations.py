"""Prorations of a subscription's changes mid-period: pending `proration` invoice items for the unused
time of what went and the remaining time of what came, and, under `always_invoice`, an invoice of
them now (`billing_reason: subscription_update`), charged at once.

Metered items never prorate: their usage up to the change still bills at the period's end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..billing.proration import Charge, ProrationLine, proration_lines
from ..store import Account
from ..wire.errors import invalid
from ..wire.ids import new_id
from . import collection
from . import invoices as invoicing
from .prices import price_tiers
from .subscriptions import is_metered, tax_rates_of

Obj = dict[str, Any]

PRORATION_DATE_BEFORE_START = (
    "Cannot specify proration date before the current subscription started"
)
# UNSURE: Stripe's wording for a proration date past the current period's end.
PRORATION_DATE_AFTER_END = "Cannot specify proration date after the current period ends"


class Proration:
    """A change to a subscription's items, prorated as `behavior` says: set up before the change (it
    checks `proration_date` and notes the items as they were), `settle` once the items changed and
    before the subscription's update is told, so that an invoice made now is its `latest_invoice`."""

    def __init__(
        self,
        account: Account,
        subscription: Obj,
        behavior: str | None,
        proration_date: int | None,
        now: int,
        *,
        param: str = "proration_date",
    ) -> None:
        self.account, self.subscription, self.now = account, subscription, now
        # A trial was never charged: a change during it has nothing to prorate.
        self.behavior = "none" if subscription["status"] == "trialing" else behavior or "create_prorations"
        self.at = proration_instant(subscription, proration_date, now, param)
        self.period = licensed_period(subscription)
        self.before = charges(account, subscription["items"]["data"])
        self.rates = rates_by_item(subscription, subscription["items"]["data"])

    def settle(self, items: list[Obj]) -> Obj:
        """Make the prorations of going to `items`; returns the subscription's changes (its new
        `latest_invoice` under `always_invoice`)."""
        if self.behavior == "none":
            return {}
        account, subscription = self.account, self.subscription
        customer = account.find("customer", subscription["customer"])
        assert customer is not None
        rates = {**self.rates, **rates_by_item(subscription, items)}
        create_items(account, subscription, customer, self.planned(items), self.now, rates)
        if self.behavior != "always_invoice":
            return {}
        invoice = invoice_now(account, subscription, customer, self.now)
        return {} if invoice is None else {"latest_invoice": invoice["id"]}

    def planned(self, items: list[Obj]) -> list[ProrationLine]:
        """The prorations going to `items` makes, none under `proration_behavior=none`."""
        if self.behavior == "none":
            return []
        return lines_for(
            self.before, charges(self.account, items), self.period, self.at
        )

    def preview_lines(
        self, items: list[Obj], customer: Obj, invoice_id: str
    ) -> list[Obj]:
        """The invoice lines of the prorations going to `items` would make, for a preview."""
        lines = []
        rates = {**self.rates, **rates_by_item(self.subscription, items)}
        for entry in self.planned(items):
            line = invoicing.item_line(
                _invoice_item(
                    self.account, self.subscription, customer, entry, self.now, rates
                ),
                invoice_id,
                id_prefix="il_tmp",
            )
            line["parent"]["subscription_item_details"]["invoice_item"] = (
                None  # no item exists yet
            )
            lines.append(line)
        return lines


def credit_unused(
    account: Account, subscription: Obj, customer: Obj, now: int, *, at: int | None = None
) -> list[Obj]:
    """A subscription canceled now with `prorate` (or set to cancel `at` a later time in its
    period): its licensed items' unused time from then, credited as pending proration items."""
    before = charges(account, subscription["items"]["data"])
    return create_items(
        account,
        subscription,
        customer,
        lines_for(before, [], licensed_period(subscription), now if at is None else at),
        now,
        rates_by_item(subscription, subscription["items"]["data"]),
    )


def rates_by_item(subscription: Obj, items: list[Obj]) -> dict[str, list[Obj]]:
    """The tax rates each item's prorations are taxed at."""
    return {item["id"]: tax_rates_of(subscription, item) for item in items}


def charges(account: Account, items: list[Obj]) -> list[Charge]:
    """The licensed items among `items`, as the maths prices them."""
    return [
        Charge(
            item["id"],
            item["price"],
            item["quantity"],
            price_tiers(account, item["price"]["id"]),
        )
        for item in items
        if not is_metered(item["price"])
    ]


def licensed_period(subscription: Obj) -> tuple[int, int] | None:
    """The current period of the subscription's licensed items (they share the billing cycle anchor),
    or None if it has none."""
    periods = {
        (item["current_period_start"], item["current_period_end"])
        for item in subscription["items"]["data"]
        if not is_metered(item["price"])
    }
    return min(periods) if periods else None


def proration_instant(
    subscription: Obj,
    proration_date: int | None,
    now: int,
    param: str = "proration_date",
) -> int:
    """When the change takes effect for prorating: `proration_date` if given (within the current
    period, and not before the subscription started), else now."""
    if proration_date is None:
        return now
    period = licensed_period(subscription) or (subscription["start_date"], now)
    if proration_date < max(period[0], subscription["start_date"]):
        raise invalid(PRORATION_DATE_BEFORE_START, param=param)
    if proration_date > period[1]:
        raise invalid(PRORATION_DATE_AFTER_END, param=param)
    return proration_date


def lines_for(
    before: list[Charge], after: list[Charge], period: tuple[int, int] | None, at: int
) -> list[ProrationLine]:
    """The prorations of going from `before` to `after` at `at` (none without a licensed period)."""
    if period is None or not period[0] <= at <= period[1]:
        return []
    return proration_lines(before, after, period[0], period[1], at)


def create_items(
    account: Account,
    subscription: Obj,
    customer: Obj,
    lines: list[ProrationLine],
    now: int,
    rates: dict[str, list[Obj]],
) -> list[Obj]:
    """Store one pending `proration` invoice item per line, taxed at its item's `rates`."""
    return [
        account.create(_invoice_item(account, subscription, customer, entry, now, rates))
        for entry in lines
    ]


def invoice_now(
    account: Account, subscription: Obj, customer: Obj, now: int
) -> Obj | None:
    """Invoice the subscription's pending prorations now (`always_invoice`): finalized and charged at
    once. None when there are none."""
    pending = [
        item
        for item in invoicing.pending_items(
            account, customer["id"], subscription["currency"]
        )
        if item["proration"]
        and (item["parent"] or {}).get("subscription_details", {}).get("subscription")
        == subscription["id"]
    ]
    if not pending:
        return None
    invoice_id = new_id("in")
    lines = [invoicing.item_line(item, invoice_id) for item in pending]
    invoice = invoicing.build_invoice(
        account,
        invoice_id,
        subscription,
        lines,
        billing_reason="subscription_update",
        created=now,
        period=(now, now),
        customer=customer,
    )
    stored = invoicing.store(account, (invoice, lines))
    outcome = invoicing.finalize(account, stored, customer, now)
    if outcome is not None:
        collection.settle_subscription(account, stored, outcome, now)
    return stored


def _invoice_item(
    account: Account, subscription: Obj, customer: Obj, entry: ProrationLine, now: int, rates: dict[str, list[Obj]]
) -> Obj:
    price = entry.charge.price
    return {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": entry.amount,
        "currency": price["currency"],
        "customer": customer["id"],
        "customer_account": None,
        "date": now,
        "description": describe(account, entry),
        "discountable": False,
        "discounts": [],
        "frozen_fields": None,
        "invoice": None,
        "invoicing_rules": None,
        "livemode": False,
        "metadata": {},
        "net_amount": entry.amount,
        "parent": {
            "subscription_details": {
                "subscription": subscription["id"],
                "subscription_item": entry.charge.key,
            },
            "type": "subscription_details",
        },
        "period": {"end": entry.end, "start": entry.start},
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "proration": True,
        "proration_details": {"credited_items": None, "discount_amounts": []},
        "quantity": entry.charge.quantity,
        "quantity_decimal": str(entry.charge.quantity),
        "tax_rates": [dict(rate) for rate in rates.get(entry.charge.key, [])],
        "test_clock": customer["test_clock"],
    }


def describe(account: Account, entry: ProrationLine) -> str:
    """`Unused time on 5 × Seat after 11 Jan 2025`, `Remaining time on Pro after 16 Jan 2025`."""
    product = account.find("product", entry.charge.price["product"])
    name = product["name"] if product is not None else entry.charge.price["product"]
    what = name if entry.charge.quantity == 1 else f"{entry.charge.quantity} × {name}"
    when = datetime.fromtimestamp(entry.start, UTC)
    kind = "Unused" if entry.kind == "unused" else "Remaining"
    return f"{kind} time on {what} after {when.day} {when:%b %Y}"
