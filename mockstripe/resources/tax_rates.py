"""Tax rates: `/v1/tax_rates`, percentages applied to invoice lines (Stripe keeps them forever: no delete)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..routing import Area, Call, Endpoint
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    Boolean,
    DecimalString,
    Enum,
    Map,
    String,
    endpoint,
    merge_metadata,
)

TAX_TYPES = (
    "amusement_tax",
    "communications_tax",
    "gst",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "pst",
    "qst",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "vat",
)
# UNSURE: Stripe's limits: a display name of 50 characters, and percentages with 4 decimals.
MAX_DISPLAY_NAME = 50
PERCENTAGE = DecimalString(required=True, max_places=4, minimum=Decimal(0), maximum=Decimal(100))

WRITABLE = dict(
    active=Boolean(),
    country=String(max_length=2),
    description=String(),
    jurisdiction=String(max_length=50),
    metadata=Map(),
    state=String(),
    tax_type=Enum(*TAX_TYPES),
)
CREATE = endpoint(
    **WRITABLE,
    display_name=String(required=True, max_length=MAX_DISPLAY_NAME),
    inclusive=Boolean(required=True),
    percentage=PERCENTAGE,
)
UPDATE = endpoint(**WRITABLE, display_name=String(nullable=False, max_length=MAX_DISPLAY_NAME))
LIST = endpoint(**PAGE_PARAMS, active=Boolean(), created=CREATED_FILTER, inclusive=Boolean(), exclusive=PAGE_EXCLUSIVE)

TAX_RATE = ObjectType(name="tax_rate", noun="tax rate")


def _changes(tax_rate: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in params.items():
        if key == "metadata":
            changes["metadata"] = merge_metadata(tax_rate["metadata"], value)
        elif key == "country":
            changes["country"] = None if value is None else value.upper()
        elif key in WRITABLE or key == "display_name":
            changes[key] = value
    return changes


def create(call: Call) -> dict[str, Any]:
    percentage = float(call.params["percentage"])
    tax_rate: dict[str, Any] = {
        "id": new_id("txr"),
        "object": "tax_rate",
        "active": True,
        "country": None,
        "created": call.now(),
        "description": None,
        "display_name": call.params["display_name"],
        # UNSURE: for a rate set by hand, the effective percentage is the percentage itself.
        "effective_percentage": percentage,
        "flat_amount": None,
        "inclusive": call.params["inclusive"],
        "jurisdiction": None,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": {},
        "percentage": percentage,
        "rate_type": "percentage",
        "state": None,
        "tax_type": None,
    }
    tax_rate.update(_changes(tax_rate, call.params))
    return call.account.create(tax_rate)


def retrieve(call: Call) -> dict[str, Any]:
    return call.path_object("tax_rate", "tax_rate")


def update(call: Call) -> dict[str, Any]:
    tax_rate = call.path_object("tax_rate", "tax_rate")
    return call.account.update(tax_rate, _changes(tax_rate, call.params))


def list_tax_rates(call: Call) -> dict[str, Any]:
    params = call.params
    created = params.get("created")

    def keep(tax_rate: dict[str, Any]) -> bool:
        return (
            all(params.get(key) is None or tax_rate[key] == params[key] for key in ("active", "inclusive"))
            and (created is None or in_range(tax_rate["created"], created))
        )

    return call.page("tax_rate", keep)


AREA = Area(
    name="tax_rates",
    types=(TAX_RATE,),
    endpoints=(
        Endpoint("POST", "/v1/tax_rates", create, CREATE, "Create a tax rate", returns="tax_rate"),
        Endpoint("GET", "/v1/tax_rates", list_tax_rates, LIST, "List tax rates, newest first", returns=ListOf("tax_rate")),
        Endpoint("GET", "/v1/tax_rates/{tax_rate}", retrieve, endpoint(), "Retrieve a tax rate", returns="tax_rate"),
        Endpoint("POST", "/v1/tax_rates/{tax_rate}", update, UPDATE, "Update a tax rate", returns="tax_rate"),
    ),
)
