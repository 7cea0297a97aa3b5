"""Billing meters: `/v1/billing/meters`, their (de/re)activation and their event summaries."""

from __future__ import annotations

from typing import Any

from ..domain.metering import Metering
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import Enum, Hash, String, endpoint

METER = ObjectType(name="billing.meter", noun="billing meter")

CUSTOMER_MAPPING_DEFAULT = {"event_payload_key": "stripe_customer_id", "type": "by_id"}
VALUE_SETTINGS_DEFAULT = {"event_payload_key": "value"}

CREATE = endpoint(
    display_name=String(required=True, max_length=250),
    event_name=String(required=True, max_length=100),
    default_aggregation=Hash(required=True, fields={"formula": Enum("sum", "count", "last", required=True)}),
    customer_mapping=Hash(
        fields={"event_payload_key": String(required=True, max_length=100), "type": Enum("by_id", required=True)}
    ),
    value_settings=Hash(fields={"event_payload_key": String(required=True, max_length=100)}),
    event_time_window=Enum("day", "hour"),
)
UPDATE = endpoint(display_name=String(max_length=250, nullable=False))
LIST = endpoint(**PAGE_PARAMS, status=Enum("active", "inactive"), exclusive=PAGE_EXCLUSIVE)


def create(call: Call) -> dict[str, Any]:
    params, now = call.params, call.now()
    metering = call.account.service(Metering)
    metering.ensure_available(params["event_name"])
    meter = {
        "id": new_id("mtr_test"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": params.get("customer_mapping") or dict(CUSTOMER_MAPPING_DEFAULT),
        "default_aggregation": params["default_aggregation"],
        "display_name": params["display_name"],
        "event_name": params["event_name"],
        "event_time_window": params.get("event_time_window"),
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": params.get("value_settings") or dict(VALUE_SETTINGS_DEFAULT),
    }
    call.account.create(meter)
    metering.activate(meter)
    return meter


def retrieve(call: Call) -> dict[str, Any]:
    return call.path_object(METER.name)


def update(call: Call) -> dict[str, Any]:
    meter = call.path_object(METER.name)
    changes: dict[str, Any] = {"updated": call.now()}
    if call.params.get("display_name") is not None:
        changes["display_name"] = call.params["display_name"]
    return call.account.update(meter, changes)


def list_meters(call: Call) -> dict[str, Any]:
    status = call.params.get("status")
    return call.page(METER.name, None if status is None else lambda meter: meter["status"] == status)


def already(meter: dict[str, Any], status: str) -> StripeError:
    # UNSURE: Stripe's reply to (de)activating a meter that already has that status.
    return StripeError(f"The meter {meter['id']} is already {status}.")


def deactivate(call: Call) -> dict[str, Any]:
    meter = call.path_object(METER.name)
    if meter["status"] == "inactive":
        raise already(meter, "inactive")
    now = call.now()
    call.account.service(Metering).deactivate(meter)
    changes = {"status": "inactive", "status_transitions": {"deactivated_at": now}, "updated": now}
    return call.account.update(meter, changes, action="deactivated")


def reactivate(call: Call) -> dict[str, Any]:
    meter = call.path_object(METER.name)
    if meter["status"] == "active":
        raise already(meter, "active")
    metering = call.account.service(Metering)
    metering.ensure_available(meter["event_name"])
    # UNSURE: whether Stripe clears `deactivated_at` on reactivation; it describes the current status here.
    changes = {"status": "active", "status_transitions": {"deactivated_at": None}, "updated": call.now()}
    call.account.update(meter, changes, action="reactivated")
    metering.activate(meter)
    return meter


AREA = Area(
    name="meters",
    types=(METER,),
    endpoints=(
        Endpoint("POST", "/v1/billing/meters", create, CREATE, "Create a billing meter", returns="billing.meter"),
        Endpoint("GET", "/v1/billing/meters", list_meters, LIST, "List billing meters, newest first", returns=ListOf("billing.meter")),
        Endpoint("GET", "/v1/billing/meters/{id}", retrieve, endpoint(), "Retrieve a billing meter", returns="billing.meter"),
        Endpoint("POST", "/v1/billing/meters/{id}", update, UPDATE, "Update a billing meter's display name", returns="billing.meter"),
        Endpoint("POST", "/v1/billing/meters/{id}/deactivate", deactivate, endpoint(), "Deactivate a billing meter", returns="billing.meter"),
        Endpoint("POST", "/v1/billing/meters/{id}/reactivate", reactivate, endpoint(), "Reactivate a billing meter", returns="billing.meter"),
    ),
)
