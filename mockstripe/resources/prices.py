"""Prices: `/v1/prices`.

Stripe renders a price's tiers only under `expand[]=tiers`, so they are kept out of the stored
object, in the collection's private slot; `price_tiers` hands them to billing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.prices import price_tiers
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    AnyOf,
    Boolean,
    Currency,
    DecimalString,
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
    invalid,
    join,
    merge_metadata,
    missing,
)
from . import products

# Stripe's wording, as observed.
NO_PRODUCT = "You must specify either `product` or `product_data` when creating a price."
NO_AMOUNT = "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set."
ONE_TIME_TIERED = "Prices with `type=one_time` are not supported with tiered billing."
METERED_WITHOUT_METER = (
    "Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters."
)
TIER_WITHOUT_AMOUNT = "An entry in the tiers array is missing an amount."
LOOKUP_KEY_TAKEN = "A price (`{}`) already uses that lookup key."
# UNSURE: wordings not confirmed against Stripe.
NEEDS_TIERED = "The `{}` parameter can only be used with `billing_scheme=tiered`."
AMOUNT_WITH_TIERS = "The `{}` parameter cannot be used with `billing_scheme=tiered`; set amounts on the tiers."
LAST_TIER_BOUNDED = "The last entry in the tiers array must have `up_to` set to `inf`."
INNER_TIER_UNBOUNDED = "Only the last entry in the tiers array may have `up_to` set to `inf`."
TIERS_NOT_ASCENDING = "The entries in the tiers array must be in ascending order of `up_to`."
INTERVAL_TOO_LONG = "The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years)."
METER_ON_LICENSED = "A meter can only be set on prices with `usage_type=metered`."
INACTIVE_METER = "The billing meter `{}` is inactive and cannot be attached to a price."
TAX_BEHAVIOR_SET = "The tax behavior of a price cannot be changed once it is `inclusive` or `exclusive`."

INTERVALS = ("day", "week", "month", "year")
# The longest interval Stripe allows is three years, in each unit.
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}
TIER_AMOUNTS = ("unit_amount", "unit_amount_decimal", "flat_amount", "flat_amount_decimal")


@dataclass(frozen=True, kw_only=True)
class ActiveMeter(Ref):
    """A meter for a new price: it must exist and be active."""

    object_type: str = "billing.meter"
    noun: str | None = "billing meter"

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        meter_id = super().coerce(value, path, account)
        if account is not None and account.find(self.object_type, meter_id)["status"] != "active":
            raise invalid(INACTIVE_METER.format(meter_id), param=path)
        return meter_id


def _tier_has_amount(values: dict[str, Any], path: str) -> None:
    if all(values.get(name) is None for name in TIER_AMOUNTS):
        raise invalid(TIER_WITHOUT_AMOUNT, param=path)


def _interval_at_most_three_years(values: dict[str, Any], path: str) -> None:
    count = values.get("interval_count")
    if count is not None and count > MAX_INTERVAL_COUNT[values["interval"]]:
        raise invalid(INTERVAL_TOO_LONG, param=join(path, "interval_count"))


def _meter_matches_usage_type(values: dict[str, Any], path: str) -> None:
    metered = values.get("usage_type") == "metered"
    if metered and values.get("meter") is None:
        raise invalid(METERED_WITHOUT_METER, param=join(path, "meter"))
    if not metered and values.get("meter") is not None:
        raise invalid(METER_ON_LICENSED, param=join(path, "meter"))


def _names_a_product(values: dict[str, Any], path: str) -> None:
    if values.get("product") is None and values.get("product_data") is None:
        raise invalid(NO_PRODUCT, param="product", code="parameter_missing")


def _amounts_fit_billing_scheme(values: dict[str, Any], path: str) -> None:
    amounts = [name for name in ("unit_amount", "unit_amount_decimal") if values.get(name) is not None]
    if values.get("billing_scheme") == "tiered":
        for name in ("tiers", "tiers_mode"):
            if values.get(name) is None:
                raise missing(name)
        if amounts:
            raise invalid(AMOUNT_WITH_TIERS.format(amounts[0]), param=amounts[0])
        if values.get("recurring") is None:
            raise invalid(ONE_TIME_TIERED, param="interval")
        return
    for name in ("tiers", "tiers_mode"):
        if values.get(name) is not None:
            raise invalid(NEEDS_TIERED.format(name), param=name)
    if not amounts:
        raise invalid(NO_AMOUNT)


def _tiers_ascend_to_inf(values: dict[str, Any], path: str) -> None:
    bounds = [tier["up_to"] for tier in values.get("tiers") or ()]
    if not bounds:
        return
    last = len(bounds) - 1
    if bounds[last] != "inf":
        raise invalid(LAST_TIER_BOUNDED, param=f"tiers[{last}][up_to]")
    for i in range(last):
        if bounds[i] == "inf":
            raise invalid(INNER_TIER_UNBOUNDED, param=f"tiers[{i}][up_to]")
        if i and bounds[i] <= bounds[i - 1]:
            raise invalid(TIERS_NOT_ASCENDING, param=f"tiers[{i}][up_to]")


AMOUNT = Integer(minimum=0)
AMOUNT_DECIMAL = DecimalString(minimum=Decimal(0))
TAX_BEHAVIOR = Enum("exclusive", "inclusive", "unspecified")
LOOKUP_KEY = String(max_length=200)
TIER = Hash(
    fields={
        "up_to": AnyOf(Integer(minimum=1), Literal(word="inf"), required=True),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "flat_amount": AMOUNT,
        "flat_amount_decimal": AMOUNT_DECIMAL,
    },
    exclusive=(("unit_amount", "unit_amount_decimal"), ("flat_amount", "flat_amount_decimal")),
    checks=(_tier_has_amount,),
)
RECURRING = Hash(
    fields={
        "interval": Enum(*INTERVALS, required=True),
        "interval_count": Integer(minimum=1),
        "meter": ActiveMeter(),
        # UNSURE: Stripe's bounds; 730 days is its limit for subscription trials.
        "trial_period_days": Integer(minimum=1, maximum=730),
        "usage_type": Enum("licensed", "metered"),
    },
    checks=(_interval_at_most_three_years, _meter_matches_usage_type),
)
TRANSFORM_QUANTITY = Hash(
    fields={"divide_by": Integer(minimum=1, required=True), "round": Enum("up", "down", required=True)}
)

CREATE = endpoint(
    active=Boolean(),
    billing_scheme=Enum("per_unit", "tiered"),
    currency=Currency(required=True),
    currency_options=Unsupported(),
    custom_unit_amount=Unsupported(),
    lookup_key=LOOKUP_KEY,
    metadata=Map(),
    nickname=String(),
    product=Ref(object_type="product", noun="product"),
    product_data=products.PRODUCT_DATA,
    recurring=RECURRING,
    tax_behavior=TAX_BEHAVIOR,
    tiers=List(item=TIER),
    tiers_mode=Enum("graduated", "volume"),
    transfer_lookup_key=Boolean(),
    transform_quantity=TRANSFORM_QUANTITY,
    unit_amount=AMOUNT,
    unit_amount_decimal=AMOUNT_DECIMAL,
    exclusive=(("product", "product_data"), ("tiers", "transform_quantity"), ("unit_amount", "unit_amount_decimal")),
    checks=(_names_a_product, _amounts_fit_billing_scheme, _tiers_ascend_to_inf),
)
UPDATE = endpoint(
    active=Boolean(),
    currency_options=Unsupported(),
    lookup_key=LOOKUP_KEY,
    metadata=Map(),
    nickname=String(),
    tax_behavior=TAX_BEHAVIOR,
    transfer_lookup_key=Boolean(),
)
LIST = endpoint(
    **PAGE_PARAMS,
    active=Boolean(),
    created=CREATED_FILTER,
    currency=Currency(),
    lookup_keys=List(item=LOOKUP_KEY, max_items=10),
    product=Ref(object_type="product", noun="product"),
    recurring=Hash(
        fields={"interval": Enum(*INTERVALS), "meter": String(), "usage_type": Enum("licensed", "metered")}
    ),
    type=Enum("one_time", "recurring"),
    exclusive=PAGE_EXCLUSIVE,
)


def _currency_options(account: Account, price: dict[str, Any]) -> dict[str, Any]:
    # UNSURE: an expanded price lists its own currency among its currency options.
    option: dict[str, Any] = {
        "custom_unit_amount": None,
        "tax_behavior": price["tax_behavior"],
        "unit_amount": price["unit_amount"],
        "unit_amount_decimal": price["unit_amount_decimal"],
    }
    if price["billing_scheme"] == "tiered":
        option["tiers"] = price_tiers(account, price["id"])
    return {price["currency"]: option}


PRICE = ObjectType(
    name="price",
    noun="price",
    expandable={"product": "product"},
    expand_only={
        "tiers": lambda account, price: price_tiers(account, price["id"]),
        "currency_options": _currency_options,
    },
)


def _amount_pair(values: dict[str, Any], name: str) -> tuple[int | None, str | None]:
    """`name` and `name_decimal` as rendered: the integer mirrors into the decimal string, and a
    decimal becomes the integer too when it is whole."""
    integer, decimal = values.get(name), values.get(f"{name}_decimal")
    if integer is not None:
        return integer, str(integer)
    if decimal is None:
        return None, None
    whole = int(decimal) if decimal == decimal.to_integral_value() else None
    return whole, format(decimal.normalize(), "f")


def _tier(values: dict[str, Any]) -> dict[str, Any]:
    flat_amount, flat_amount_decimal = _amount_pair(values, "flat_amount")
    unit_amount, unit_amount_decimal = _amount_pair(values, "unit_amount")
    return {
        "flat_amount": flat_amount,
        "flat_amount_decimal": flat_amount_decimal,
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
        "up_to": None if values["up_to"] == "inf" else values["up_to"],
    }


def _recurring(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {
        "interval": values["interval"],
        "interval_count": values.get("interval_count") or 1,
        "meter": values.get("meter"),
        "trial_period_days": values.get("trial_period_days"),
        "usage_type": values.get("usage_type") or "licensed",
    }


def _lookup_key_holder(account: Account, params: dict[str, Any], own_id: str | None = None) -> dict[str, Any] | None:
    """The other price holding the requested lookup key (archived ones too), if it may be taken
    from it; a conflict without `transfer_lookup_key` is an error."""
    key = params.get("lookup_key")
    if key is None:
        return None
    prices = account.collection("price").objects.values()
    holder = next((p for p in prices if p["lookup_key"] == key and p["id"] != own_id), None)
    if holder is not None and not params.get("transfer_lookup_key"):
        raise invalid(LOOKUP_KEY_TAKEN.format(holder["id"]), param="lookup_key")
    return holder


def create(call: Call) -> dict[str, Any]:
    params, account = call.params, call.account
    holder = _lookup_key_holder(account, params)
    # Every check is done: from here on the request succeeds.
    product_id = params.get("product") or products.insert(account, params["product_data"])["id"]
    if holder is not None:
        account.update(holder, {"lookup_key": None})
    recurring = params.get("recurring")
    unit_amount, unit_amount_decimal = _amount_pair(params, "unit_amount")
    tiers = params.get("tiers")
    price = {
        "id": new_id("price"),
        "object": "price",
        "active": params.get("active", True),
        "billing_scheme": params.get("billing_scheme") or "per_unit",
        "created": call.now(),
        "currency": params["currency"],
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": params.get("lookup_key"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": product_id,
        "recurring": _recurring(recurring),
        "tax_behavior": params.get("tax_behavior") or "unspecified",
        "tiers_mode": params.get("tiers_mode"),
        "transform_quantity": params.get("transform_quantity"),
        "type": "one_time" if recurring is None else "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }
    return account.create(price, tiers=None if tiers is None else [_tier(t) for t in tiers])


def retrieve(call: Call) -> dict[str, Any]:
    return call.path_object("price", "price")


def update(call: Call) -> dict[str, Any]:
    price, params = call.path_object("price", "price"), call.params
    behavior = params.get("tax_behavior")
    if behavior is not None and price["tax_behavior"] not in ("unspecified", behavior):
        raise invalid(TAX_BEHAVIOR_SET, param="tax_behavior")
    holder = _lookup_key_holder(call.account, params, own_id=price["id"])
    if holder is not None:
        call.account.update(holder, {"lookup_key": None})
    changes = {key: params[key] for key in ("active", "lookup_key", "nickname", "tax_behavior") if key in params}
    if "metadata" in params:
        changes["metadata"] = merge_metadata(price["metadata"], params["metadata"])
    return call.account.update(price, changes)


def list_prices(call: Call) -> dict[str, Any]:
    params = call.params
    wanted = {k: params[k] for k in ("active", "currency", "product", "type") if params.get(k) is not None}
    schedule = {k: v for k, v in (params.get("recurring") or {}).items() if v is not None}
    lookup_keys = set(params["lookup_keys"]) if params.get("lookup_keys") is not None else None
    created = params.get("created")

    def keep(price: dict[str, Any]) -> bool:
        recurring = price["recurring"]
        return (
            all(price[k] == v for k, v in wanted.items())
            and (not schedule or (recurring is not None and all(recurring[k] == v for k, v in schedule.items())))
            and (lookup_keys is None or price["lookup_key"] in lookup_keys)
            and (created is None or in_range(price["created"], created))
        )

    return call.page("price", keep)


AREA = Area(
    name="prices",
    types=(PRICE,),
    endpoints=(
        Endpoint("POST", "/v1/prices", create, CREATE, "Create a price (and its product, with `product_data`)", returns="price"),
        Endpoint("GET", "/v1/prices", list_prices, LIST, "List prices, newest first", returns=ListOf("price")),
        Endpoint("GET", "/v1/prices/{price}", retrieve, endpoint(), "Retrieve a price", returns="price"),
        Endpoint("POST", "/v1/prices/{price}", update, UPDATE, "Update a price's mutable fields", returns="price"),
    ),
)
