"""Subscriptions: `/v1/subscriptions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import cards, collection, payments, prorations, schedules, trials
from ..domain import discounts as discounting
from ..domain import invoices as invoicing
from ..domain.prorations import Proration
from ..domain.subscriptions import (
    METERED_QUANTITY,
    SAME_PRICE_TWICE,
    ItemChanges,
    ItemRequest,
    UnsavedItems,
    build_item,
    build_subscription,
    check_customer_currency,
    check_items,
    is_metered,
    lookup_price,
    natural_period_end,
    price_change,
)
from ..domain.thresholds import Thresholds
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.errors import StripeError, invalid, no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    DISCOUNTS,
    MAX_DAYS_UNTIL_DUE,
    QUANTITY,
    TIMESTAMP,
    AnyOf,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    List,
    Literal,
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
# Stripe's default when `payment_behavior` is not given.
DEFAULT_PAYMENT_BEHAVIOR = "allow_incomplete"
PENDING_ONLY_ON_UPDATE = "payment_behavior=pending_if_incomplete is only supported when updating a subscription."
ANCHOR_IN_PAST = "billing_cycle_anchor cannot be in the past"
DAYS_UNTIL_DUE_NEEDS_SEND_INVOICE = (
    "The `days_until_due` parameter can only be set when `collection_method` is `send_invoice`."
)
ALREADY_CANCELED = "This subscription has already been canceled."
# UNSURE: Stripe's wordings for a `cancel_at` in the past, and for one given with `cancel_at_period_end`.
CANCEL_AT_IN_PAST = "The `cancel_at` date must be in the future."
CANCEL_AT_TWICE = "You cannot set both `cancel_at` and `cancel_at_period_end=true`."
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
ITEM_UNSUPPORTED = {k: Unsupported() for k in ("billing_thresholds", "current_trial", "discounts", "plan", "price_data")}
# An item's own tax rates, overriding the subscription's `default_tax_rates` ("" clears them).
TAX_RATES = List(item=Ref(object_type="tax_rate", noun="tax rate"), nullable=True)
NEW_ITEM = Hash(
    fields={
        "price": Ref(object_type="price", noun="price", required=True),
        "quantity": QUANTITY,
        "metadata": Map(),
        "tax_rates": TAX_RATES,
        **ITEM_UNSUPPORTED,
        "discounts": DISCOUNTS,
    }
)
# UNSURE: Stripe's wording; thresholds are a classic billing mode feature.
THRESHOLDS_NEED_CLASSIC = (
    "Billing thresholds are not supported with billing_mode[type]=flexible. Use billing_mode[type]=classic."
)
# An item's usage threshold (classic billing mode, metered prices only); "" removes it.
ITEM_THRESHOLDS = Hash(fields={"usage_gte": Integer(required=True, minimum=1)}, nullable=True)
# UNSURE: Stripe's wording for a usage threshold on a licensed price.
USAGE_GTE_NEEDS_METERED = "Usage thresholds can only be set on items of metered prices."
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
        "tax_rates": TAX_RATES,
        **{**ITEM_UNSUPPORTED, "billing_thresholds": ITEM_THRESHOLDS},
        "discounts": DISCOUNTS,
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
        "default_source",
        "invoice_settings", "on_behalf_of", "payment_settings", "pending_invoice_item_interval",
        "transfer_data",
    )
}
TRIAL_PARAMS = ("trial_from_plan", "trial_settings")
TRIAL_START_ON_UPDATE = (
    "Starting a trial on a subscription that is not trialing is not supported by mockstripe: only "
    "trial_end=now (or a later end for a trialing subscription) is. See the README for what is implemented."
)

# What both create and update set on a subscription.
WRITABLE_ON_BOTH = dict(
    cancel_at=AnyOf(TIMESTAMP, Enum("max_period_end", "min_period_end"), nullable=True),
    cancel_at_period_end=Boolean(),
    collection_method=COLLECTION_METHOD,
    days_until_due=Integer(minimum=0, maximum=MAX_DAYS_UNTIL_DUE),
    default_payment_method=String(),
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
    discounts=DISCOUNTS,
    default_tax_rates=TAX_RATES,
    backdate_start_date=Unsupported(),
    billing_cycle_anchor_config=Unsupported(),
    customer_account=Unsupported(),
    trial_period_days=Integer(minimum=0, maximum=trials.MAX_TRIAL_DAYS),
    trial_end=AnyOf(TIMESTAMP, Literal(word="now")),
    trial_from_plan=Boolean(),
    trial_settings=Hash(
        fields={
            "end_behavior": Hash(
                fields={"missing_payment_method": Enum("cancel", "create_invoice", "pause", required=True)},
                required=True,
            )
        }
    ),
    **{**UNSUPPORTED_ON_BOTH, "billing_thresholds": THRESHOLDS},
    checks=(_check_days_until_due,),
)
UPDATE = endpoint(
    items=List(item=CHANGED_ITEM, max_items=MAX_ITEMS),
    cancellation_details=CANCELLATION_DETAILS,
    **WRITABLE_ON_BOTH,
    proration_date=TIMESTAMP,
    discounts=DISCOUNTS,
    billing_cycle_anchor=Unsupported(),
    default_tax_rates=TAX_RATES,
    trial_end=AnyOf(TIMESTAMP, Literal(word="now")),
    pause_collection=Hash(
        fields={
            "behavior": Enum("keep_as_draft", "mark_uncollectible", "void", required=True),
            "resumes_at": TIMESTAMP,
        },
        nullable=True,
    ),
    **{k: Unsupported() for k in TRIAL_PARAMS},
    **{**UNSUPPORTED_ON_BOTH, "billing_thresholds": THRESHOLDS},
)
RESUME = endpoint(
    billing_cycle_anchor=Enum("now", "unchanged"),
    proration_behavior=PRORATION_BEHAVIOR,
    proration_date=TIMESTAMP,
    payment_behavior=Unsupported(),
)
# UNSURE: Stripe's wording for resuming a subscription that is not paused.
NOT_PAUSED = "Only a paused subscription can be resumed: this one is {}."
ANCHOR_UNCHANGED = (
    "billing_cycle_anchor=unchanged is not supported by mockstripe when resuming: the subscription resumes "
    "with a new billing cycle starting now. Leave billing_cycle_anchor out, or see the README for what is "
    "implemented."
)
CANCEL = endpoint(cancellation_details=CANCELLATION_DETAILS, invoice_now=Boolean(), prorate=Boolean())
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
        "discounts": "discount",
    },
    nested={"items": ListOf("subscription_item")},
)


def _requests(account: Any, items: list[Obj]) -> list[ItemRequest]:
    return [
        ItemRequest(
            f"items[{i}]", lookup_price(account, item["price"]), item.get("quantity"), item.get("metadata"),
            tax_rates(account, item.get("tax_rates")),
        )
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


def tax_rates(account: Account, rate_ids: list[str] | None) -> list[Obj]:
    """The tax rates named (the validator checked they exist), as the subscription embeds them."""
    found = (account.find("tax_rate", rate_id) for rate_id in rate_ids or [])
    return [dict(rate) for rate in found if rate is not None]


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
    if params.get("payment_behavior") == "pending_if_incomplete":
        raise invalid(PENDING_ONLY_ON_UPDATE, param="payment_behavior")
    _check_cancel_at(params, now)
    default = params.get("default_payment_method")
    if default is not None:
        default = payments.attached_payment_method(account, customer["id"], default, "default_payment_method")["id"]

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
        default_tax_rates=tax_rates(account, params.get("default_tax_rates")),
    )
    trial_end = trials.requested_trial_end(params, [request.price for request in requests], now)
    if trial_end is not None:
        end_behavior = (params.get("trial_settings") or {}).get("end_behavior") or {}
        trials.start_trial(subscription, trial_end, now, end_behavior.get("missing_payment_method"))
    items = [build_item(subscription, request, now) for request in requests]
    subscription.update(_cancellation(params, subscription, min(item["current_period_end"] for item in items)) or {})
    watched = _set_thresholds(params, subscription, items)
    subscription["items"]["data"].extend(items)
    discounts = _new_discounts(account, params, subscription, customer, now)
    own = discounting.discounts_of(discounts.own)
    subscription["discounts"] = [discount["id"] for discount in own]
    draft = invoicing.first_invoice(
        account, subscription, customer, now, prorate=params.get("proration_behavior") != "none",
        discounts=own or discounting.invoice_discounts(account, None, customer, now),
        unstored=discounting.discounts_of(discounts.items),
    )
    if draft is not None:
        discounts.check_minimums(sum(entry["amount"] for entry in draft[1]))
    subscription["latest_invoice"] = draft[0]["id"] if draft is not None else None
    subscription["default_payment_method"] = default
    behavior = params.get("payment_behavior") or DEFAULT_PAYMENT_BEHAVIOR
    charge = draft is not None and invoicing.needs_charge(draft[0]) and behavior != "default_incomplete"
    off_session = bool(params.get("off_session"))
    if draft is not None and invoicing.needs_charge(draft[0]):
        subscription["status"] = "incomplete"
    if charge:
        subscription["status"] = _first_payment(account, subscription, customer, behavior, off_session)
    account.update(customer, {"currency": currency})
    account.create(subscription)
    for item in items:
        account.create(item)
    discounting.redeem(account, [*discounts.own, *discounts.items], now)
    if draft is not None:
        invoicing.issue(account, draft, customer, now, charge=charge, off_session=off_session)
    if watched:
        account.service(Thresholds).watch(account, subscription)
    return subscription


@dataclass
class NewDiscounts:
    """The discounts a request gives a subscription (`own`) and its items, checked and built, not
    stored yet; what each request asked for, by where it sat, for the minimum amounts."""

    currency: str
    own: list[discounting.Prepared] = field(default_factory=list)
    items: list[discounting.Prepared] = field(default_factory=list)
    asked: dict[str, list[discounting.Redemption]] = field(default_factory=dict)

    def check_minimums(self, amount: int) -> None:
        for path, redemptions in self.asked.items():
            discounting.check_minimum(redemptions, path, self.currency, amount)


def _new_discounts(
    account: Account, params: Obj, subscription: Obj, customer: Obj, now: int, current: list[str] | None = None
) -> NewDiscounts:
    """The `discounts` of a subscription's params and of its items' (`items[i][discounts]`, for the
    subscription's items in the same order), checked and built; the items' are set on the items (not
    stored yet). On update, `current` are the discounts that may be kept."""
    purchase = discounting.Purchase(customer, subscription["currency"], "subscription")
    found = NewDiscounts(subscription["currency"])
    owner = {"customer": customer["id"], "subscription": subscription["id"]}
    if params.get("discounts"):
        redemptions = discounting.check(account, params["discounts"], "discounts", purchase, now, current or ())
        found.asked["discounts"] = redemptions
        found.own = discounting.prepare(redemptions, now, belongs_to=owner)
    # On create, `items[i]` made the subscription's i-th item; on update items take no discounts.
    for i, (request, item) in enumerate(zip(params.get("items") or [], subscription["items"]["data"], strict=False)):
        if not request.get("discounts"):
            continue
        path = f"items[{i}][discounts]"
        redemptions = discounting.check(account, request["discounts"], path, purchase, now)
        found.asked[path] = redemptions
        prepared = discounting.prepare(redemptions, now, belongs_to={**owner, "subscription_item": item["id"]})
        item["discounts"] = [entry.discount["id"] for entry in prepared]
        found.items += prepared
    return found


def _set_thresholds(params: Obj, subscription: Obj, items: list[Obj]) -> bool:
    """Put the requested usage thresholds on a subscription and its items, not stored yet; whether
    there are any."""
    thresholds = params.get("billing_thresholds")
    if thresholds is not None:
        subscription["billing_thresholds"] = _subscription_thresholds(thresholds, subscription)
    for index, item in enumerate(params["items"]):
        if item.get("billing_thresholds"):
            path = f"items[{index}]"
            items[index]["billing_thresholds"] = item_thresholds(subscription, items[index]["price"], item, path)
    return has_thresholds(subscription, items)


def item_thresholds(subscription: Obj, price: Obj, params: Obj, path: str = "") -> Obj | None:
    """An item's `billing_thresholds` as `params` (an item's, at `path`) ask for them, once checked."""
    asked = params["billing_thresholds"]
    param = f"{path}[billing_thresholds]" if path else "billing_thresholds"
    if asked is None:
        return None
    if subscription["billing_mode"]["type"] != "classic":
        raise invalid(THRESHOLDS_NEED_CLASSIC, param=param)
    if not is_metered(price):
        raise invalid(USAGE_GTE_NEEDS_METERED, param=f"{param}[usage_gte]")
    return {"usage_gte": asked["usage_gte"]}


def has_thresholds(subscription: Obj, items: list[Obj]) -> bool:
    return subscription["billing_thresholds"] is not None or any(item["billing_thresholds"] for item in items)


def _subscription_thresholds(thresholds: Obj, subscription: Obj) -> Obj:
    """A subscription's `billing_thresholds` as asked for, once checked."""
    if subscription["billing_mode"]["type"] != "classic":
        raise invalid(THRESHOLDS_NEED_CLASSIC, param="billing_thresholds")
    return {"amount_gte": thresholds.get("amount_gte"), "reset_billing_cycle_anchor": bool(thresholds.get("reset_billing_cycle_anchor"))}


