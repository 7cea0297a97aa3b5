"""Small Stripe-shaped HTTP client for fixtures, latency probes and bulk loads.

One synchronous keep-alive connection is all that fixtures and sequential
latency probes need; anything concurrent goes through wrk (load.py).
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

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
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the connection while it sat idle (e.g. during
            # a long load through wrk); the request never reached it.
            self.conn.close()
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
