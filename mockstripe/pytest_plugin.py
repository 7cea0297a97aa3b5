"""pytest fixtures: one server per test session, and a fresh isolated account per test.

Each test's `stripe_client` uses a new random `sk_test_` key, and every key is its own account,
so tests never see each other's objects. Under pytest-xdist each worker starts its own server.
With `MOCKSTRIPE_URL` set (say, to a CI service container) the session uses that server instead;
its own flags then apply. Heavy imports wait until a fixture needs them: this module is loaded
by every pytest run in an environment where mockstripe is installed.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Iterator

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
    from .server import serve_in_thread  # noqa: PLC0415 (pytest loads plugins early: import the server only when used)

    with serve_in_thread(mockstripe_config) as url:
        yield url


@pytest.fixture
def stripe_api_key() -> str:
    """A fresh test key: a new, empty account on the session's server."""
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def stripe_client(mockstripe_url: str, stripe_api_key: str) -> stripe.StripeClient:
    """An official `stripe.StripeClient` pointed at mockstripe, with its own empty account."""
    import stripe  # noqa: PLC0415 (the SDK is only needed by tests that use this fixture)

    return stripe.StripeClient(
        stripe_api_key,
        base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url},
    )
