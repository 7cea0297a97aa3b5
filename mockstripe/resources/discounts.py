"""Discounts: the `discount` objects coupons and promotion codes are redeemed into, and removing a
customer's or a subscription's (`DELETE /v1/customers/{customer}/discount`,
`DELETE /v1/subscriptions/{id}/discount`)."""

from __future__ import annotations

from typing import Any

from ..domain import discounts as discounting
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError
from ..wire.objects import ObjectType
from ..wire.params import endpoint

Obj = dict[str, Any]

DISCOUNT = ObjectType(
    name="discount",
    noun="discount",
    expandable={"customer": "customer", "promotion_code": "promotion_code", "source.coupon": "coupon"},
)


def _no_discount(noun: str, owner_id: str) -> StripeError:
    return StripeError(discounting.NO_DISCOUNT.format(noun, owner_id), status=404, code="resource_missing")


def _deleted(discount: Obj) -> Obj:
    """A deleted discount as Stripe answers it: the discount without its `end`, `deleted: true`."""
    return {**{k: v for k, v in discount.items() if k != "end"}, "deleted": True}


def delete_customer_discount(call: Call) -> Obj:
    customer = call.path_object("customer", "customer")
    discount = customer["discount"]
    if discount is None:
        raise _no_discount("customer", customer["id"])
    discounting.remove(call.account, [discount["id"]])
    call.account.update(customer, {"discount": None})
    return _deleted(discount)


def delete_subscription_discount(call: Call) -> Obj:
    """Remove the subscription's own discounts (not its items'); answers the first of them."""
    subscription = call.path_object("subscription")
    removed = [d for d in (call.account.find("discount", i) for i in subscription["discounts"]) if d is not None]
    if not removed:
        raise _no_discount("subscription", subscription["id"])
    discounting.detach(call.account, subscription, {d["id"] for d in removed})
    return _deleted(removed[0])


AREA = Area(
    name="discounts",
    types=(DISCOUNT,),
    endpoints=(
        Endpoint(
            "DELETE",
            "/v1/customers/{customer}/discount",
            delete_customer_discount,
            endpoint(),
            "Remove a customer's discount",
            returns="discount",
        ),
        Endpoint(
            "DELETE",
            "/v1/subscriptions/{id}/discount",
            delete_subscription_discount,
            endpoint(),
            "Remove a subscription's discounts",
            returns="discount",
        ),
    ),
)
