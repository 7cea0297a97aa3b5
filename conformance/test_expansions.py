"""Every expansion the server declares, held to the SDK's shapes: expanded objects and expand-only
fields must look exactly like the objects Stripe would put there."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import stripe

from conformance.recording import ShapeCheckedClient
from conformance.shapes import ShapeChecker
from conformance.test_guide_sdk import METER, day_around, price_params, raw
from mockstripe.app import default_areas
from mockstripe.wire.objects import ObjectType

TYPES = {t.name: t for area in default_areas() for t in area.types}


def expansions(type_name: str, prefix: str = "") -> list[str]:
    """All paths the server can expand on an object of this type."""
    object_type: ObjectType = TYPES[type_name]
    return [prefix + path for path in (*object_type.expandable, *object_type.expand_only)]


@pytest.fixture
def guide(mockstripe_url: str, shapes: ShapeChecker) -> Any:
    """The guide's objects, made through a shape-checked stripe-python client."""
    http_client = ShapeCheckedClient(shapes)
    client = stripe.StripeClient(
        "sk_test_" + secrets.token_hex(12),
        base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url},
        http_client=http_client,
    )
    meter = client.v1.billing.meters.create(METER)
    price = client.v1.prices.create(price_params(meter.id))
    customer = client.v1.customers.create({"name": "John Doe"})
    subscription = client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    event = client.v1.billing.meter_events.create(
        {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer.id, "value": "25"}}
    )
    yield client, meter, price, customer, subscription, event
    assert http_client.violations.found == []


def expanded(obj: Any, path: list[str]) -> list[Any]:
    """The values at a dotted expand path (through list objects' `data`; a null on the way is the value)."""
    if not path or obj is None:
        return [obj]
    if isinstance(obj, list):
        return [value for item in obj for value in expanded(item, path)]
    assert isinstance(obj, dict) and path[0] in obj, f"{path[0]} is not in {obj}"
    return expanded(obj[path[0]], path[1:])


def assert_expanded(obj: dict[str, Any], paths: list[str]) -> None:
    for path in paths:
        values = expanded(obj, path.split("."))
        assert not any(isinstance(value, str) for value in values), f"{path}: still an id"


def test_every_declared_expansion_conforms(guide: Any) -> None:
    client, meter, price, customer, subscription, event = guide
    item = subscription["items"].data[0]

    targets = [
        (client.v1.customers.retrieve(customer.id, {"expand": expansions("customer")}), expansions("customer")),
        (client.v1.prices.retrieve(price.id, {"expand": expansions("price")}), expansions("price")),
        (client.v1.products.retrieve(price.product, {"expand": expansions("product")}), expansions("product")),
        (
            client.v1.subscriptions.retrieve(subscription.id, {"expand": expansions("subscription")}),
            expansions("subscription"),
        ),
        (
            client.v1.subscription_items.retrieve(item.id, {"expand": expansions("subscription_item")}),
            expansions("subscription_item"),
        ),
        (
            client.v1.invoices.create_preview(
                {
                    "subscription": subscription.id,
                    "expand": expansions("invoice") + expansions("line_item", "lines.data."),
                }
            ),
            expansions("invoice") + expansions("line_item", "lines.data."),
        ),
        (
            client.v1.prices.list({"expand": expansions("price", "data.")}),
            expansions("price", "data."),
        ),
    ]
    start, end = day_around(event.timestamp)
    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, {"customer": customer.id, "start_time": start, "end_time": end}
    )
    assert summaries.data[0].aggregated_value == 25

    for resource, paths in targets:
        assert_expanded(raw(resource), paths)
