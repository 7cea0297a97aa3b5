"""Pausing collection (`pause_collection`) and resuming a paused subscription, on a test clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

HOUR = 3600
JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_15 = int(datetime(2025, 1, 15, tzinfo=UTC).timestamp())
JAN_20 = int(datetime(2025, 1, 20, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2025, 2, 15, tzinfo=UTC).timestamp())
FEB_20 = int(datetime(2025, 2, 20, tzinfo=UTC).timestamp())
MAR_20 = int(datetime(2025, 3, 20, tzinfo=UTC).timestamp())


def _subscribed(
    client: stripe.StripeClient, catalog
) -> tuple[stripe.test_helpers.TestClock, stripe.Subscription]:
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = catalog.customer(test_clock=clock.id)
    return clock, catalog.subscribe(customer, catalog.licensed_price(1000))


def _renewal(client: stripe.StripeClient, subscription_id: str) -> stripe.Invoice:
    return client.v1.invoices.retrieve(
        client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )


@pytest.mark.parametrize(
    ("behavior", "status", "auto_advance"),
    [
        ("void", "void", False),
        ("mark_uncollectible", "uncollectible", True),
        ("keep_as_draft", "draft", False),
    ],
)
def test_renewals_while_collection_is_paused_are_not_charged(
    stripe_client, catalog, events, behavior: str, status: str, auto_advance: bool
) -> None:
    clock, subscription = _subscribed(stripe_client, catalog)
    events.new()

    paused = stripe_client.v1.subscriptions.update(
        subscription.id, {"pause_collection": {"behavior": behavior}}
    )

    assert (
        paused.status,
        paused.pause_collection.behavior,
        paused.pause_collection.resumes_at,
    ) == ("active", behavior, None)
    assert events.new() == ["customer.subscription.updated"]
    stripe_client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": FEB_1 + 2 * HOUR}
    )
    renewal = _renewal(stripe_client, subscription.id)
    assert renewal.id != subscription.latest_invoice
    assert (
        renewal.status,
        renewal.amount_paid,
        renewal.auto_advance,
        renewal.total,
    ) == (status, 0, auto_advance, 1000)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert not [e for e in events.new() if e.startswith(("payment_intent.", "charge."))]


def test_collection_resumes_at_resumes_at(stripe_client, catalog, events) -> None:
    clock, subscription = _subscribed(stripe_client, catalog)
    stripe_client.v1.subscriptions.update(
        subscription.id,
        {"pause_collection": {"behavior": "void", "resumes_at": JAN_20}},
    )

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_20})
    assert (
        stripe_client.v1.subscriptions.retrieve(subscription.id).pause_collection
        is None
    )

    stripe_client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": FEB_1 + HOUR}
    )
    renewal = _renewal(stripe_client, subscription.id)
    assert (renewal.status, renewal.amount_paid) == ("paid", 1000)


def test_an_empty_pause_collection_resumes_collection(stripe_client, catalog) -> None:
    _, subscription = _subscribed(stripe_client, catalog)
    stripe_client.v1.subscriptions.update(
        subscription.id, {"pause_collection": {"behavior": "void"}}
    )
    resumed = stripe_client.v1.subscriptions.update(
        subscription.id, {"pause_collection": ""}
    )
    assert resumed.pause_collection is None


def test_resumes_at_in_the_past_is_a_400_and_changes_nothing(
    stripe_client, catalog, events
) -> None:
    _, subscription = _subscribed(stripe_client, catalog)
    events.new()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.update(
            subscription.id,
            {
                "pause_collection": {"behavior": "void", "resumes_at": JAN_1},
                "metadata": {"plan": "paused"},
            },
        )
    assert (raised.value.http_status, raised.value.param) == (
        400,
        "pause_collection[resumes_at]",
    )
    after = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert (after.pause_collection, after.metadata.to_dict()) == (None, {})
    assert events.new() == []


def test_a_subscription_paused_at_its_trial_end_resumes_with_a_new_cycle(
    stripe_client, catalog, events
) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = stripe_client.v1.customers.create({"test_clock": clock.id})
    subscription = catalog.subscribe(
        customer,
        catalog.licensed_price(1000),
        trial_period_days=14,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB_20})
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "paused"
    card = stripe_client.v1.payment_methods.attach(
        "pm_card_visa", {"customer": customer.id}
    )
    stripe_client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": card.id}}
    )
    events.new()

    resumed = stripe_client.v1.subscriptions.resume(
        subscription.id, {"billing_cycle_anchor": "now"}
    )

    assert (resumed.status, resumed.billing_cycle_anchor) == ("active", FEB_20)
    [item] = resumed["items"].data
    assert (item.current_period_start, item.current_period_end) == (FEB_20, MAR_20)
    invoice = stripe_client.v1.invoices.retrieve(resumed.latest_invoice)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        1000,
        "subscription_update",
    )
    assert [
        (line.amount, line.period.start, line.period.end) for line in invoice.lines.data
    ] == [(1000, FEB_20, MAR_20)]
    assert [
        e
        for e in events.new()
        if e.startswith(("customer.subscription", "invoice."))
    ] == [
        "customer.subscription.updated",
        "customer.subscription.resumed",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_only_a_paused_subscription_resumes(stripe_client, catalog) -> None:
    _, subscription = _subscribed(stripe_client, catalog)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.resume(subscription.id)
    assert raised.value.http_status == 400
    assert (
        raised.value.user_message
        == "Only a paused subscription can be resumed: this one is active."
    )
