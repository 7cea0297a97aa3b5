"""The guide's requests as stripe-python params, for the SDK flows."""

from __future__ import annotations

from typing import Any, NamedTuple

import stripe

from .promises import TOKENS

DAY = 86_400

METER: stripe.params.billing.MeterCreateParams = {
    "display_name": "Alpaca AI tokens",
    "event_name": "alpaca_ai_tokens",
    "default_aggregation": {"formula": "sum"},
    "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
    "value_settings": {"event_payload_key": "value"},
}


def price_params(meter_id: str) -> stripe.params.PriceCreateParams:
    return {
        "currency": "usd",
        "unit_amount": 4,
        "billing_scheme": "per_unit",
        "transform_quantity": {"divide_by": 100, "round": "up"},
        "recurring": {"usage_type": "metered", "interval": "month", "meter": meter_id},
        "product_data": {"name": "Alpaca AI tokens"},
    }


def meter_event_params(customer_id: str) -> stripe.params.billing.MeterEventCreateParams:
    return {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer_id, "value": str(TOKENS)}}


def day_around(timestamp: int) -> tuple[int, int]:
    """The UTC day holding `timestamp`: a minute-aligned summary window."""
    start = timestamp - timestamp % DAY
    return start, start + DAY


def raw(resource: stripe.StripeObject) -> dict[str, Any]:
    """The JSON the server sent for this SDK object."""
    assert resource.last_response is not None
    return resource.last_response.data


class Subscribed(NamedTuple):
    """The guide's objects, up to the subscription: a customer on a test clock, subscribed to the
    metered price of its meter."""

    clock: stripe.test_helpers.TestClock
    meter: stripe.billing.Meter
    price: stripe.Price
    customer: stripe.Customer
    subscription: stripe.Subscription


def subscribe(client: stripe.StripeClient, frozen_time: int, **customer: Any) -> Subscribed:
    """The guide's setup on a test clock frozen at `frozen_time` (usage is left to the caller)."""
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": frozen_time, "name": "Guide"})
    meter = client.v1.billing.meters.create(METER)
    price = client.v1.prices.create(price_params(meter.id))
    holder = client.v1.customers.create({"name": "John Doe", "test_clock": clock.id, **customer})
    subscription = client.v1.subscriptions.create({"customer": holder.id, "items": [{"price": price.id}]})
    return Subscribed(clock, meter, price, holder, subscription)
