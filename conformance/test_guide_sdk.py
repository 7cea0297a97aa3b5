"""The guide's flow through the official stripe-python SDK, sync and async."""

from __future__ import annotations

import secrets

import stripe

from conformance.guide_params import METER, day_around, meter_event_params, price_params, raw
from conformance.promises import AMOUNT, TOKENS, GuideResponses, assert_guide_promises
from conformance.recording import ShapeCheckedAsyncClient, ShapeCheckedClient
from conformance.shapes import ShapeChecker


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
    event = client.v1.billing.meter_events.create(meter_event_params(customer.id))
    preview = client.v1.invoices.create_preview({"subscription": subscription.id})
    start, end = day_around(event.timestamp)
    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, {"customer": customer.id, "start_time": start, "end_time": end}
    )

    assert http_client.violations.found == []
    assert_guide_promises(GuideResponses(*map(raw, (meter, price, customer, subscription, event, preview, summaries))))
    # The SDK's own reading of the same objects.
    assert preview.lines.data[0].pricing.price_details.price == price.id
    assert (preview.amount_due, summaries.data[0].aggregated_value) == (AMOUNT, TOKENS)


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
        event = await client.v1.billing.meter_events.create_async(meter_event_params(customer.id))
        preview = await client.v1.invoices.create_preview_async({"subscription": subscription.id})
        start, end = day_around(event.timestamp)
        summaries = await client.v1.billing.meters.event_summaries.list_async(
            meter.id, {"customer": customer.id, "start_time": start, "end_time": end}
        )
    finally:
        await http_client.close_async()

    assert http_client.violations.found == []
    assert_guide_promises(GuideResponses(*map(raw, (meter, price, customer, subscription, event, preview, summaries))))
