"""`/_mock/...`: endpoints for operating the server itself, outside Stripe's API."""

from __future__ import annotations

from typing import Any

from . import __version__
from .routing import Area, Call, Endpoint
from .wire.params import String, endpoint, invalid


def health(call: Call) -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


def reset(call: Call) -> dict[str, Any]:
    key = call.params.get("api_key")
    return {"reset_accounts": call.server.store.reset(key)}


def _no_empty_key(values: dict[str, Any], path: str) -> None:
    # `api_key=` must not fall back to "every account": a blank variable in a script would wipe all.
    if values.get("api_key") == "":
        raise invalid("api_key must be a secret key (sk_test_...); leave it out to reset every account", "api_key")


AREA = Area(
    name="admin",
    types=(),
    endpoints=(
        Endpoint("GET", "/_mock/health", health, endpoint(), "Liveness check (no auth)", auth="none"),
        Endpoint(
            "POST",
            "/_mock/reset",
            reset,
            endpoint(api_key=String(nullable=False), checks=(_no_empty_key,)),
            "Forget all accounts, or only the one of `api_key`",
            auth="none",
        ),
    ),
)
