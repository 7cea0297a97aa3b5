"""Usage thresholds on subscriptions (classic billing mode): `billing_thresholds.amount_gte` on the
subscription and `billing_thresholds.usage_gte` on its metered items.

When usage arrives and the usage not yet billed in the period reaches a threshold, the
subscription is invoiced at once (`billing_reason: subscription_threshold`, with its
`threshold_reason`) for the unbilled usage of every metered item, and that usage is not billed
again at the end of the period (`invoices.ThresholdBilling`). With
`reset_billing_cycle_anchor`, the threshold invoice also starts a new billing cycle then: the
billing cycle anchor moves to that moment, every item's period restarts from it, and licensed
items are billed as when a cycle is reset on update (their unused time credited, their new period
charged in advance). `Thresholds`
(`account.service(Thresholds)`) watches the meters of such subscriptions through `Metering`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..store import BY_THE_SERVER, Account
from ..wire.ids import new_id
from . import discounts as discounting
from . import invoices as invoicing
from . import prorations
from .metering import Metering
from .subscriptions import ItemChanges, is_metered, natural_period_end

Obj = dict[str, Any]

_ENDED = frozenset({"canceled", "incomplete_expired"})


class Thresholds:
    """Subscriptions with usage thresholds, by (meter id, customer id)."""

    def __init__(self) -> None:
        self._watching: dict[tuple[str, str], list[str]] = {}

    def watch(self, account: Account, subscription: Obj) -> None:
        """Evaluate the subscription's thresholds whenever usage of its metered items' meters arrives."""
        for item in subscription["items"]["data"]:
            if is_metered(item["price"]):
                meter_id = item["price"]["recurring"]["meter"]
                watching = self._watching.setdefault((meter_id, subscription["customer"]), [])
                if subscription["id"] not in watching:
                    watching.append(subscription["id"])
                account.service(Metering).watch(meter_id, self.evaluate)

    def evaluate(self, account: Account, meter: Obj, customer_id: str) -> None:
        for subscription_id in self._watching.get((meter["id"], customer_id), ()):
            subscription = account.find("subscription", subscription_id)
            if subscription is not None and subscription["status"] not in _ENDED:
                _invoice_if_reached(account, subscription)


def _invoice_if_reached(account: Account, subscription: Obj) -> None:
    customer = account.find("customer", subscription["customer"])
    if customer is None:
        return
    now = account.clock_for(customer).now()
    invoice_id = new_id("in")
    billed = invoicing.account_billing(account)
    lines, reasons, totals = [], [], {}
    for item in subscription["items"]["data"]:
        if not is_metered(item["price"]):
            continue
        start, end = item["current_period_start"], item["current_period_end"]
        totals[item["id"]] = used = invoicing.usage(account, customer["id"], item["price"], start, end)
        unbilled = max(used - billed.billed(item["id"], start), Decimal(0))
        entry = invoicing.line(account, subscription, item, unbilled, (start, now), invoice_id=invoice_id, id_prefix="il")
        lines.append(entry)
        usage_gte = (item["billing_thresholds"] or {}).get("usage_gte")
        if usage_gte is not None and unbilled >= usage_gte:
            reasons.append({"line_item_ids": [entry["id"]], "usage_gte": usage_gte})
    amount_gte = (subscription["billing_thresholds"] or {}).get("amount_gte")
    amount_reached = amount_gte is not None and sum(entry["amount"] for entry in lines) >= amount_gte
    if not (amount_reached or reasons):
        return
    reset = bool((subscription["billing_thresholds"] or {}).get("reset_billing_cycle_anchor"))
    with account.caused_by(BY_THE_SERVER):
        for item in subscription["items"]["data"]:
            if item["id"] in totals:
                billed.bill(item["id"], item["current_period_start"], totals[item["id"]])
        items = _new_cycle(account, subscription, customer, invoice_id, lines, now) if reset else None
        invoice = invoicing.build_invoice(
            account,
            invoice_id, subscription, lines,
            billing_reason="subscription_threshold", created=now,
            period=(min(entry["period"]["start"] for entry in lines), now), customer=customer,
            discounts=discounting.invoice_discounts(account, subscription, customer, now),
        )
        invoice["threshold_reason"] = {"amount_gte": amount_gte if amount_reached else None, "item_reasons": reasons}
        invoicing.issue(account, (invoice, lines), customer, now, charge=True, off_session=True, retries=True)
        if items is None:
            account.update(subscription, {"latest_invoice": invoice_id})
        else:
            items.tell(billing_cycle_anchor=now, latest_invoice=invoice_id)


# UNSURE: Stripe's lines for licensed items when a threshold resets the billing cycle; these are the
# ones an update resetting the cycle makes (`proration_behavior=create_prorations`).
def _new_cycle(account: Account, subscription: Obj, customer: Obj, invoice_id: str, lines: list[Obj], now: int) -> ItemChanges:
    """Start the subscription's items on a new period at `now` (told with the returned changes), and
    add to the threshold invoice's `lines` the licensed items' unused time and new period."""
    prorations.credit_unused(account, subscription, customer, now)
    items = ItemChanges(account, subscription)
    for item in subscription["items"]["data"]:
        end = natural_period_end(now, item["price"])
        if is_metered(item["price"]):
            # Usage already recorded at or after `now` was billed by this invoice, not by the new period's.
            overlap = invoicing.usage(account, customer["id"], item["price"], now, item["current_period_end"])
            invoicing.account_billing(account).bill(item["id"], now, overlap)
        items.update(item, {"current_period_start": now, "current_period_end": end})
        if not is_metered(item["price"]):
            lines.append(
                invoicing.line(
                    account, subscription, item, item["quantity"], (now, end), invoice_id=invoice_id, id_prefix="il"
                )
            )
    pending = invoicing.pending_items(account, customer["id"], subscription["currency"])
    lines += [invoicing.item_line(item, invoice_id) for item in pending]
    return items
