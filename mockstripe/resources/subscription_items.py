"""Subscription items: `/v1/subscription_items`."""

from __future__ import annotations

from typing import Any

from ..domain import discounts as discounting
from ..domain.prorations import Proration
from ..domain.subscriptions import (
    METERED_QUANTITY,
    ItemChanges,
    ItemRequest,
    build_item,
    check_items,
    is_metered,
    lookup_price,
    price_change,
)
from ..domain.thresholds import Thresholds
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import DISCOUNTS, QUANTITY, TIMESTAMP, Boolean, Map, Ref, endpoint, merge_metadata
from .subscriptions import (
    CANCELED_IS_FROZEN,
    ITEM_THRESHOLDS,
    ITEM_UNSUPPORTED,
    LAST_ITEM,
    PAYMENT_BEHAVIOR,
    PRORATION_BEHAVIOR,
    TAX_RATES,
    has_thresholds,
    item_thresholds,
    tax_rates,
)

Obj = dict[str, Any]

CHANGES = dict(
    metadata=Map(),
    payment_behavior=PAYMENT_BEHAVIOR,
    proration_behavior=PRORATION_BEHAVIOR,
    proration_date=TIMESTAMP,
    quantity=QUANTITY,
    tax_rates=TAX_RATES,
    **{**ITEM_UNSUPPORTED, "billing_thresholds": ITEM_THRESHOLDS, "discounts": DISCOUNTS},
)
CREATE = endpoint(
    subscription=Ref(object_type="subscription", noun="subscription", required=True),
    price=Ref(object_type="price", noun="price", required=True),
    **CHANGES,
)
UPDATE = endpoint(price=Ref(object_type="price", noun="price"), off_session=Boolean(), **CHANGES)
DELETE = endpoint(
    clear_usage=Boolean(),
    payment_behavior=PAYMENT_BEHAVIOR,
    proration_behavior=PRORATION_BEHAVIOR,
    proration_date=TIMESTAMP,
)
LIST = endpoint(
    subscription=Ref(object_type="subscription", noun="subscription", required=True),
    **PAGE_PARAMS,
    exclusive=PAGE_EXCLUSIVE,
)

SUBSCRIPTION_ITEM = ObjectType(
    name="subscription_item", noun="subscription item", expandable={"discounts": "discount"}, nested={"price": "price"}
)


def _live_subscription(call: Call, subscription_id: str) -> Obj:
    subscription = call.account.find("subscription", subscription_id)
    assert subscription is not None
    if subscription["status"] == "canceled":
        raise invalid(CANCELED_IS_FROZEN)
    return subscription


def _proration(call: Call, subscription: Obj, now: int) -> Proration:
    params = call.params
    return Proration(call.account, subscription, params.get("proration_behavior"), params.get("proration_date"), now)


def _taken_prices(subscription: Obj, but: Obj | None = None) -> set[str]:
    return {item["price"]["id"] for item in subscription["items"]["data"] if item is not but}


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    subscription = _live_subscription(call, params["subscription"])
    request = ItemRequest(
        "", lookup_price(account, params["price"]), params.get("quantity"), params.get("metadata"),
        tax_rates(account, params.get("tax_rates")),
    )
    check_items([request], subscription["currency"], _taken_prices(subscription))
    thresholds = item_thresholds(subscription, request.price, params) if params.get("billing_thresholds") else None
    now = account.clock_for(subscription).now()
    proration = _proration(call, subscription, now)
    redemptions = _checked_discounts(call, subscription, [], now)
    items = ItemChanges(account, subscription)
    item = items.add({**build_item(subscription, request, now), "billing_thresholds": thresholds})
    _give_discounts(call, subscription, item, items, redemptions, now)
    items.tell(**proration.settle(items.listed))
    _watch_thresholds(call, subscription)
    return item


