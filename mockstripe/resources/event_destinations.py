"""Event destinations and thin events (v2): `/v2/core/event_destinations` and `/v2/core/events`.

A `webhook_endpoint` destination receives, signed, either thin notifications of v2 events
(`event_payload: thin`, e.g. meter error reports) or v1 events in full (`snapshot`). Its URL and
signing secret are redacted from the object unless `include` asks for them (the secret on create
only). See `domain/thin_events.py` and `delivery.py`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..domain import thin_events
from ..domain.event_types import EVENT_TYPES
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.ids import new_id
from ..wire.lists import in_range
from ..wire.objects import ObjectType
from ..wire.params import DateTime, Enum, Hash, Integer, List, Map, String, Unsupported, merge_metadata
from ..wire.times import format_rfc3339, parse_rfc3339

Obj = dict[str, Any]

DESTINATION = ObjectType(name=thin_events.DESTINATION_TYPE, noun="event destination")
EVENT = ObjectType(name=thin_events.EVENT_TYPE, noun="event")

INCLUDE_URL = List(item=Enum("webhook_endpoint.url"))
PAGE = dict(limit=Integer(minimum=1, maximum=100), page=String(nullable=False))
WEBHOOK_ENDPOINT = Hash(fields={"url": String(required=True)})

CREATE = Hash(
    fields={
        "name": String(required=True, max_length=100),
        "type": Enum("webhook_endpoint", "amazon_eventbridge", "azure_event_grid", required=True),
        "event_payload": Enum("thin", "snapshot", required=True),
        "enabled_events": List(required=True, min_items=1, item=String(max_length=200)),
        "description": String(max_length=500),
        "metadata": Map(),
        "include": List(item=Enum("webhook_endpoint.signing_secret", "webhook_endpoint.url")),
        "events_from": List(item=Enum("@self")),
        "snapshot_api_version": String(max_length=100),
        "webhook_endpoint": WEBHOOK_ENDPOINT,
        "amazon_eventbridge": Unsupported(),
        "azure_event_grid": Unsupported(),
    }
)
UPDATE = Hash(
    fields={
        "name": String(max_length=100, nullable=False),
        "description": String(max_length=500),
        "enabled_events": List(min_items=1, item=String(max_length=200)),
        "metadata": Map(),
        "include": INCLUDE_URL,
        "webhook_endpoint": WEBHOOK_ENDPOINT,
    }
)
RETRIEVE = Hash(fields={"include": INCLUDE_URL})
LIST_DESTINATIONS = Hash(fields={"include": INCLUDE_URL, **PAGE})
NO_PARAMS = Hash()
LIST_EVENTS = Hash(
    fields={
        "created": Hash(fields={"gt": DateTime(), "gte": DateTime(), "lt": DateTime(), "lte": DateTime()}),
        "object_id": String(nullable=False),
        "types": List(item=String(), max_items=20),
        **PAGE,
    }
)


def _private(call: Call, destination: Obj) -> dict[str, str]:
    return call.account.collection(DESTINATION.name).private[destination["id"]]


def _shown(call: Call, destination: Obj, include: list[str] | None) -> Obj:
    """The destination with the redacted fields `include` asks for."""
    if not include:
        return destination
    private = _private(call, destination)
    endpoint = dict(destination["webhook_endpoint"])
    for path in include:
        key = path.partition(".")[2]
        endpoint[key] = private[key]
    return {**destination, "webhook_endpoint": endpoint}


def _check_events(payload: str, events: list[str]) -> None:
    """Snapshot destinations take v1 event types (or `*`); thin ones any v2 event type."""
    if payload != "snapshot":
        return
    for index, event_type in enumerate(events):
        if event_type != "*" and event_type not in EVENT_TYPES:
            # UNSURE: Stripe's wording for an unknown event type.
            raise invalid(f"Invalid event type: {event_type}", param=f"enabled_events[{index}]")


def create(call: Call) -> Obj:
    params, now = call.params, format_rfc3339(call.now())
    if params["type"] != "webhook_endpoint":
        raise invalid(
            f"Event destinations of type {params['type']} are not supported by mockstripe: use webhook_endpoint.",
            param="type",
        )
    if params.get("webhook_endpoint") is None:
        raise invalid("Missing required param: webhook_endpoint.", param="webhook_endpoint")
    _check_events(params["event_payload"], params["enabled_events"])
    snapshot = params["event_payload"] == "snapshot"
    if params.get("snapshot_api_version") is not None and not snapshot:
        raise invalid("snapshot_api_version can only be set for snapshot event destinations.", param="snapshot_api_version")
    destination = {
        "id": new_id("ed_test"),
        "object": DESTINATION.name,
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "created": now,
        "description": params.get("description") or "",
        "enabled_events": params["enabled_events"],
        "event_payload": params["event_payload"],
        "events_from": params.get("events_from") or ["@self"],
        "livemode": False,
        "metadata": {k: v for k, v in (params.get("metadata") or {}).items() if v is not None},
        "name": params["name"],
        "snapshot_api_version": (params.get("snapshot_api_version") or call.server.events.api_version) if snapshot else None,
        "status": "enabled",
        "status_details": None,
        "type": "webhook_endpoint",
        "updated": now,
        "webhook_endpoint": {"signing_secret": None, "url": None},
    }
    call.account.create(destination, url=params["webhook_endpoint"]["url"], signing_secret=new_id("whsec"))
    return _shown(call, destination, params.get("include"))


def retrieve(call: Call) -> Obj:
    return _shown(call, call.path_object(DESTINATION.name), call.params.get("include"))


def update(call: Call) -> Obj:
    destination = call.path_object(DESTINATION.name)
    params = call.params
    changes: Obj = {}
    for key in ("name", "enabled_events"):
        if params.get(key) is not None:
            changes[key] = params[key]
    if "description" in params:
        changes["description"] = params["description"] or ""
    if "metadata" in params:
        changes["metadata"] = merge_metadata(destination["metadata"], params["metadata"])
    _check_events(destination["event_payload"], changes.get("enabled_events", []))
    if params.get("webhook_endpoint") is not None:
        _private(call, destination)["url"] = params["webhook_endpoint"]["url"]
    changes["updated"] = format_rfc3339(call.now())
    call.account.update(destination, changes)
    return _shown(call, destination, params.get("include"))


def delete(call: Call) -> Obj:
    destination = call.path_object(DESTINATION.name)
    call.account.delete(destination)
    return {"id": destination["id"], "object": DESTINATION.name}


def _set_status(call: Call, status: str) -> Obj:
    destination = call.path_object(DESTINATION.name)
    details = None if status == "enabled" else {"disabled": {"reason": "user"}}
    call.account.update(destination, {"status": status, "status_details": details, "updated": format_rfc3339(call.now())})
    return destination


def enable(call: Call) -> Obj:
    return _set_status(call, "enabled")


def disable(call: Call) -> Obj:
    return _set_status(call, "disabled")


def ping(call: Call) -> Obj:
    """Send a `v2.core.event_destination.ping` thin event to this destination (if enabled)."""
    destination = call.path_object(DESTINATION.name)
    related = {"id": destination["id"], "type": DESTINATION.name, "url": f"/v2/core/event_destinations/{destination['id']}"}
    event = thin_events.publish(call.account, thin_events.PING, related, None)
    if destination["status"] == "enabled":
        call.server.courier.post(call.account, destination, thin_events.notification(event))
    return event


def list_destinations(call: Call) -> Obj:
    include = call.params.get("include")
    found = [_shown(call, d, include) for d in call.account.collection(DESTINATION.name).newest_first()]
    return _v2_page(call, found)


def retrieve_event(call: Call) -> Obj:
    return call.path_object(EVENT.name)


def list_events(call: Call) -> Obj:
    params = call.params
    types = set(params.get("types") or ())
    object_id = params.get("object_id")
    created = {
        bound: int(moment.timestamp() * 1000) for bound, moment in (params.get("created") or {}).items() if moment
    }

    def keep(event: Obj) -> bool:
        related = event.get("related_object")
        moment = parse_rfc3339(event["created"])
        return (
            (not types or event["type"] in types)
            and (object_id is None or (related is not None and related["id"] == object_id))
            and (not created or (moment is not None and in_range(int(moment.timestamp() * 1000), created)))
        )

    return _v2_page(call, [e for e in call.account.collection(EVENT.name).newest_first() if keep(e)])


def _v2_page(call: Call, items: list[Obj]) -> Obj:
    """A v2 list page: `page` is the id of the last object of the previous page."""
    limit = call.params.get("limit") or 20
    after = call.params.get("page")
    if after is not None:
        position = next((i for i, obj in enumerate(items) if obj["id"] == after), None)
        if position is None:
            raise invalid(f"Invalid page token: {after}", param="page")
        items = items[position + 1 :]
    page, more = items[:limit], len(items) > limit
    next_url = None
    if more:
        query = {k: v for k, v in call.params.items() if k not in ("page", "created", "types", "include")}
        query["page"] = page[-1]["id"]
        next_url = f"{call.path}?{urlencode(query)}"
    return {"data": page, "next_page_url": next_url, "previous_page_url": None}


PATH = "/v2/core/event_destinations"

AREA = Area(
    name="event_destinations",
    types=(DESTINATION, EVENT),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create an event destination (a webhook endpoint for thin or snapshot events)"),
        Endpoint("GET", PATH, list_destinations, LIST_DESTINATIONS, "List event destinations, newest first"),
        Endpoint("GET", PATH + "/{id}", retrieve, RETRIEVE, "Retrieve an event destination"),
        Endpoint("POST", PATH + "/{id}", update, UPDATE, "Update an event destination"),
        Endpoint("DELETE", PATH + "/{id}", delete, NO_PARAMS, "Delete an event destination"),
        Endpoint("POST", PATH + "/{id}/enable", enable, NO_PARAMS, "Enable an event destination"),
        Endpoint("POST", PATH + "/{id}/disable", disable, NO_PARAMS, "Disable an event destination"),
        Endpoint("POST", PATH + "/{id}/ping", ping, NO_PARAMS, "Send a ping thin event to an event destination"),
        Endpoint("GET", "/v2/core/events", list_events, LIST_EVENTS, "List thin events, newest first"),
        Endpoint("GET", "/v2/core/events/{id}", retrieve_event, NO_PARAMS, "Retrieve a thin event with its data"),
    ),
)
