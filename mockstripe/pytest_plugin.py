"""pytest fixtures: one server per test session, and a fresh isolated account per test.

Each test's `stripe_client` uses a new random `sk_test_` key, and every key is its own account,
so tests (and pytest-xdist workers, each with their own server) never see each other's objects.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Iterator

import pytest

from .config import Config
from .server import serve_in_thread

if TYPE_CHECKING:
    import stripe


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockstripe")
    group.addoption(
        "--mockstripe-strict-meter-events",
        action="store_true",
        help="start the session's mockstripe server in strict meter event mode",
    )


@pytest.fixture(scope="session")
def mockstripe_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of a mockstripe server running for the whole test session."""
    strict = request.config.getoption("--mockstripe-strict-meter-events")
    with serve_in_thread(Config(port=0, strict_meter_events=strict)) as url:
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
