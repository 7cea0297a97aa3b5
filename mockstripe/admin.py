"""`/_mock/...`: endpoints for operating the server itself, outside Stripe's API."""

from __future__ import annotations

from typing import Any

from .routing import Area, Call, Endpoint
from .wire.params import String, endpoint


def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


def reset(call: Call) -> dict[str, Any]:
    key = call.params.get("api_key")
    return {"reset_accounts": call.server.store.reset(key)}


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
            "Forget all accounts, or only the one of `api_key`",
            auth="none",
        ),
    ),
)
