"""Subscriptions and their items as stored objects: the rules items follow, periods, building.

Shared by `/v1/subscriptions`, `/v1/subscription_items` and the invoice preview (which builds a
subscription it never stores). An item embeds the stored price object itself, so later price
updates (metadata, nickname) show through, plus a `plan` mirror of it for older integrations. A
subscription lists the very item dicts the item collection holds, so an update shows in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import orjson

from ..billing.periods import boundary, period_containing
from ..store import Account
from ..wire.errors import StripeError, invalid
from ..wire.ids import new_id

Obj = dict[str, Any]

# Stripe has used two wordings for this over the years; this is the one of the subscriptions API.
METERED_QUANTITY = "You cannot set the quantity for metered plans."
SAME_PRICE_TWICE = "Cannot add multiple subscription items with the same plan: {}"
# Whether a metered item renders `quantity: null` (chosen) rather than leaving the field out: the
# SDK's `item.quantity` then reads None instead of raising AttributeError.
METERED_ITEM_QUANTITY: int | None = None


@dataclass(frozen=True)
class ItemRequest:
    """One item as asked for: `path` is where its params sat (`items[0]`, or "" on its own endpoint)."""

    path: str
    price: Obj
    quantity: int | None
    metadata: dict[str, str | None] | None = None
    tax_rates: list[Obj] | None = None  # the tax rate objects, overriding the subscription's defaults


def at(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def is_metered(price: Obj) -> bool:
    return price["recurring"]["usage_type"] == "metered"


def check_items(requests: list[ItemRequest], currency: str, taken: Iterable[str] = ()) -> None:
    """Every rule an item must satisfy; `taken` holds the prices the subscription already has."""
    seen = set(taken)
    for request in requests:
        price, param = request.price, at(request.path, "price")
        if price["type"] != "recurring":
            raise invalid(
                "The price specified is set to `type=one_time` but this field only accepts prices with "
                "`type=recurring`.",
                param=param,
            )
        if not price["active"]:
            raise invalid("The price specified is inactive. This field only accepts active prices.", param=param)
        if is_metered(price) and request.quantity is not None:
            raise invalid(METERED_QUANTITY, param=at(request.path, "quantity"))
        _check_currency(price, currency, param)
        if price["id"] in seen:
            raise invalid(SAME_PRICE_TWICE.format(price["id"]), param=param)
        seen.add(price["id"])


def _check_currency(price: Obj, currency: str, param: str) -> None:
    if price["currency"] != currency:
        raise invalid(
            f"The price specified only supports `{price['currency']}`. This doesn't match the expected "
            f"currency: `{currency}`.",
            param=param,
        )


def check_customer_currency(customer: Obj, currency: str) -> None:
    """A customer bills in one currency, set by its first subscription."""
    if customer["currency"] is not None and customer["currency"] != currency:
        raise StripeError(
            "You cannot combine currencies on a single customer. This customer has an active subscription, "
            f"subscription schedule, discount, quote, or invoice item with currency {customer['currency']}.",
        )


def current_period(subscription: Obj, price: Obj, now: int) -> tuple[int, int]:
    """The item's period containing `now`: a first short period up to a later billing cycle anchor,
    then calendar periods counted from the anchor."""
    anchor = subscription["billing_cycle_anchor"]
    if now < anchor:
        return subscription["start_date"], anchor
    recurring = price["recurring"]
    return period_containing(anchor, recurring["interval"], recurring["interval_count"], now)


def following_period(subscription: Obj, price: Obj, period_end: int) -> tuple[int, int]:
    """The period that begins when the one ending at `period_end` ends."""
    return current_period(subscription, price, period_end)


def end_subscription(
    account: Account,
    subscription: Obj,
    now: int,
    details: Obj | None = None,
    *,
    reason: str = "cancellation_requested",
    changes: Obj | None = None,
) -> None:
    """Cancel the subscription as of `now`, at the customer's request (or, `reason="payment_failed"`,
    after its last payment retry failed); `details` adds the customer's comment and feedback, and
    `changes` other fields that change with it (its final invoice)."""
    changes = {
        **(changes or {}),
        "status": "canceled",
        "canceled_at": subscription["canceled_at"] or now,
        "ended_at": now,
        "cancellation_details": {**subscription["cancellation_details"], **(details or {}), "reason": reason},
    }
    account.update(subscription, changes, action="canceled")
    end_schedule(account, subscription, now, aborted=reason == "payment_failed")


def end_schedule(account: Account, subscription: Obj, now: int, *, aborted: bool) -> None:
    """A schedule running a subscription that ended is canceled with it (`aborted` when the
    subscription's payments failed)."""
    schedule = account.find("subscription_schedule", subscription["schedule"]) if subscription["schedule"] else None
    if schedule is not None and schedule["status"] in ("not_started", "active"):
        account.update(
            schedule,
            {"status": "canceled", "canceled_at": now, "current_phase": None},
            action="aborted" if aborted else "canceled",
        )


def tax_rates_of(subscription: Obj, item: Obj) -> list[Obj]:
    """The tax rates an item's lines are taxed at: its own, else the subscription's defaults."""
    return list(item.get("tax_rates") or subscription["default_tax_rates"])


def ends_with_period(subscription: Obj, period_end: int) -> bool:
    """Whether the subscription ends when its period ending at `period_end` ends: set to cancel at
    period end, or at a `cancel_at` no later."""
    cancel_at = subscription["cancel_at"]
    return bool(subscription["cancel_at_period_end"]) or (cancel_at is not None and cancel_at <= period_end)


def natural_period_end(start: int, price: Obj) -> int:
    """When a period starting at `start` would end under this price's interval."""
    recurring = price["recurring"]
    return boundary(start, recurring["interval"], recurring["interval_count"], 1)


def plan_of(price: Obj) -> Obj:
    """The legacy `plan` mirror of a recurring price."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": price["livemode"],
        "metadata": price["metadata"],
        "meter": recurring["meter"],
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": price["transform_quantity"],
        "trial_period_days": recurring["trial_period_days"],
        "usage_type": recurring["usage_type"],
    }


def build_item(subscription: Obj, request: ItemRequest, now: int) -> Obj:
    price = request.price
    start, end = current_period(subscription, price, now)
    return {
        "id": new_id("si"),
        "object": "subscription_item",
        "billed_until": None,
        "billing_thresholds": None,
        "created": now,
        "current_period_end": end,
        "current_period_start": start,
        "current_trial": None,
        "discounts": [],
        "metadata": {k: v for k, v in (request.metadata or {}).items() if v is not None},
        "plan": plan_of(price),
        "price": price,
        "quantity": METERED_ITEM_QUANTITY if is_metered(price) else (1 if request.quantity is None else request.quantity),
        "subscription": subscription["id"],
        "tax_rates": [dict(rate) for rate in request.tax_rates or []],
    }


def price_change(subscription: Obj, item: Obj, price: Obj, now: int) -> Obj:
    """The changes that switch an item to another price; its period follows the new price's interval."""
    start, end = current_period(subscription, price, now)
    changes = {"price": price, "plan": plan_of(price), "current_period_start": start, "current_period_end": end}
    if is_metered(price):
        changes["quantity"] = METERED_ITEM_QUANTITY
    elif item["quantity"] is None:
        changes["quantity"] = 1
    return changes


class ItemChanges:
    """Changes to a stored subscription's items, made through their own objects and then told as
    one `customer.subscription.updated` of the subscription (with the items as they were before).

    A subscription lists the very item dicts the item collection holds, so an update shows in both."""

    def __init__(self, account: Account, subscription: Obj) -> None:
        self.account, self.subscription = account, subscription
        self.before = orjson.loads(orjson.dumps(subscription["items"]))
        self.listed = list(subscription["items"]["data"])

    def add(self, item: Obj) -> Obj:
        self.account.create(item)
        self.listed.append(item)
        return item

    def update(self, item: Obj, changes: Obj) -> Obj:
        return self.account.update(item, changes)

    def remove(self, item: Obj) -> Obj:
        """Remove an item; it then reads as its deletion stub."""
        self.listed = [listed for listed in self.listed if listed["id"] != item["id"]]
        return self.account.delete(item)

    def changes(self) -> Obj:
        """The subscription's new `items`, to pass to `account.update` with `previous()`."""
        return {"items": {**self.subscription["items"], "data": self.listed}}

    def previous(self) -> Obj | None:
        """The items as they were, if anything about them changed."""
        now = orjson.loads(orjson.dumps({**self.subscription["items"], "data": self.listed}))
        return None if now == self.before else {"items": self.before}

    def tell(self, **changes: Any) -> Obj:
        """Record the items' changes, with `changes` of the subscription's own fields, as one update."""
        return self.account.update(self.subscription, {**self.changes(), **changes}, previous=self.previous())


class UnsavedItems:
    """`ItemChanges` on a copy of a subscription that is never stored (an invoice preview): its items
    change in place, and nothing is recorded."""

    def __init__(self, subscription: Obj) -> None:
        self.subscription = subscription
        self.listed = subscription["items"]["data"]

    def add(self, item: Obj) -> Obj:
        self.listed.append(item)
        return item

    def update(self, item: Obj, changes: Obj) -> Obj:
        item.update(changes)
        return item

    def remove(self, item: Obj) -> Obj:
        self.listed.remove(item)
        return item


def unsaved_copy(subscription: Obj) -> Obj:
    """A deep copy of a stored subscription, to change without touching it."""
    copy: Obj = orjson.loads(orjson.dumps(subscription))
    return copy


def lookup_price(account: Account, price_id: str) -> Obj:
    """A price known to exist (its id was checked by the param spec)."""
    price = account.find("price", price_id)
    assert price is not None
    return price


def build_subscription(
    customer: Obj,
    currency: str,
    now: int,
    *,
    billing_mode: str = "flexible",
    proration_discounts: str = "included",
    billing_cycle_anchor: int | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    cancel_at_period_end: bool = False,
    default_tax_rates: list[Obj] | None = None,
) -> Obj:
    """A new active subscription without items (add them with `build_item` and `attach`)."""
    subscription_id = new_id("sub")
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now if billing_cycle_anchor is None else billing_cycle_anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {
            "flexible": {"proration_discounts": proration_discounts} if billing_mode == "flexible" else None,
            "type": billing_mode,
            "updated_at": now,
        },
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "feedback_option": None, "reason": None},
        "collection_method": collection_method,
        "created": now,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "days_until_due": days_until_due,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": list(default_tax_rates or []),
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "presentment_details": None,
        "schedule": None,
        "start_date": now,
        "status": "active",
        "status_details": None,
        "test_clock": customer.get("test_clock"),
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"billing_cycle_anchor": None, "missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }
