"""The guide's flow through the official stripe-python SDK, sync and async."""

from __future__ import annotations

import secrets

import stripe

from conformance.promises import TOKENS, GuideResponses, assert_guide_promises
from conformance.recording import ShapeCheckedAsyncClient, ShapeCheckedClient
from conformance.shapes import ShapeChecker

METER = {
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


def day_around(timestamp: int) -> tuple[int, int]:
    start = timestamp - timestamp % 86_400
    return start, start + 86_400


def raw(resource: stripe.StripeObject) -> dict:
    """The JSON the server sent for this SDK object."""
    assert resource.last_response is not None
    return resource.last_response.data


def fresh_key() -> str:
    return "sk_test_" + secrets.token_hex(12)


def test_the_guide_runs_through_stripe_python(mockstripe_url: str, shapes: ShapeChecker) -> None:
    http_client = ShapeCheckedClient(shapes)
    client = stripe.StripeClient(
        fresh_key(), base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}, http_client=http_client
    )

    meter = client.v1.billing.meters.create(METER)
    price = client.v1.prices.create(price_params(meter.id))
    customer = client.v1.customers.create({"name": "John Doe"})
    subscription = client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    event = client.v1.billing.meter_events.create(
        {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer.id, "value": str(TOKENS)}}
    )
    preview = client.v1.invoices.create_preview({"subscription": subscription.id})
    start, end = day_around(event.timestamp)
    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, {"customer": customer.id, "start_time": start, "end_time": end}
    )

    assert http_client.violations.found == []
    assert_guide_promises(GuideResponses(*map(raw, (meter, price, customer, subscription, event, preview, summaries))))
    # The SDK's own view of the same objects.
    assert preview.lines.data[0].pricing.price_details.price == price.id
    assert preview.amount_due == 4 and summaries.data[0].aggregated_value == TOKENS


async def test_the_guide_runs_through_stripe_python_async(mockstripe_url: str, shapes: ShapeChecker) -> None:
    http_client = ShapeCheckedAsyncClient(shapes)
    client = stripe.StripeClient(
        fresh_key(), base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}, http_client=http_client
    )
    try:
        meter = await client.v1.billing.meters.create_async(METER)
        price = await client.v1.prices.create_async(price_params(meter.id))
        customer = await client.v1.customers.create_async({"name": "John Doe"})
        subscription = await client.v1.subscriptions.create_async(
            {"customer": customer.id, "items": [{"price": price.id}]}
        )
        event = await client.v1.billing.meter_events.create_async(
            {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer.id, "value": str(TOKENS)}}
        )
        preview = await client.v1.invoices.create_preview_async({"subscription": subscription.id})
        start, end = day_around(event.timestamp)
        summaries = await client.v1.billing.meters.event_summaries.list_async(
            meter.id, {"customer": customer.id, "start_time": start, "end_time": end}
        )
    finally:
        await http_client.close_async()

    assert http_client.violations.found == []
    assert_guide_promises(GuideResponses(*map(raw, (meter, price, customer, subscription, event, preview, summaries))))
