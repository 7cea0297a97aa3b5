"""Shared test helpers. The `mockstripe_url` and `stripe_api_key` fixtures come from mockstripe's own
pytest plugin; `stripe_client` is the plugin's, with every successful response held to the shapes the
SDK declares (see conformance/shapes.py)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

# The guide's promises are asserted in the conformance suite: rewritten before anything imports them.
pytest.register_assert_rewrite("conformance.promises")

import mockstripe  # noqa: E402
from conformance.guide_params import Subscribed, meter_event_params, subscribe  # noqa: E402
from conformance.recording import (  # noqa: E402
    ShapeCheckedAsyncClient,
    ShapeCheckedClient,
    Violations,
    session_checker,
)
from mockstripe.app import STATE, create_app  # noqa: E402
from mockstripe.store import Account  # noqa: E402


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


def fail_on_shape_violations(violations: Violations) -> None:
    if violations.found:
        pytest.fail("responses differ from the SDK's declared shapes:\n" + "\n".join(violations.found), pytrace=False)


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
    fail_on_shape_violations(http_client.violations)


@pytest.fixture
def guide(stripe_client: stripe.StripeClient) -> Subscribed:
    """The usage-based billing guide on a test clock frozen at 2026-01-01, with its 25 tokens of usage."""
    subscribed = subscribe(stripe_client, 1_767_225_600, email="john@example.com")
    stripe_client.v1.billing.meter_events.create(meter_event_params(subscribed.customer.id))
    return subscribed


@pytest.fixture
def raw_http() -> type[RawHTTP]:
    """The class behind `raw`, for another key or another server: `raw_http(url, key)`."""
    return RawHTTP


@dataclass
class InProcess:
    """An app in the test's own event loop: the async SDK client, and the account behind its key
    (to set its clock, or to look at state the API does not show)."""

    client: stripe.StripeClient  # used through its `*_async` methods
    account: Account
    http: Any  # the SDK's aiohttp client, shared by every client of this app
    url: str

    def client_for(self, key: str) -> stripe.StripeClient:
        """Another async SDK client of this app, with another key (or a meter event session token)."""
        return stripe.StripeClient(key, base_addresses={"api": self.url, "meter_events": self.url}, http_client=self.http)


@pytest.fixture
async def in_process(
    request: pytest.FixtureRequest, aiohttp_client: Any, stripe_api_key: str
) -> AsyncIterator[InProcess]:
    app = create_app()
    server = await aiohttp_client(app)
    http = ShapeCheckedAsyncClient(session_checker(request.config))
    url = str(server.make_url("")).rstrip("/")
    setup = InProcess(None, app[STATE].store.account(stripe_api_key), http, url)
    setup.client = setup.client_for(stripe_api_key)
    yield setup
    await http.close_async()
    fail_on_shape_violations(http.violations)


# --- Servers in child processes (the CLI, an installed wheel) ---

STARTUP_SECONDS = 20


@pytest.fixture(scope="session")
def source_env() -> dict[str, str]:
    """This process's environment, with PYTHONPATH set so that a child process imports the same
    `mockstripe` as this one (a relative PYTHONPATH would not survive a change of directory)."""
    return {**os.environ, "PYTHONPATH": str(Path(mockstripe.__file__).resolve().parents[1])}


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str, str]:
        """Send `sig`; returns the exit code and the rest of stdout and stderr."""
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=STARTUP_SECONDS)
        return self.process.returncode, out, err


@pytest.fixture
def spawn_server(source_env: dict[str, str]) -> Iterator[Callable[..., ServerProcess]]:
    """Start a server command; returns once it printed its URL. Whatever is left running is killed."""
    children: list[subprocess.Popen[str]] = []

    def spawn(command: list[str], env: dict[str, str] | None = None) -> ServerProcess:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or source_env
        )
        children.append(process)
        watchdog = threading.Timer(STARTUP_SECONDS, process.kill)
        watchdog.start()
        try:
            first_line = process.stdout.readline()  # type: ignore[union-attr]  # stdout=PIPE: never None
        finally:
            watchdog.cancel()
        found = re.fullmatch(r"mockstripe listening on (http://\S+)\n", first_line)
        if found is None:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"{command} did not start: {first_line + out!r}\n{err}")
        return ServerProcess(process, found.group(1))

    yield spawn
    for process in children:
        if process.poll() is None:
            process.kill()
            process.communicate()
