"""A webhook receiver for the bench: bare aiohttp, verifying each delivery's signature and counting
deliveries by event id.

    receiver.py --port P [--hold]

POST /webhooks verifies `Stripe-Signature` (v1, the secret set by POST /secret) and answers 200,
or 400 when it does not verify. With --hold, deliveries wait unanswered until GET /release, so a
backlog can be queued first and the drain timed alone. GET /stats tells what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import time

import orjson
from aiohttp import web


class Counts:
    def __init__(self, hold: bool) -> None:
        self.secret = b""
        self.ids: set[str] = set()
        self.received = 0
        self.duplicates = 0
        self.unverified = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.released_at: float | None = None
        self.released = asyncio.Event()
        if not hold:
            self.released.set()


def _verified(secret: bytes, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    expected = hmac.new(secret, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def make_app(hold: bool) -> web.Application:
    counts = Counts(hold)

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        await counts.released.wait()
        if not _verified(counts.secret, request.headers.get("Stripe-Signature", ""), body):
            counts.unverified += 1
            return web.Response(status=400)
        event_id = orjson.loads(body)["id"]
        counts.received += 1
        if event_id in counts.ids:
            counts.duplicates += 1
        counts.ids.add(event_id)
        now = time.monotonic()
        counts.first_at = counts.first_at or now
        counts.last_at = now
        return web.Response()

    async def secret(request: web.Request) -> web.Response:
        counts.secret = await request.read()
        return web.Response()

    async def release(request: web.Request) -> web.Response:
        counts.released_at = time.monotonic()
        counts.released.set()
        return web.Response()

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({
            "received": counts.received,
            "unique": len(counts.ids),
            "duplicates": counts.duplicates,
            "unverified": counts.unverified,
            "first_at": counts.first_at,
            "last_at": counts.last_at,
            "released_at": counts.released_at,
            "now": time.monotonic(),
        })

    async def health(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_post("/webhooks", webhook)
    app.router.add_post("/secret", secret)
    app.router.add_get("/release", release)
    app.router.add_get("/stats", stats)
    app.router.add_get("/_mock/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    web.run_app(make_app(args.hold), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
