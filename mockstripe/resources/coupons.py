"""Coupons: `/v1/coupons`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.discounts import refresh_validity
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.errors import StripeError, invalid
from ..wire.ids import random_tail
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    AMOUNT,
    CREATED_FILTER,
    TIMESTAMP,
    Currency,
    DecimalString,
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
)

# UNSURE: Stripe's wordings for these refusals.
ID_TAKEN = "Coupon already exists."
NO_AMOUNT = "You must pass either amount_off or percent_off."
NO_CURRENCY = "You must pass currency when passing amount_off."
CURRENCY_WITHOUT_AMOUNT = "You may only pass currency when passing amount_off."
NO_MONTHS = "You must pass duration_in_months when duration is repeating."
MONTHS_NOT_REPEATING = "You may only pass duration_in_months when duration is repeating."
REDEEM_BY_PAST = "Invalid redeem_by: must be in the future."

# A generated coupon id: 8 letters and digits, as Stripe's (`Z4OV52SU`).
GENERATED_ID_LENGTH = 8
# UNSURE: Stripe's longest coupon name and months of a repeating coupon.
MAX_NAME = 40
MAX_MONTHS = 1200


@dataclass(frozen=True, kw_only=True)
class NewCouponId(String):
    """A caller-chosen coupon id: it must not name an existing (or deleted) coupon."""

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        chosen = super().coerce(value, path, account)
        if account is not None and chosen in account.collection("coupon").objects:
            raise StripeError(ID_TAKEN, code="resource_already_exists", param=path)
        return chosen


def _consistent(params: dict[str, Any], path: str) -> None:
    """The cross-field rules of a new coupon, checked before anything is stored."""
    if params.get("amount_off") is None and params.get("percent_off") is None:
        raise invalid(NO_AMOUNT, param="amount_off")
    if params.get("amount_off") is not None and params.get("currency") is None:
        raise invalid(NO_CURRENCY, param="currency")
    if params.get("amount_off") is None and params.get("currency") is not None:
        raise invalid(CURRENCY_WITHOUT_AMOUNT, param="currency")
    repeating = params.get("duration") == "repeating"
    if repeating and params.get("duration_in_months") is None:
        raise invalid(NO_MONTHS, param="duration_in_months")
    if not repeating and params.get("duration_in_months") is not None:
        raise invalid(MONTHS_NOT_REPEATING, param="duration_in_months")


CREATE = endpoint(
    id=NewCouponId(max_length=200),
    amount_off=Integer(minimum=1, maximum=AMOUNT.maximum),
    percent_off=DecimalString(max_places=2, minimum=Decimal("0.01"), maximum=Decimal(100)),
    currency=Currency(),
    currency_options=Unsupported(),
    duration=Enum("forever", "once", "repeating"),
    duration_in_months=Integer(minimum=1, maximum=MAX_MONTHS),
    max_redemptions=Integer(minimum=1),
    redeem_by=TIMESTAMP,
    applies_to=Hash(fields={"products": List(item=Ref(object_type="product", noun="product"))}),
    metadata=Map(),
    name=String(max_length=MAX_NAME),
    exclusive=(("amount_off", "percent_off"),),
    checks=(_consistent,),
)
UPDATE = endpoint(metadata=Map(), name=String(max_length=MAX_NAME), currency_options=Unsupported())
LIST = endpoint(**PAGE_PARAMS, created=CREATED_FILTER, exclusive=PAGE_EXCLUSIVE)


def _applies_to(account: Account, coupon: dict[str, Any]) -> dict[str, Any]:
    """`applies_to`, shown only when expanded: the products the coupon is limited to (empty: all)."""
    private = account.collection("coupon").private.get(coupon["id"], {})
    return {"products": list(private.get("products", []))}


COUPON = ObjectType(name="coupon", noun="coupon", expand_only={"applies_to": _applies_to})


def create(call: Call) -> dict[str, Any]:
    params = call.params
    if params.get("redeem_by") is not None and params["redeem_by"] <= call.now():
        raise invalid(REDEEM_BY_PAST, param="redeem_by")
    percent_off = params.get("percent_off")
    coupon: dict[str, Any] = {
        "id": params.get("id") or random_tail(GENERATED_ID_LENGTH),
        "object": "coupon",
        "amount_off": params.get("amount_off"),
        "created": call.now(),
        "currency": params.get("currency"),
        "duration": params.get("duration") or "once",
        "duration_in_months": params.get("duration_in_months"),
        "livemode": False,
        "max_redemptions": params.get("max_redemptions"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params.get("name"),
        "percent_off": None if percent_off is None else float(percent_off),
        "redeem_by": params.get("redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    products = (params.get("applies_to") or {}).get("products") or []
    return call.account.create(coupon, products=list(dict.fromkeys(products)))


def retrieve(call: Call) -> dict[str, Any]:
    return refresh_validity(call.account, call.path_object("coupon", "coupon"))


def update(call: Call) -> dict[str, Any]:
    coupon = refresh_validity(call.account, call.path_object("coupon", "coupon"))
    changes: dict[str, Any] = {}
    if "metadata" in call.params:
        changes["metadata"] = merge_metadata(coupon["metadata"], call.params["metadata"])
    if "name" in call.params:
        changes["name"] = call.params["name"]
    return call.account.update(coupon, changes)


def delete(call: Call) -> dict[str, Any]:
    return call.account.delete(call.path_object("coupon", "coupon"))


def list_coupons(call: Call) -> dict[str, Any]:
    created = call.params.get("created")
    for coupon in list(call.account.collection("coupon").newest_first()):
        refresh_validity(call.account, coupon)
    return call.page("coupon", lambda coupon: created is None or in_range(coupon["created"], created))


AREA = Area(
    name="coupons",
    types=(COUPON,),
    endpoints=(
        Endpoint("POST", "/v1/coupons", create, CREATE, "Create a coupon", returns="coupon"),
        Endpoint("GET", "/v1/coupons", list_coupons, LIST, "List coupons, newest first", returns=ListOf("coupon")),
        Endpoint("GET", "/v1/coupons/{coupon}", retrieve, endpoint(), "Retrieve a coupon", returns="coupon"),
        Endpoint("POST", "/v1/coupons/{coupon}", update, UPDATE, "Update a coupon's name or metadata", returns="coupon"),
        Endpoint("DELETE", "/v1/coupons/{coupon}", delete, endpoint(), "Delete a coupon", returns="coupon"),
    ),
)
