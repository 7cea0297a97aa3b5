"""Builders for the objects billing tests need, made through the SDK as a user would, and the
servers and switches the meter event tests share."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest
import stripe

from mockstripe.config import Config
from mockstripe.server import serve_in_thread

_names = itertools.count()
# A card saved to a customer as its default: what subscriptions charge.
PAYING: dict[str, Any] = {"payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}}


class ClockedCustomer:
    """A paying customer on a test clock frozen at `start`, for amounts worked by hand over a few
    months."""

    def __init__(self, client: stripe.StripeClient, catalog: Catalog, start: int) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": start})
        self.customer = catalog.customer(test_clock=self.clock.id)

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})


class Catalog:
    """The usage-based billing guide's objects (meter, metered price, customer, subscription,
    meter events), each with the guide's values unless a test overrides them."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def meter(self, event_name: str | None = None) -> stripe.billing.Meter:
        return self.client.v1.billing.meters.create(
            {
                "display_name": "Alpaca AI tokens",
                "event_name": event_name or f"alpaca_ai_tokens_{next(_names)}",
                "default_aggregation": {"formula": "sum"},
                "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
                "value_settings": {"event_payload_key": "value"},
            }
        )

    def metered_price(self, meter: stripe.billing.Meter | None = None, **overrides: Any) -> stripe.Price:
        """The guide's price: 4 cents per 100 tokens, partial packages rounded up, monthly."""
        meter = meter or self.meter()
        params: dict[str, Any] = {
            "currency": "usd",
            "unit_amount": 4,
            "billing_scheme": "per_unit",
            "transform_quantity": {"divide_by": 100, "round": "up"},
            "recurring": {"usage_type": "metered", "interval": "month", "meter": meter.id},
            "product_data": {"name": "Alpaca AI tokens"},
        }
        params.update(overrides)
        if "recurring" in overrides:
            params["recurring"] = {"usage_type": "metered", "interval": "month", "meter": meter.id, **overrides["recurring"]}
        return self.client.v1.prices.create(params)

    def licensed_price(self, unit_amount: int = 1000, **overrides: Any) -> stripe.Price:
        params: dict[str, Any] = {
            "currency": "usd",
            "unit_amount": unit_amount,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Seat"},
        }
        params.update(overrides)
        return self.client.v1.prices.create(params)

    def customer(self, **params: Any) -> stripe.Customer:
        """A customer with a Visa card as its default, as a paying customer of a real integration has."""
        return self.client.v1.customers.create({"name": "John Doe", **PAYING, **params})

    def subscribe(self, customer: stripe.Customer, *prices: stripe.Price, **params: Any) -> stripe.Subscription:
        items = [{"price": price.id} for price in prices]
        return self.client.v1.subscriptions.create({"customer": customer.id, "items": items, **params})

    def use(self, meter: stripe.billing.Meter, customer: stripe.Customer, value: int | str, **params: Any) -> None:
        self.client.v1.billing.meter_events.create(
            {
                "event_name": meter.event_name,
                "payload": {"stripe_customer_id": customer.id, "value": str(value)},
                **params,
            }
        )

    def preview(self, subscription: stripe.Subscription, **params: Any) -> stripe.Invoice:
        return self.client.v1.invoices.create_preview({"subscription": subscription.id, **params})


@pytest.fixture
def catalog(stripe_client: stripe.StripeClient) -> Catalog:
    return Catalog(stripe_client)


def _fields_of(cls: type) -> set[str]:
    declared: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        declared.update(getattr(klass, "__annotations__", {}))
    return {name for name in declared if not name.startswith("_") and name not in ("OBJECT_NAME", "deleted")}


@pytest.fixture
def sdk_fields() -> Any:
    """`sdk_fields(stripe.Invoice)`: the fields an SDK resource class declares, through its bases."""
    return _fields_of


class AsyncCatalog:
    """The same objects through the async SDK, for tests that run the app in their own loop (and
    so can set the account's clock)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    async def subscribe_to_seats(self, quantity: int = 1, **params: Any) -> stripe.Subscription:
        """A licensed monthly price of 10.00 USD per seat, a customer, and a subscription to it."""
        price = await self.client.v1.prices.create_async(
            {"currency": "usd", "unit_amount": 1000, "recurring": {"interval": "month"}, "product_data": {"name": "Seat"}}
        )
        customer = await self.client.v1.customers.create_async({"name": "John Doe", **PAYING})
        return await self.client.v1.subscriptions.create_async(
            {"customer": customer.id, "items": [{"price": price.id, "quantity": quantity}], **params}
        )


@pytest.fixture
def catalog_async(in_process: Any) -> AsyncCatalog:
    return AsyncCatalog(in_process.client)


@pytest.fixture
def lenient(request: pytest.FixtureRequest) -> None:
    """Skips tests of dropped meter events when the session's server runs in strict mode."""
    if request.config.getoption("--mockstripe-strict-meter-events"):
        pytest.skip("the session's server rejects dropped meter events (strict mode)")


@pytest.fixture(scope="session")
def strict_url() -> Iterator[str]:
    """A second server, in strict meter event mode."""
    with serve_in_thread(Config(port=0, strict_meter_events=True)) as url:
        yield url


class EventWatch:
    """The account's new events since the last look: `watch.new()` gives their types, oldest first."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self.seen: set[str] = set()

    def new(self) -> list[str]:
        events = list(self.client.v1.events.list({"limit": 100}).auto_paging_iter())
        fresh = [event for event in reversed(events) if event.id not in self.seen]
        self.seen.update(event.id for event in fresh)
        return [event.type for event in fresh]

    def new_events(self) -> list[Any]:
        events = list(self.client.v1.events.list({"limit": 100}).auto_paging_iter())
        fresh = [event for event in reversed(events) if event.id not in self.seen]
        self.seen.update(event.id for event in fresh)
        return fresh


@pytest.fixture
def events(stripe_client: stripe.StripeClient) -> EventWatch:
    return EventWatch(stripe_client)
