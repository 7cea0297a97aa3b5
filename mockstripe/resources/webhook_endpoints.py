"""Webhook endpoints: `/v1/webhook_endpoints`, where an account's events are delivered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..domain.event_types import EVENT_TYPES
from ..domain.webhooks import ALL_EVENTS, Signer, new_secret
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import Boolean, List, Map, String, Unsupported, endpoint, invalid, merge_metadata

Obj = dict[str, Any]

# UNSURE: Stripe's wording for an event type it does not know in `enabled_events`.
UNKNOWN_EVENT_TYPE = "Invalid enabled_events: '{}' is not a valid event type."
# UNSURE: Stripe's wording for a `url` that is not an absolute http(s) URL.
INVALID_URL = "Invalid URL: {}. It must be an absolute URL starting with http:// or https://."


@dataclass(frozen=True, kw_only=True)
class EventType(String):
    """One of Stripe's event types, or `*` for all of them; a wrong one names `enabled_events`."""

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        name = super().coerce(value, path, account)
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise invalid(UNKNOWN_EVENT_TYPE.format(name), param="enabled_events")
        return name


@dataclass(frozen=True, kw_only=True)
class WebhookUrl(String):
    """An absolute http(s) URL with a host (plain http is fine for a local server)."""

    max_length: int = 2048

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        url = super().coerce(value, path, account)
        try:
            parts = urlsplit(url)
            valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
        except ValueError:  # a port that is not a number, or out of range
            valid = False
        if not valid or any(c.isspace() for c in url):
            raise invalid(INVALID_URL.format(url), param=path)
        return url


ENABLED_EVENTS = List(item=EventType(), min_items=1)
DESCRIPTION = String(max_length=5000)

CREATE = endpoint(
    url=WebhookUrl(required=True),
    enabled_events=List(item=EventType(), min_items=1, required=True),
    api_version=String(nullable=False),
    connect=Unsupported(),
    description=DESCRIPTION,
    metadata=Map(),
)
UPDATE = endpoint(
    url=WebhookUrl(nullable=False),
    enabled_events=ENABLED_EVENTS,
    disabled=Boolean(),
    description=DESCRIPTION,
    metadata=Map(),
)
LIST = endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE)

WEBHOOK_ENDPOINT = ObjectType(name="webhook_endpoint", noun="webhook endpoint")


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def create(call: Call) -> Obj:
    params = call.params
    endpoint_obj: Obj = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": call.now(),
        "description": params.get("description"),
        "enabled_events": _unique(params["enabled_events"]),
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "status": "enabled",
        "url": params["url"],
    }
    secret = new_secret()
    call.account.create(endpoint_obj, secret=secret, signer=Signer(secret))
    # The secret is shown once, in the answer to create; retrieves and lists leave it out.
    return {**endpoint_obj, "secret": secret}


def retrieve(call: Call) -> Obj:
    return call.path_object("webhook_endpoint")


def update(call: Call) -> Obj:
    endpoint_obj = call.path_object("webhook_endpoint")
    params = call.params
    changes: Obj = {}
    for key in ("url", "description"):
        if key in params:
            changes[key] = params[key]
    if params.get("enabled_events") is not None:
        changes["enabled_events"] = _unique(params["enabled_events"])
    if params.get("disabled") is not None:
        changes["status"] = "disabled" if params["disabled"] else "enabled"
    if "metadata" in params:
        changes["metadata"] = merge_metadata(endpoint_obj["metadata"], params["metadata"])
    return call.account.update(endpoint_obj, changes)


def delete(call: Call) -> Obj:
    return call.account.delete(call.path_object("webhook_endpoint"))


def list_endpoints(call: Call) -> Obj:
    return call.page("webhook_endpoint")


AREA = Area(
    name="webhook_endpoints",
    types=(WEBHOOK_ENDPOINT,),
    endpoints=(
        Endpoint(
            "POST", "/v1/webhook_endpoints", create, CREATE, "Create a webhook endpoint (its `secret` shows only here)",
            returns="webhook_endpoint",
        ),
        Endpoint(
            "GET", "/v1/webhook_endpoints", list_endpoints, LIST, "List webhook endpoints, newest first",
            returns=ListOf("webhook_endpoint"),
        ),
        Endpoint(
            "GET", "/v1/webhook_endpoints/{id}", retrieve, endpoint(), "Retrieve a webhook endpoint",
            returns="webhook_endpoint",
        ),
        Endpoint(
            "POST", "/v1/webhook_endpoints/{id}", update, UPDATE,
            "Update a webhook endpoint (`disabled=true` stops its deliveries)", returns="webhook_endpoint",
        ),
        Endpoint(
            "DELETE", "/v1/webhook_endpoints/{id}", delete, endpoint(), "Delete a webhook endpoint",
            returns="webhook_endpoint",
        ),
    ),
)
