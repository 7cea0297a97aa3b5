"""`/_mock/...`: endpoints for operating the server itself, outside Stripe's API."""

from __future__ import annotations

from itertools import islice
from typing import Any

from . import __version__
from .domain.metering import Metering
from .memory import rss_bytes
from .routing import Area, Call, Endpoint
from .wire.lists import list_object
from .wire.params import Integer, String, endpoint


def health(call: Call) -> dict[str, Any]:
    store = call.server.store
    return {
        "status": "ok",
        "version": __version__,
        "accounts": len(store.accounts),
        "objects": store.object_count(),
        "rss_bytes": rss_bytes(),  # null where the platform does not say
    }


def reset(call: Call) -> dict[str, Any]:
    key = call.params.get("api_key")
    return {"reset_accounts": call.server.store.reset(key)}


def meter_event_errors(call: Call) -> dict[str, Any]:
    """Meter events this account sent that Stripe would accept and then drop, newest first."""
    dropped = call.account.service(Metering).dropped
    limit = call.params.get("limit") or 10
    data = list(islice(dropped, limit))
    return list_object(data, len(dropped) > limit, "/_mock/meter_event_errors")


AREA = Area(
    name="admin",
    types=(),
    endpoints=(
        Endpoint("GET", "/_mock/health", health, endpoint(), "Liveness check (no auth)", auth="none"),
        Endpoint(
            "POST",
            "/_mock/reset",
            reset,
            endpoint(api_key=String(nullable=False)),
            "Forget all accounts, or only the one of `api_key` (needs the admin token if one is set)",
            auth="admin",
        ),
        Endpoint(
            "GET",
            "/_mock/meter_event_errors",
            meter_event_errors,
            endpoint(limit=Integer(minimum=1, maximum=100)),
            "Meter events the caller's account accepted and then dropped (no meter, unknown customer, ...)",
        ),
    ),
)
