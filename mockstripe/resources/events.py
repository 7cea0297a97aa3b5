"""Events: `/v1/events`, what changed in the account, newest first."""

from __future__ import annotations

import fnmatch
from typing import Any

from ..domain.events import EventLog
from ..routing import Area, Call, Endpoint
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import CREATED_FILTER, Boolean, List, String, endpoint

Obj = dict[str, Any]

LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    delivery_success=Boolean(),
    type=String(nullable=False),
    types=List(item=String(), max_items=20),
    exclusive=(*PAGE_EXCLUSIVE, ("type", "types")),
)

EVENT = ObjectType(name="event", noun="event")


def retrieve(call: Call) -> Obj:
    return call.path_object("event")


def list_events(call: Call) -> Obj:
    params = call.params
    wanted = params.get("type")
    types = set(params.get("types") or ())
    created = params.get("created")
    delivered = params.get("delivery_success")
    failed = call.account.service(EventLog).failed

    def keep(event: Obj) -> bool:
        return (
            (wanted is None or fnmatch.fnmatchcase(event["type"], wanted))
            and (not types or event["type"] in types)
            and (created is None or in_range(event["created"], created))
            and (delivered is None or (event["id"] not in failed) == delivered)
        )

    return call.page("event", keep)


AREA = Area(
    name="events",
    types=(EVENT,),
    endpoints=(
        Endpoint("GET", "/v1/events", list_events, LIST, "List events, newest first", returns=ListOf("event")),
        Endpoint("GET", "/v1/events/{id}", retrieve, endpoint(), "Retrieve an event", returns="event"),
    ),
)
