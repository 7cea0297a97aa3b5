"""The ceiling: the cheapest aiohttp server that answers the benchmarked routes.

Each handler reads the request body (any real handler must, to keep the
connection reusable) and returns one fixed, customer-sized JSON object, with
no parsing, storage or validation. Whatever mockstripe spends beyond this is
its own overhead, so mockstripe/ceiling is the fraction of the framework's
rate that mockstripe keeps. The event loop is chosen by `--loop` so that the
ceiling can run on the same loop as mockstripe.
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
from aiohttp import web

# Shaped like a Stripe customer, ~700 bytes serialised: the same size class as
# what mockstripe sends back, so response writing costs the same.
CUSTOMER: dict[str, object] = {
    "id": "cus_NffrFeUfNV2Hib",
    "object": "customer",
    "address": None,
    "balance": 0,
    "created": 1680893993,
    "currency": None,
    "default_source": None,
    "delinquent": False,
    "description": None,
    "discount": None,
    "email": "jenny@example.com",
    "invoice_prefix": "0759376C",
    "invoice_settings": {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    },
    "livemode": False,
    "metadata": {},
    "name": "Jenny Rosen",
    "next_invoice_sequence": 1,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "test_clock": None,
    "business_name": None,
    "individual_name": None,
    "customer_account": None,
    "cash_balance": None,
    "invoice_credit_balance": {},
    "sources": None,
    "subscriptions": None,
    "tax_ids": None,
}


async def fixed_object(request: web.Request) -> web.Response:
    await request.read()
    # Serialised per request, as any JSON API does for a dynamic object.
    return web.Response(body=orjson.dumps(CUSTOMER), content_type="application/json")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/customers", fixed_object)
    app.router.add_get("/v1/customers/{id}", fixed_object)
    app.router.add_post("/v1/billing/meter_events", fixed_object)
    app.router.add_get("/_mock/health", health)
    return app


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="asyncio")
    args = parser.parse_args()
    web.run_app(
        make_app(),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=new_loop(args.loop),
    )


if __name__ == "__main__":
    main()
