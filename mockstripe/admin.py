"""`/_mock/...`: endpoints for operating the server itself, outside Stripe's API."""

from __future__ import annotations

from itertools import islice
from typing import Any

from . import __version__
from .domain.metering import Metering
from .domain.webhooks import DeliveryLog
from .memory import rss_bytes
from .routing import Area, Call, Endpoint
from .wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, list_object, paginate_computed
from .wire.params import Integer, String, endpoint
from .wire.spec import operations, route_key, source


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


def flush_meter_error_reports(call: Call) -> dict[str, Any]:
    """Report the caller's dropped meter events now, without waiting for the window to close."""
    sent = call.server.courier.report_meter_errors(call.server.store, account=call.account)
    return list_object(sent, False, "/_mock/meter_error_reports/flush")
def webhook_deliveries(call: Call) -> dict[str, Any]:
    """This account's webhook delivery attempts, newest first (the latest ones only)."""
    attempts = list(call.account.service(DeliveryLog).attempts)
    return paginate_computed(attempts, call.params, call.path, noun="webhook delivery")


def coverage(call: Call) -> dict[str, Any]:
    """Which of the spec's v1 operations this server answers: by hand, generically, or not at all."""
    answered = {
        route_key(e.method, e.path): "generic" if e.fidelity == "generic" else "hand_built"
        for area in call.server.areas
        for e in area.endpoints
    }
    rows = [
        {"method": op.method, "path": op.path, "answered_by": answered.get(op.route_key, "missing")}
        for op in operations()
    ]
    counts = {kind: sum(1 for row in rows if row["answered_by"] == kind) for kind in ("hand_built", "generic", "missing")}
    return {"spec": source()["spec"], "operations": len(rows), **counts, "data": rows}


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
        Endpoint(
            "POST",
            "/_mock/meter_error_reports/flush",
            flush_meter_error_reports,
            endpoint(),
            "Send the caller's pending meter error reports (thin events) now; lists the events sent",
        ),
        Endpoint(
            "GET",
            "/_mock/webhook_deliveries",
            webhook_deliveries,
            endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE),
            "Webhook delivery attempts of the caller's account, newest first: status or error, timing, next retry",
        ),
        Endpoint(
            "GET",
            "/_mock/coverage",
            coverage,
            endpoint(),
            "Which of the spec's operations are answered by hand, generically, or not at all (no auth)",
            auth="none",
        ),
    ),
)
