"""Small Stripe-shaped HTTP client for fixtures, latency probes and bulk loads.

Fixtures and latency probes use one synchronous keep-alive connection, which
is all a sequential latency measurement needs. Bulk event loading is the only
part that needs concurrency, and uses aiohttp.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

API_KEY = "sk_test_bench"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class EndpointMissing(Exception):
    """The server answered 404 for a route: that endpoint is not served yet."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"{method} {path} -> 404")
        self.method = method
        self.path = path


class RequestFailed(Exception):
    """The server answered a fixture request with a non-2xx status other than 404."""


def form(params: dict[str, str]) -> str:
    # Brackets stay literal, as the Stripe SDKs send them.
    return urlencode(params, safe="[]")


def auth(token: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Reply:
    status: int
    body: dict[str, object]


class Client:
    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def send(self, method: str, path: str, body: str | None, headers: dict[str, str]) -> Reply:
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return Reply(resp.status, parsed if isinstance(parsed, dict) else {"value": parsed})

    def call(self, method: str, path: str, params: dict[str, str] | None = None) -> dict[str, object]:
        """A v1 form request that must succeed; 404 raises EndpointMissing."""
        headers = auth()
        body = None
        if params is not None:
            body = form(params)
            headers["Content-Type"] = FORM
        reply = self.send(method, path, body, headers)
        if reply.status == 404 and not _is_resource_missing(reply.body):
            raise EndpointMissing(method, path)
        if not 200 <= reply.status < 300:
            raise RequestFailed(f"{method} {path} -> {reply.status}: {json.dumps(reply.body)[:300]}")
        return reply.body

    def call_json(self, path: str, payload: object, token: str = API_KEY) -> dict[str, object]:
        headers = auth(token) | {"Content-Type": JSON}
        reply = self.send("POST", path, json.dumps(payload), headers)
        if reply.status == 404 and not _is_resource_missing(reply.body):
            raise EndpointMissing("POST", path)
        if not 200 <= reply.status < 300:
            raise RequestFailed(f"POST {path} -> {reply.status}: {json.dumps(reply.body)[:300]}")
        return reply.body

    def timed(self, method: str, path: str, params: dict[str, str]) -> tuple[float, dict[str, object]]:
        """Seconds for one successful request, and its body."""
        t0 = time.perf_counter()
        body = self.call(method, path, params)
        return time.perf_counter() - t0, body


def _is_resource_missing(body: dict[str, object]) -> bool:
    # A 404 for a missing object (e.g. an unknown id) means the route exists.
    err = body.get("error")
    return isinstance(err, dict) and err.get("code") == "resource_missing"


async def _load(
    port: int,
    path: str,
    bodies: list[str],
    headers: dict[str, str],
    repeat: int,
    concurrency: int,
    deadline: float,
) -> int:
    """POST `bodies[i % len]` `repeat` times; returns how many succeeded before the deadline."""
    sent = 0
    ok = 0
    failure: str | None = None
    url = f"http://127.0.0.1:{port}{path}"
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, headers=headers) as session:

        async def worker() -> None:
            nonlocal sent, ok, failure
            while sent < repeat and failure is None and time.monotonic() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                async with session.post(url, data=body) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        ok += 1
                    else:
                        failure = f"POST {path} -> {resp.status}"

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failure:
        raise RequestFailed(failure)
    return ok


def load_events(
    port: int,
    path: str,
    bodies: list[str],
    headers: dict[str, str],
    repeat: int,
    concurrency: int,
    deadline: float,
) -> int:
    return asyncio.run(_load(port, path, bodies, headers, repeat, concurrency, deadline))
