"""Shared test helpers. The `mockstripe_url` and `stripe_api_key` fixtures come from mockstripe's own
pytest plugin; `stripe_client` is the plugin's, with every successful response held to the shapes the
SDK declares (see conformance/shapes.py)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

from conformance.recording import ShapeCheckedClient, session_checker


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: Any  # parsed JSON (or raw text if not JSON)

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


class RawHTTP:
    """Plain HTTP against the server, for wire details the SDK never sends."""

    def __init__(self, base_url: str, api_key: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.api_key = api_key

    def request(
        self,
        method: str,
        path: str,
        body: str | bytes | dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        sent = dict(headers or {})
        if auth and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.api_key}"
        if isinstance(body, dict):
            body = urlencode(body)
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return Reply(response.status, response.headers, parsed)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: str | bytes | dict[str, Any] | None = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def raw(mockstripe_url: str, stripe_api_key: str) -> RawHTTP:
    """Raw HTTP with the same fresh account as `stripe_client`."""
    return RawHTTP(mockstripe_url, stripe_api_key)


@pytest.fixture
def stripe_client(request: pytest.FixtureRequest, mockstripe_url: str, stripe_api_key: str) -> Iterator[stripe.StripeClient]:
    """An official `stripe.StripeClient` with its own empty account; fails the test if any 2xx
    response it received differs from the SDK's declared shape for its object type."""
    http_client = ShapeCheckedClient(session_checker(request.config))
    yield stripe.StripeClient(
        stripe_api_key,
        base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url},
        http_client=http_client,
    )
    found = http_client.violations.found
    if found:
        pytest.fail("responses differ from the SDK's declared shapes:\n" + "\n".join(found), pytrace=False)