def _checked_discounts(call: Call, subscription: Obj, current: list[str], now: int) -> list[discounting.Redemption] | None:
    """The item's `discounts` asked for, checked (None when not asked about)."""
    if "discounts" not in call.params:
        return None
    customer = call.account.find("customer", subscription["customer"])
    purchase = discounting.Purchase(customer, subscription["currency"], "subscription item")
    return discounting.check(call.account, call.params["discounts"] or [], "discounts", purchase, now, current)


def _give_discounts(
    call: Call, subscription: Obj, item: Obj, items: ItemChanges, redemptions: list[discounting.Redemption] | None, now: int
) -> None:
    """The item's discounts become those checked (those it drops end); None leaves them."""
    if redemptions is None:
        return
    owner = {"customer": subscription["customer"], "subscription": subscription["id"], "subscription_item": item["id"]}
    items.update(item, {"discounts": discounting.replace(call.account, item["discounts"], redemptions, now, belongs_to=owner)})


def _watch_thresholds(call: Call, subscription: Obj) -> None:
    if has_thresholds(subscription, subscription["items"]["data"]):
        call.account.service(Thresholds).watch(call.account, subscription)


def retrieve(call: Call) -> Obj:
    return call.path_object("subscription_item")


def update(call: Call) -> Obj:
    params, account = call.params, call.account
    item = call.path_object("subscription_item")
    subscription = _live_subscription(call, item["subscription"])
    price = lookup_price(account, params["price"]) if params.get("price") else item["price"]
    if params.get("price") and price is not item["price"]:
        check_items([ItemRequest("", price, None)], subscription["currency"], _taken_prices(subscription, but=item))
    if is_metered(price) and params.get("quantity") is not None:
        raise invalid(METERED_QUANTITY, param="quantity")
    thresholds = item_thresholds(subscription, price, params) if "billing_thresholds" in params else None

    now = account.clock_for(subscription).now()
    proration = _proration(call, subscription, now)
    redemptions = _checked_discounts(call, subscription, item["discounts"], now)
    changes: Obj = {}
    if price is not item["price"]:
        changes.update(price_change(subscription, item, price, now))
    if params.get("quantity") is not None:
        changes["quantity"] = params["quantity"]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(item["metadata"], params["metadata"])
    if "tax_rates" in params:
        changes["tax_rates"] = tax_rates(account, params["tax_rates"])
    if "billing_thresholds" in params:  # "" removes them
        changes["billing_thresholds"] = thresholds
    items = ItemChanges(account, subscription)
    items.update(item, changes)
    _give_discounts(call, subscription, item, items, redemptions, now)
    items.tell(**proration.settle(items.listed))
    _watch_thresholds(call, subscription)
    return item


def delete(call: Call) -> Obj:
    item = call.path_object("subscription_item")
    subscription = _live_subscription(call, item["subscription"])
    if len(subscription["items"]["data"]) == 1:
        raise invalid(LAST_ITEM)
    proration = _proration(call, subscription, call.account.clock_for(subscription).now())
    items = ItemChanges(call.account, subscription)
    stub = items.remove(item)
    items.tell(**proration.settle(items.listed))
    return stub


def list_items(call: Call) -> Obj:
    """A subscription's items in the order they were added, as its `items` list shows them."""
    subscription = call.account.find("subscription", call.params["subscription"])
    assert subscription is not None
    return call.page("subscription_item", newest_first=subscription["items"]["data"])


AREA = Area(
    name="subscription_items",
    types=(SUBSCRIPTION_ITEM,),
    endpoints=(
        Endpoint("POST", "/v1/subscription_items", create, CREATE, "Add an item to a subscription", returns="subscription_item"),
        Endpoint("GET", "/v1/subscription_items", list_items, LIST, "List a subscription's items", returns=ListOf("subscription_item")),
        Endpoint("GET", "/v1/subscription_items/{id}", retrieve, endpoint(), "Retrieve a subscription item", returns="subscription_item"),
        Endpoint("POST", "/v1/subscription_items/{id}", update, UPDATE, "Update a subscription item", returns="subscription_item"),
        Endpoint("DELETE", "/v1/subscription_items/{id}", delete, DELETE, "Remove an item from its subscription", returns="subscription_item"),
    ),
)
