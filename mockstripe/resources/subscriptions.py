"""Subscriptions: `/v1/subscriptions`."""

from __future__ import annotations

from typing import Any

from ..domain import invoices as invoicing
from ..domain.subscriptions import (
    METERED_QUANTITY,
    SAME_PRICE_TWICE,
    ItemChanges,
    ItemRequest,
    build_item,
    build_subscription,
    check_customer_currency,
    check_items,
    end_subscription,
    is_metered,
    lookup_price,
    natural_period_end,
    price_change,
)
from ..domain.thresholds import Thresholds
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError, invalid, no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    MAX_DAYS_UNTIL_DUE,
    QUANTITY,
    TIMESTAMP,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
)

Obj = dict[str, Any]

MAX_ITEMS = 20
ANCHOR_IN_PAST = "billing_cycle_anchor cannot be in the past"
DAYS_UNTIL_DUE_NEEDS_SEND_INVOICE = (
    "The `days_until_due` parameter can only be set when `collection_method` is `send_invoice`."
)
ALREADY_CANCELED = "This subscription has already been canceled."
CANCELED_IS_FROZEN = "A canceled subscription can only update its cancellation_details and metadata."
LAST_ITEM = (
    "A subscription must have at least one active plan. To cancel a subscription, please use the cancel endpoint."
)
# Statuses a list shows when no `status` is given, and what `ended` means.
_LISTED_BY_DEFAULT = frozenset({"active", "past_due", "unpaid", "trialing", "incomplete", "paused"})
_ENDED = frozenset({"canceled", "incomplete_expired"})

COLLECTION_METHOD = Enum("charge_automatically", "send_invoice")
PAYMENT_BEHAVIOR = Enum("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
PRORATION_BEHAVIOR = Enum("always_invoice", "create_prorations", "none")
CANCELLATION_DETAILS = Hash(
    fields={
        "comment": String(),
        "feedback": Enum(
            "customer_service", "low_quality", "missing_features", "other", "switched_service",
            "too_complex", "too_expensive", "unused", nullable=True,
        ),
    }
)
ITEM_UNSUPPORTED = {
    k: Unsupported() for k in ("billing_thresholds", "current_trial", "discounts", "plan", "price_data", "tax_rates")
}
NEW_ITEM = Hash(
    fields={
        "price": Ref(object_type="price", noun="price", required=True),
        "quantity": QUANTITY,
        "metadata": Map(),
        **ITEM_UNSUPPORTED,
    }
)
# UNSURE: Stripe's wording; thresholds are a classic billing mode feature.
THRESHOLDS_NEED_CLASSIC = (
    "Billing thresholds are not supported with billing_mode[type]=flexible. Use billing_mode[type]=classic."
)
# Items' usage thresholds are set when a subscription is created (classic billing mode only).
ITEM_THRESHOLDS = Hash(fields={"usage_gte": Integer(required=True, minimum=1)})
THRESHOLDS = Hash(fields={"amount_gte": Integer(minimum=1), "reset_billing_cycle_anchor": Boolean()}, nullable=True)
CREATED_ITEM = Hash(fields={**NEW_ITEM.fields, "billing_thresholds": ITEM_THRESHOLDS})
CHANGED_ITEM = Hash(
    fields={
        "id": Ref(object_type="subscription_item", noun="subscription item"),
        "price": Ref(object_type="price", noun="price"),
        "quantity": QUANTITY,
        "metadata": Map(),
        "deleted": Boolean(),
        "clear_usage": Boolean(),
        **ITEM_UNSUPPORTED,
    }
)


def _check_days_until_due(values: dict[str, Any], path: str) -> None:
    """On create: `days_until_due` goes with `send_invoice`, which needs it."""
    send_invoice = values.get("collection_method") == "send_invoice"
    if values.get("days_until_due") is not None and not send_invoice:
        raise invalid(DAYS_UNTIL_DUE_NEEDS_SEND_INVOICE, param="days_until_due")
    if send_invoice and values.get("days_until_due") is None:
        raise missing("days_until_due")


UNSUPPORTED_ON_BOTH = {
    k: Unsupported()
    for k in (
        "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_schedules", "billing_thresholds",
        "cancel_at", "default_payment_method", "default_source", "default_tax_rates", "discounts",
        "invoice_settings", "on_behalf_of", "payment_settings", "pending_invoice_item_interval",
        "transfer_data", "trial_end", "trial_from_plan", "trial_settings",
    )
}

# What both create and update set on a subscription.
WRITABLE_ON_BOTH = dict(
    cancel_at_period_end=Boolean(),
    collection_method=COLLECTION_METHOD,
    days_until_due=Integer(minimum=0, maximum=MAX_DAYS_UNTIL_DUE),
    description=String(max_length=500),
    metadata=Map(),
    off_session=Boolean(),
    payment_behavior=PAYMENT_BEHAVIOR,
    proration_behavior=PRORATION_BEHAVIOR,
)
CREATE = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    items=List(item=CREATED_ITEM, max_items=MAX_ITEMS, required=True),
    billing_mode=Hash(
        fields={
            "type": Enum("classic", "flexible", required=True),
            "flexible": Hash(fields={"proration_discounts": Enum("included", "itemized")}),
        }
    ),
    billing_cycle_anchor=TIMESTAMP,
    currency=Currency(),
    **WRITABLE_ON_BOTH,
    backdate_start_date=Unsupported(),
    billing_cycle_anchor_config=Unsupported(),
    customer_account=Unsupported(),
    trial_period_days=Unsupported(),
    **{**UNSUPPORTED_ON_BOTH, "billing_thresholds": THRESHOLDS},
    checks=(_check_days_until_due,),
)
UPDATE = endpoint(
    items=List(item=CHANGED_ITEM, max_items=MAX_ITEMS),
    cancellation_details=CANCELLATION_DETAILS,
    **WRITABLE_ON_BOTH,
    proration_date=TIMESTAMP,
    billing_cycle_anchor=Unsupported(),
    pause_collection=Unsupported(),
    **{**UNSUPPORTED_ON_BOTH, "billing_thresholds": THRESHOLDS},
)
CANCEL = endpoint(cancellation_details=CANCELLATION_DETAILS, invoice_now=Unsupported(), prorate=Unsupported())
LIST = endpoint(
    **PAGE_PARAMS,
    automatic_tax=Hash(fields={"enabled": Boolean(required=True)}),
    collection_method=COLLECTION_METHOD,
    created=CREATED_FILTER,
    current_period_end=CREATED_FILTER,
    current_period_start=CREATED_FILTER,
    customer=String(nullable=False),
    plan=String(nullable=False),
    price=String(nullable=False),
    status=Enum(
        "active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused",
        "trialing", "unpaid",
    ),
    test_clock=String(nullable=False),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)

