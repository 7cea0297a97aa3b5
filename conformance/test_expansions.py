"""Every expansion the server declares, held to the SDK's shapes: expanded objects and expand-only
fields must look exactly like the objects Stripe would put there."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import stripe

from conformance.guide_params import METER, meter_event_params, price_params, raw
from conformance.recording import ShapeCheckedClient
from conformance.shapes import ShapeChecker
from mockstripe.app import default_areas

TYPES = {t.name: t for area in default_areas() for t in area.types}


def expansions(type_name: str, prefix: str = "") -> list[str]:
    """All paths the server can expand on an object of this type."""
    object_type = TYPES[type_name]
    return [prefix + path for path in (*object_type.expandable, *object_type.expand_only)]


@dataclass
class Guide:
    client: stripe.StripeClient
    price: stripe.Price
    customer: stripe.Customer
    subscription: stripe.Subscription


@pytest.fixture
def guide(mockstripe_url: str, shapes: ShapeChecker) -> Iterator[Guide]:
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
    client.v1.billing.meter_events.create(meter_event_params(customer.id))
    yield Guide(client, price, customer, subscription)
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


def test_every_declared_expansion_conforms(guide: Guide) -> None:
    client, subscription = guide.client, guide.subscription
    item = subscription["items"].data[0]
    preview_paths = expansions("invoice") + expansions("line_item", "lines.data.")

    targets = [
        (client.v1.customers.retrieve(guide.customer.id, {"expand": expansions("customer")}), expansions("customer")),
        (client.v1.prices.retrieve(guide.price.id, {"expand": expansions("price")}), expansions("price")),
        (client.v1.products.retrieve(guide.price.product, {"expand": expansions("product")}), expansions("product")),
        (
            client.v1.subscriptions.retrieve(subscription.id, {"expand": expansions("subscription")}),
            expansions("subscription"),
        ),
        (
            client.v1.subscription_items.retrieve(item.id, {"expand": expansions("subscription_item")}),
            expansions("subscription_item"),
        ),
        (client.v1.invoices.create_preview({"subscription": subscription.id, "expand": preview_paths}), preview_paths),
        (client.v1.prices.list({"expand": expansions("price", "data.")}), expansions("price", "data.")),
    ]

    for resource, paths in targets:
        assert_expanded(raw(resource), paths)
