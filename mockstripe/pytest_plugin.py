"""pytest fixtures: one server per test session, and a fresh isolated account per test.

Each test's `stripe_client` uses a new random `sk_test_` key, and every key is its own account,
so tests never see each other's objects. Under pytest-xdist each worker starts its own server.
With `MOCKSTRIPE_URL` set (say, to a CI service container) the session uses that server instead;
its own flags then apply. Heavy imports wait until a fixture needs them: this module is loaded
by every pytest run in an environment where mockstripe is installed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from .config import Config

if TYPE_CHECKING:
    import stripe

URL_VARIABLE = "MOCKSTRIPE_URL"
STRICT_METER_EVENTS = "mockstripe_strict_meter_events"


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "start the session's mockstripe server in strict meter event mode"
    group = parser.getgroup("mockstripe")
    group.addoption("--mockstripe-strict-meter-events", action="store_true", dest=STRICT_METER_EVENTS, help=help_text)
    parser.addini(STRICT_METER_EVENTS, help_text, type="bool", default=False)


@pytest.fixture(scope="session")
def mockstripe_config(pytestconfig: pytest.Config) -> Config:
    """Settings of the server the session starts; override this fixture to change them."""
    strict = pytestconfig.getoption(STRICT_METER_EVENTS) or pytestconfig.getini(STRICT_METER_EVENTS)
    return Config(port=0, strict_meter_events=bool(strict))


@pytest.fixture(scope="session")
def mockstripe_url(mockstripe_config: Config) -> Iterator[str]:
    """Base URL of the mockstripe server for the whole session: `$MOCKSTRIPE_URL`, or one started here."""
    external = os.environ.get(URL_VARIABLE, "").strip()
    if external:
        yield external.rstrip("/")
        return
    from .server import serve_in_thread  # noqa: PLC0415

    with serve_in_thread(mockstripe_config) as url:
        yield url


@pytest.fixture
def stripe_api_key() -> str:
    """A fresh test key: a new, empty account on the session's server."""
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def stripe_client(mockstripe_url: str, stripe_api_key: str) -> "stripe.StripeClient":
    """An official `stripe.StripeClient` pointed at mockstripe, with its own empty account."""
    import stripe  # noqa: PLC0415 (the SDK is only needed by tests that use this fixture)

    return stripe.StripeClient(
        stripe_api_key,
        base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url},
    )


class WebhookReceiver:
    """A local HTTP receiver of one test's webhooks (a background thread), verifying each with the
    SDK's `stripe.Webhook.construct_event` as an application would."""

    def __init__(self) -> None:
        import http.server  # noqa: PLC0415
        import threading  # noqa: PLC0415

        self.secret: str | None = None
        self.received: list["stripe.Event"] = []
        # Deliveries that failed verification: (error, body), answered 400.
        self.rejected: list[tuple[str, bytes]] = []
        self._returned: set[str] = set()
        self._changed = threading.Condition()
        self._ready = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._accept(body, self.headers.get("Stripe-Signature", ""))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-webhooks", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/webhooks"

    def listen(self, secret: str) -> None:
        """Start verifying with the endpoint's secret (deliveries wait for it)."""
        self.secret = secret
        self._ready.set()

    def _accept(self, body: bytes, signature: str) -> int:
        import stripe  # noqa: PLC0415

        self._ready.wait(timeout=10)
        try:
            event = stripe.Webhook.construct_event(body.decode("utf-8"), signature, self.secret or "")
        except (ValueError, stripe.SignatureVerificationError) as error:
            with self._changed:
                self.rejected.append((str(error), body))
                self._changed.notify_all()
            return 400
        with self._changed:
            self.received.append(event)
            self._changed.notify_all()
        return 200

    def wait_for(self, event_type: str, timeout: float = 5) -> "stripe.Event":
        """The earliest received event of `event_type` that `wait_for` has not returned yet,
        waiting up to `timeout` seconds for it to arrive."""
        import time  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.received:
                    if event.type == event_type and event.id not in self._returned:
                        self._returned.add(event.id)
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [event.type for event in self.received]
                    raise AssertionError(
                        f"no {event_type} webhook within {timeout} s; received {seen}"
                        + (f"; rejected: {[error for error, _ in self.rejected]}" if self.rejected else "")
                    )
                self._changed.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def stripe_webhooks(stripe_client: "stripe.StripeClient") -> Iterator[WebhookReceiver]:
    """The test account's webhooks: a receiver on a free local port, registered as a webhook
    endpoint for every event type. `wait_for(type)` returns the next verified `stripe.Event` of a
    type, `received` lists them in arrival order, `secret` is the endpoint's signing secret."""
    import stripe  # noqa: PLC0415

    receiver = WebhookReceiver()
    try:
        endpoint = stripe_client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
        receiver.listen(endpoint.secret or "")
        yield receiver
        with contextlib.suppress(stripe.StripeError):  # the server may be gone already
            stripe_client.v1.webhook_endpoints.delete(endpoint.id)
    finally:
        receiver.close()


@pytest.fixture
def stripe_events(stripe_client: "stripe.StripeClient") -> Callable[..., list["stripe.Event"]]:
    """`stripe_events(type=..., ...)`: the test account's events from `GET /v1/events`, oldest
    first (all pages), with no receiver."""

    def events(**params: Any) -> list["stripe.Event"]:
        return list(reversed(list(stripe_client.v1.events.list(params).auto_paging_iter())))

    return events