SUBSCRIPTION = ObjectType(
    name="subscription",
    noun="subscription",
    expandable={
        "customer": "customer",
        "latest_invoice": "invoice",
        "test_clock": "test_helpers.test_clock",
        "application": "application",
        "default_payment_method": "payment_method",
        "default_source": "source",
        "on_behalf_of": "account",
        "pending_setup_intent": "setup_intent",
        "schedule": "subscription_schedule",
    },
    nested={"items": ListOf("subscription_item")},
)


def _requests(account: Any, items: list[Obj]) -> list[ItemRequest]:
    return [
        ItemRequest(f"items[{i}]", lookup_price(account, item["price"]), item.get("quantity"), item.get("metadata"))
        for i, item in enumerate(items)
    ]


def _check_anchor(anchor: int | None, requests: list[ItemRequest], now: int) -> None:
    """A billing cycle anchor lies between now and the end of the first whole period."""
    if anchor is None:
        return
    if anchor < now:
        raise invalid(ANCHOR_IN_PAST, param="billing_cycle_anchor")
    natural = min(natural_period_end(now, r.price) for r in requests)
    if anchor > natural:
        raise invalid(
            f"billing_cycle_anchor cannot be later than next natural billing date ({natural}) for plan",
            param="billing_cycle_anchor",
        )


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    customer = account.find("customer", params["customer"])
    assert customer is not None
    now = account.clock_for(customer).now()
    requests = _requests(account, params["items"])
    currency = params.get("currency") or requests[0].price["currency"]
    check_items(requests, currency)
    check_customer_currency(customer, currency)
    _check_anchor(params.get("billing_cycle_anchor"), requests, now)

    billing_mode = params.get("billing_mode") or {}
    subscription = build_subscription(
        customer,
        currency,
        now,
        billing_mode=billing_mode.get("type", "flexible"),
        proration_discounts=(billing_mode.get("flexible") or {}).get("proration_discounts") or "included",
        billing_cycle_anchor=params.get("billing_cycle_anchor"),
        collection_method=params.get("collection_method") or "charge_automatically",
        days_until_due=params.get("days_until_due"),
        description=params.get("description"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        cancel_at_period_end=bool(params.get("cancel_at_period_end")),
    )
    items = [build_item(subscription, request, now) for request in requests]
    watched = _set_thresholds(params, subscription, items)
    subscription["items"]["data"].extend(items)
    draft = invoicing.first_invoice(
        account, subscription, customer, now, prorate=params.get("proration_behavior") != "none"
    )
    subscription["latest_invoice"] = draft[0]["id"] if draft is not None else None
    account.update(customer, {"currency": currency})
    account.create(subscription)
    for item in items:
        account.create(item)
    if draft is not None:
        invoicing.issue(account, draft, customer, now)
    if watched:
        account.service(Thresholds).watch(account, subscription)
    return subscription


def _set_thresholds(params: Obj, subscription: Obj, items: list[Obj]) -> bool:
    """Put the requested usage thresholds on a subscription and its items, not stored yet; whether
    there are any."""
    thresholds = params.get("billing_thresholds")
    given = [(i, item["billing_thresholds"]) for i, item in enumerate(params["items"]) if item.get("billing_thresholds")]
    if thresholds is None and not given:
        return False
    if subscription["billing_mode"]["type"] != "classic":
        raise invalid(
            THRESHOLDS_NEED_CLASSIC,
            param="billing_thresholds" if thresholds is not None else f"items[{given[0][0]}][billing_thresholds]",
        )
    if thresholds is not None:
        subscription["billing_thresholds"] = _subscription_thresholds(thresholds, subscription)
    for index, item_thresholds in given:
        if not is_metered(items[index]["price"]):
            # UNSURE: Stripe's wording for a usage threshold on a licensed price.
            raise invalid(
                "Usage thresholds can only be set on items of metered prices.",
                param=f"items[{index}][billing_thresholds][usage_gte]",
            )
        items[index]["billing_thresholds"] = {"usage_gte": item_thresholds["usage_gte"]}
    return True


def _subscription_thresholds(thresholds: Obj, subscription: Obj) -> Obj:
    """A subscription's `billing_thresholds` as asked for, once checked."""
    if subscription["billing_mode"]["type"] != "classic":
        raise invalid(THRESHOLDS_NEED_CLASSIC, param="billing_thresholds")
    if thresholds.get("reset_billing_cycle_anchor"):
        raise invalid(
            "billing_thresholds[reset_billing_cycle_anchor]=true is not supported by mockstripe. Leave it out, "
            "or see the README for what is implemented.",
            param="billing_thresholds[reset_billing_cycle_anchor]",
        )
    return {"amount_gte": thresholds.get("amount_gte"), "reset_billing_cycle_anchor": False}


def retrieve(call: Call) -> Obj:
    return call.path_object("subscription")


def _plan_item_changes(call: Call, subscription: Obj) -> list[tuple[str, Obj, Obj | None]]:
    """Check `items[]` of an update against the subscription as it will be; returns what to do
    (`add`, `change` or `delete`, with the params and the existing item) without doing it."""
    account = call.account
    current = {item["id"]: item for item in subscription["items"]["data"]}
    final_prices = {item_id: item["price"] for item_id, item in current.items()}
    plan: list[tuple[str, Obj, Obj | None]] = []
    for i, change in enumerate(call.params.get("items") or []):
        path = f"items[{i}]"
        item = current.get(change["id"]) if change.get("id") else None
        if change.get("id") and item is None:
            raise no_such("subscription item", change["id"], f"{path}[id]")
        if item is not None and change.get("deleted"):
            del final_prices[item["id"]]
            plan.append(("delete", change, item))
            continue
        if item is None and change.get("price") is None:
            raise missing(f"{path}[price]")
        price = lookup_price(account, change["price"]) if change.get("price") else item["price"]  # type: ignore[index]  # item exists when no price is given
        if is_metered(price) and change.get("quantity") is not None:
            raise invalid(METERED_QUANTITY, param=f"{path}[quantity]")
        if change.get("price"):
            check_items([ItemRequest(path, price, None)], subscription["currency"])
        final_prices[item["id"] if item is not None else f"new{i}"] = price
        plan.append(("change" if item is not None else "add", change, item))
    if not final_prices:
        raise invalid(LAST_ITEM, param="items")
    seen: set[str] = set()
    for price in final_prices.values():
        if price["id"] in seen:
            raise invalid(SAME_PRICE_TWICE.format(price["id"]), param="items")
        seen.add(price["id"])
    return plan


def update(call: Call) -> Obj:
    subscription = call.path_object("subscription")
    params, account, now = call.params, call.account, call.account.clock_for(subscription).now()
    if subscription["status"] == "canceled" and set(params) - {"metadata", "cancellation_details", "expand"}:
        raise invalid(CANCELED_IS_FROZEN)
    collection_method = params.get("collection_method") or subscription["collection_method"]
    days = params["days_until_due"] if "days_until_due" in params else subscription["days_until_due"]
    if collection_method != "send_invoice":
        if params.get("days_until_due") is not None:
            raise invalid(DAYS_UNTIL_DUE_NEEDS_SEND_INVOICE, param="days_until_due")
        days = None
    elif days is None:
        raise missing("days_until_due")
    plan = _plan_item_changes(call, subscription)
    thresholds = _subscription_thresholds(params["billing_thresholds"], subscription) if params.get("billing_thresholds") else None

    items = ItemChanges(account, subscription)
    for action, change, item in plan:
        if action == "delete":
            items.remove(item)  # type: ignore[arg-type]  # a deleted change always names its item
        elif action == "add":
            request = ItemRequest("", lookup_price(account, change["price"]), change.get("quantity"), change.get("metadata"))
            items.add(build_item(subscription, request, now))
        else:
            assert item is not None
            item_changes: Obj = {}
            if change.get("price") and change["price"] != item["price"]["id"]:
                item_changes.update(price_change(subscription, item, lookup_price(account, change["price"]), now))
            if change.get("quantity") is not None:
                item_changes["quantity"] = change["quantity"]
            if "metadata" in change:
                item_changes["metadata"] = merge_metadata(item["metadata"], change["metadata"])
            items.update(item, item_changes)
    changes: Obj = {"collection_method": collection_method, "days_until_due": days}
    if "description" in params:
        changes["description"] = params["description"]
    if params.get("cancel_at_period_end") is not None:
        changes["cancel_at_period_end"] = params["cancel_at_period_end"]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    if params.get("cancellation_details"):
        changes["cancellation_details"] = {**subscription["cancellation_details"], **params["cancellation_details"]}
    if "billing_thresholds" in params:  # "" removes them
        changes["billing_thresholds"] = thresholds
    updated = items.tell(**changes)
    if thresholds is not None:
        account.service(Thresholds).watch(account, subscription)
    return updated


def cancel(call: Call) -> Obj:
    subscription = call.path_object("subscription")
    if subscription["status"] == "canceled":
        raise StripeError(ALREADY_CANCELED)
    now = call.account.clock_for(subscription).now()
    end_subscription(call.account, subscription, now, call.params.get("cancellation_details"))
    return subscription


def list_subscriptions(call: Call) -> Obj:
    params = call.params
    status = params.get("status")
    price = params.get("price") or params.get("plan")
    automatic_tax = params.get("automatic_tax")

    def status_matches(subscription: Obj) -> bool:
        if status is None:
            return subscription["status"] in _LISTED_BY_DEFAULT
        if status == "ended":
            return subscription["status"] in _ENDED
        return status == "all" or subscription["status"] == status

    def periods_match(subscription: Obj, field: str) -> bool:
        bounds = params.get(field)
        items = subscription["items"]["data"]
        return bounds is None or any(in_range(item[field], bounds) for item in items)

    def keep(subscription: Obj) -> bool:
        return (
            status_matches(subscription)
            and params.get("customer") in (None, subscription["customer"])
            and params.get("collection_method") in (None, subscription["collection_method"])
            and params.get("test_clock") in (None, subscription["test_clock"])
            and (automatic_tax is None or automatic_tax["enabled"] == subscription["automatic_tax"]["enabled"])
            and (price is None or any(item["price"]["id"] == price for item in subscription["items"]["data"]))
            and (params.get("created") is None or in_range(subscription["created"], params["created"]))
            and periods_match(subscription, "current_period_start")
            and periods_match(subscription, "current_period_end")
        )

    return call.page("subscription", keep)


AREA = Area(
    name="subscriptions",
    types=(SUBSCRIPTION,),
    endpoints=(
        Endpoint("POST", "/v1/subscriptions", create, CREATE, "Create a subscription (and its first invoice)", returns="subscription"),
        Endpoint("GET", "/v1/subscriptions", list_subscriptions, LIST, "List subscriptions, newest first", returns=ListOf("subscription")),
        Endpoint("GET", "/v1/subscriptions/{id}", retrieve, endpoint(), "Retrieve a subscription", returns="subscription"),
        Endpoint("POST", "/v1/subscriptions/{id}", update, UPDATE, "Update a subscription and its items", returns="subscription"),
        Endpoint("DELETE", "/v1/subscriptions/{id}", cancel, CANCEL, "Cancel a subscription", returns="subscription"),
    ),
)