def _first_payment(account: Any, subscription: Obj, customer: Obj, behavior: str, off_session: bool) -> str:
    """The status a new subscription starts in, from how charging its first invoice will go (test
    cards answer the same every time), checked before anything is stored: Stripe's 400 without a
    payment method, its 402 under `error_if_incomplete` when the card declines."""
    found = subscription["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
    payment_method = account.find("payment_method", found) if found is not None else None
    if payment_method is None:
        raise StripeError(collection.NO_PAYMENT_METHOD, code="resource_missing")
    outcome = payments.outcome(account, payment_method, off_session=off_session)
    if outcome is None:
        return "active"
    if behavior == "error_if_incomplete":
        decline = cards.AUTHENTICATION_REQUIRED if outcome == "requires_action" else outcome
        raise payments.card_error(decline, payment_method=dict(payment_method))
    return "incomplete"


def retrieve(call: Call) -> Obj:
    return call.path_object("subscription")


ItemPlan = list[tuple[str, Obj, Obj | None]]


def plan_item_changes(account: Any, subscription: Obj, changes: list[Obj], prefix: str = "items") -> ItemPlan:
    """Check `items[]` of an update (at `prefix`) against the subscription as it will be; returns what
    to do (`add`, `change` or `delete`, with the params and the existing item) without doing it."""
    current = {item["id"]: item for item in subscription["items"]["data"]}
    final_prices = {item_id: item["price"] for item_id, item in current.items()}
    plan: list[tuple[str, Obj, Obj | None]] = []
    for i, change in enumerate(changes):
        path = f"{prefix}[{i}]"
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
        if "billing_thresholds" in change:
            item_thresholds(subscription, price, change, path)
        final_prices[item["id"] if item is not None else f"new{i}"] = price
        plan.append(("change" if item is not None else "add", change, item))
    if not final_prices:
        raise invalid(LAST_ITEM, param=prefix)
    seen: set[str] = set()
    for price in final_prices.values():
        if price["id"] in seen:
            raise invalid(SAME_PRICE_TWICE.format(price["id"]), param=prefix)
        seen.add(price["id"])
    return plan


def apply_item_plan(account: Any, subscription: Obj, plan: ItemPlan, items: ItemChanges | UnsavedItems, now: int) -> None:
    """Carry out `plan_item_changes`' plan through `items` (stored, or a preview's copies)."""
    for action, change, item in plan:
        if action == "delete":
            assert item is not None
            items.remove(item)
        elif action == "add":
            request = ItemRequest(
                "", lookup_price(account, change["price"]), change.get("quantity"), change.get("metadata"),
                tax_rates(account, change.get("tax_rates")),
            )
            added = build_item(subscription, request, now)
            if change.get("billing_thresholds"):
                added["billing_thresholds"] = item_thresholds(subscription, added["price"], change)
            items.add(added)
        else:
            assert item is not None
            item_changes: Obj = {}
            if change.get("price") and change["price"] != item["price"]["id"]:
                item_changes.update(price_change(subscription, item, lookup_price(account, change["price"]), now))
            if change.get("quantity") is not None:
                item_changes["quantity"] = change["quantity"]
            if "metadata" in change:
                item_changes["metadata"] = merge_metadata(item["metadata"], change["metadata"])
            if "tax_rates" in change:
                item_changes["tax_rates"] = tax_rates(account, change["tax_rates"])
            if "billing_thresholds" in change:
                price: Obj = item_changes["price"] if "price" in item_changes else item["price"]
                item_changes["billing_thresholds"] = item_thresholds(subscription, price, change)
            items.update(item, item_changes)


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
    if "cancel_at" in params or params.get("cancel_at_period_end") is not None:
        schedules.refuse_if_managed(subscription)
    _check_cancel_at(params, now)
    plan = plan_item_changes(account, subscription, params.get("items") or [])
    proration = Proration(account, subscription, params.get("proration_behavior"), params.get("proration_date"), now)
    pause = _pause_collection(params.get("pause_collection"), now)
    trial_end = _trial_change(subscription, params.get("trial_end"), now)
    customer = account.find("customer", subscription["customer"])
    assert customer is not None
    default = params.get("default_payment_method")
    if default is not None:
        default = payments.attached_payment_method(
            account, subscription["customer"], default, "default_payment_method"
        )["id"]
    thresholds = _subscription_thresholds(params["billing_thresholds"], subscription) if params.get("billing_thresholds") else None
    discounts = _new_discounts(account, {"discounts": params.get("discounts")}, subscription, customer, now, subscription["discounts"])
    discounts.check_minimums(_licensed_amount(subscription))
    item_discounts = _checked_item_discounts(account, subscription, customer, plan, now)

    items = ItemChanges(account, subscription)
    apply_item_plan(account, subscription, plan, items, now)
    _redeem_item_discounts(account, subscription, customer, items, item_discounts, now)
    changes: Obj = {"collection_method": collection_method, "days_until_due": days}
    if "default_payment_method" in params:
        changes["default_payment_method"] = default
    if "description" in params:
        changes["description"] = params["description"]
    if "default_tax_rates" in params:
        changes["default_tax_rates"] = tax_rates(account, params["default_tax_rates"])
    cancel_before = subscription["cancel_at"]
    changes.update(_cancellation(params, subscription, _period_end(items.listed)) or {})
    if "metadata" in params:
        changes["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    if params.get("cancellation_details"):
        changes["cancellation_details"] = {**subscription["cancellation_details"], **params["cancellation_details"]}
    if "billing_thresholds" in params:  # "" removes them
        changes["billing_thresholds"] = thresholds
    if "pause_collection" in params:
        changes["pause_collection"] = pause
    if "discounts" in params and (params["discounts"] is None or params["discounts"]):  # [] keeps them
        changes["discounts"] = discounting.redeem(account, discounts.own, now)
        discounting.remove(account, [d for d in subscription["discounts"] if d not in changes["discounts"]])
    changes.update(proration.settle(items.listed))
    draft = _change_trial(account, subscription, customer, items, trial_end, changes, now)
    updated = items.tell(**changes)
    _prorate_cancellation(account, subscription, customer, params, cancel_before, now)
    if has_thresholds(subscription, items.listed):
        account.service(Thresholds).watch(account, subscription)
    if draft is not None:
        invoice = invoicing.store(account, draft)
        outcome = invoicing.finalize(account, invoice, customer, now)
        if outcome is not None:
            collection.settle_subscription(account, invoice, outcome, now)
    return updated


ItemDiscounts = list[tuple[str, list[discounting.Redemption]]]  # (price id, what its item asks for)


def _checked_item_discounts(account: Account, subscription: Obj, customer: Obj, plan: ItemPlan, now: int) -> ItemDiscounts:
    """The discounts `items[i][discounts]` of an update asks for, checked, by the price of the item
    they go to (a subscription has one item per price)."""
    purchase = discounting.Purchase(customer, subscription["currency"], "subscription")
    asked: ItemDiscounts = []
    for i, (action, change, item) in enumerate(plan):
        if action == "delete" or "discounts" not in change:
            continue
        current = item["discounts"] if item is not None else []
        path = f"items[{i}][discounts]"
        redemptions = discounting.check(account, change["discounts"] or [], path, purchase, now, current)
        price_id = change.get("price") or item["price"]["id"]  # type: ignore[index]  # a change without a price has its item
        asked.append((price_id, redemptions))
    return asked


def _redeem_item_discounts(
    account: Account, subscription: Obj, customer: Obj, items: ItemChanges, asked: ItemDiscounts, now: int
) -> None:
    """Give the items (changed or added) the discounts checked for them, ending those they drop."""
    by_price = {item["price"]["id"]: item for item in items.listed}
    for price_id, redemptions in asked:
        item = by_price[price_id]
        owner = {"customer": customer["id"], "subscription": subscription["id"], "subscription_item": item["id"]}
        items.update(item, {"discounts": discounting.replace(account, item["discounts"], redemptions, now, belongs_to=owner)})


def _licensed_amount(subscription: Obj) -> int:
    """What a subscription's licensed items cost a period, before discounts: what a promotion code's
    minimum amount is compared with when it is added to the subscription. UNSURE: Stripe's measure."""
    return sum(
        (item["price"]["unit_amount"] or 0) * (item["quantity"] or 0)
        for item in subscription["items"]["data"]
        if not is_metered(item["price"])
    )
def _check_cancel_at(params: Obj, now: int) -> None:
    """A `cancel_at` lies ahead, and is not asked for with `cancel_at_period_end=true`."""
    cancel_at = params.get("cancel_at")
    if cancel_at is not None and params.get("cancel_at_period_end"):
        raise invalid(CANCEL_AT_TWICE, param="cancel_at")
    if isinstance(cancel_at, int) and cancel_at <= now:
        raise invalid(CANCEL_AT_IN_PAST, param="cancel_at")


def _period_end(items: list[Obj]) -> int:
    return min(item["current_period_end"] for item in items)


def _cancellation(params: Obj, subscription: Obj, period_end: int) -> Obj | None:
    """The subscription's `cancel_at` and `cancel_at_period_end` as asked for (None: untouched).
    Canceling at period end sets `cancel_at` to the period's end; a `cancel_at` turns it off, and
    withdrawing a cancellation at period end clears its `cancel_at`."""
    flag = params.get("cancel_at_period_end")
    if flag:
        return {"cancel_at": period_end, "cancel_at_period_end": True}
    if "cancel_at" in params:
        cancel_at = params["cancel_at"]
        return {"cancel_at": period_end if isinstance(cancel_at, str) else cancel_at, "cancel_at_period_end": False}
    if flag is False and subscription["cancel_at_period_end"]:
        return {"cancel_at": None, "cancel_at_period_end": False}
    return None


def _prorate_cancellation(
    account: Account, subscription: Obj, customer: Obj, params: Obj, cancel_before: int | None, now: int
) -> None:
    """A new `cancel_at` before the period's end credits the time after it (`proration_behavior`;
    `always_invoice` invoices the credit at once)."""
    cancel_at, behavior = subscription["cancel_at"], params.get("proration_behavior") or "create_prorations"
    if cancel_at is None or cancel_at == cancel_before or behavior == "none" or subscription["status"] == "trialing":
        return
    if cancel_at >= _period_end(subscription["items"]["data"]):
        return
    prorations.credit_unused(account, subscription, customer, now, at=cancel_at)
    if behavior == "always_invoice":
        invoice = prorations.invoice_now(account, subscription, customer, now)
        if invoice is not None:
            account.update(subscription, {"latest_invoice": invoice["id"]})


def _trial_change(subscription: Obj, trial_end: int | str | None, now: int) -> int | None:
    """When an update ends a trialing subscription's trial (`now`, or a later timestamp), checked."""
    if trial_end is None or (trial_end == "now" and subscription["status"] != "trialing"):
        return None
    if subscription["status"] != "trialing":
        raise invalid(TRIAL_START_ON_UPDATE, param="trial_end")
    if trial_end == "now":
        return now
    assert isinstance(trial_end, int)
    if trial_end <= now:
        raise invalid(trials.TRIAL_END_IN_PAST, param="trial_end")
    return trial_end


def _change_trial(
    account: Any, subscription: Obj, customer: Obj, items: ItemChanges, trial_end: int | None, changes: Obj, now: int
) -> invoicing.Draft | None:
    """Move a trial's end (adding to `changes`): ended now, a billing cycle starts at once and its
    invoice (returned, not stored yet) charges it; a later end moves the first period's end."""
    if trial_end is None:
        return None
    changes.update(trial_end=trial_end, billing_cycle_anchor=trial_end)
    if trial_end > now:
        for item in items.listed:
            items.update(item, {"current_period_end": trial_end})
        return None
    for item in items.listed:
        items.update(item, {"current_period_start": now, "current_period_end": natural_period_end(now, item["price"])})
    changes["status"] = "active"
    draft = invoicing.new_cycle_invoice(account, subscription, customer, now, items=items.listed)
    if draft is not None:
        changes["latest_invoice"] = draft[0]["id"]
    return draft


def resume(call: Call) -> Obj:
    """Resume a paused subscription: a new billing cycle starts now, and its first period is invoiced
    and charged at once."""
    subscription = call.path_object("subscription")
    if subscription["status"] != "paused":
        raise invalid(NOT_PAUSED.format(subscription["status"]))
    if call.params.get("billing_cycle_anchor") == "unchanged":
        raise invalid(ANCHOR_UNCHANGED, param="billing_cycle_anchor")
    account = call.account
    now = account.clock_for(subscription).now()
    customer = account.find("customer", subscription["customer"])
    assert customer is not None
    items = ItemChanges(account, subscription)
    for item in subscription["items"]["data"]:
        items.update(item, {"current_period_start": now, "current_period_end": natural_period_end(now, item["price"])})
    draft = invoicing.new_cycle_invoice(account, subscription, customer, now)
    changes = {**items.changes(), "status": "active", "billing_cycle_anchor": now}
    if draft is not None:
        changes["latest_invoice"] = draft[0]["id"]
    account.update(subscription, changes, action="resumed", previous=items.previous())
    if draft is not None:
        invoice = invoicing.store(account, draft)
        outcome = invoicing.finalize(account, invoice, customer, now)
        if outcome is not None:
            collection.settle_subscription(account, invoice, outcome, now)
    return subscription


def _pause_collection(pause: Obj | None, now: int) -> Obj | None:
    """The subscription's `pause_collection` as asked for (None resumes collection)."""
    if pause is None:
        return None
    resumes_at = pause.get("resumes_at")
    if resumes_at is not None and resumes_at <= now:
        raise invalid(trials.TRIAL_END_IN_PAST, param="pause_collection[resumes_at]")
    return {"behavior": pause["behavior"], "resumes_at": resumes_at}


def cancel(call: Call) -> Obj:
    subscription = call.path_object("subscription")
    if subscription["status"] == "canceled":
        raise StripeError(ALREADY_CANCELED)
    account, params = call.account, call.params
    now = account.clock_for(subscription).now()
    customer = account.find("customer", subscription["customer"])
    assert customer is not None
    if params.get("prorate"):
        prorations.credit_unused(account, subscription, customer, now)
    invoicing.end_with_final_invoice(
        account, subscription, customer, now,
        invoice=bool(params.get("invoice_now")), details=params.get("cancellation_details"),
    )
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
        Endpoint("POST", "/v1/subscriptions/{id}/resume", resume, RESUME, "Resume a paused subscription", returns="subscription"),
    ),
)
