"""Meter events (v1): `POST /v1/billing/meter_events` and `POST /v1/billing/meter_event_adjustments`.

Neither object has an id or is stored as an object: `Metering` keeps what aggregation needs.
"""

from __future__ import annotations

from typing import Any

from ..domain.metering import Metering
from ..routing import Area, Call, Endpoint
from ..wire.objects import ObjectType
from ..wire.params import TIMESTAMP, Enum, Hash, Map, String, endpoint, missing

METER_EVENT = ObjectType(name="billing.meter_event", noun="billing meter event")
ADJUSTMENT = ObjectType(name="billing.meter_event_adjustment", noun="billing meter event adjustment")

CREATE = endpoint(
    event_name=String(required=True, max_length=100),
    # A free string map: none of metadata's limits apply.
    payload=Map(required=True, max_keys=None, max_key_length=None, max_value_length=None),
    timestamp=TIMESTAMP,
    identifier=String(max_length=100),
)


def _require_cancel_identifier(values: dict[str, Any], path: str) -> None:
    # The SDK marks it optional (range cancels are planned), but a cancel needs to name its event.
    if values.get("type") == "cancel" and (values.get("cancel") or {}).get("identifier") is None:
        raise missing("cancel[identifier]")


ADJUST = endpoint(
    event_name=String(required=True, max_length=100),
    type=Enum("cancel", required=True),
    cancel=Hash(fields={"identifier": String(max_length=100)}),
    checks=(_require_cancel_identifier,),
)


def create(call: Call) -> dict[str, Any]:
    params = call.params
    payload = params["payload"]
    if None in payload.values():  # the validator reads "" as unset; a payload keeps it as sent
        payload = {key: value or "" for key, value in payload.items()}
    # A customer on a test clock sends events in the clock's time.
    now = call.account.service(Metering).now_for(call.account, params["event_name"], payload)
    timestamp = params.get("timestamp")
    if timestamp is None:
        timestamp = now
    identifier = call.account.service(Metering).record(
        call.account,
        params["event_name"],
        payload,
        timestamp,
        params.get("identifier"),
        call.server.config.strict_meter_events,
    )
    return {
        "object": "billing.meter_event",
        "created": now,
        "event_name": params["event_name"],
        "identifier": identifier,
        "livemode": False,
        "payload": payload,
        "timestamp": timestamp,
    }


def adjust(call: Call) -> dict[str, Any]:
    params = call.params
    identifier = params["cancel"]["identifier"]
    call.account.service(Metering).cancel(call.account, params["event_name"], identifier, call.now())
    return {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "event_name": params["event_name"],
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }


AREA = Area(
    name="meter_events",
    types=(METER_EVENT, ADJUSTMENT),
    endpoints=(
        Endpoint("POST", "/v1/billing/meter_events", create, CREATE, "Record a meter event"),
        Endpoint(
            "POST",
            "/v1/billing/meter_event_adjustments",
            adjust,
            ADJUST,
            "Cancel a meter event received in the last 24 hours",
        ),
    ),
)
