"""Trials on a test clock: a free first invoice, `trial_will_end` three days before the end, the
first paid invoice when it ends, and what a trial without a payment method ends into."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

DAY, HOUR = 86_400, 3600
JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_5 = int(datetime(2025, 1, 5, tzinfo=UTC).timestamp())
JAN_12 = int(datetime(2025, 1, 12, tzinfo=UTC).timestamp())
JAN_15 = int(datetime(2025, 1, 15, tzinfo=UTC).timestamp())
JAN_20 = int(datetime(2025, 1, 20, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2025, 2, 15, tzinfo=UTC).timestamp())
PAID = [
    "invoice.finalized",
    "payment_intent.created",
    "payment_intent.succeeded",
    "charge.succeeded",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice_payment.paid",
]


def _latest(client: stripe.StripeClient, subscription_id: str) -> stripe.Invoice:
    return client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(subscription_id).latest_invoice)


def test_a_14_day_trial_ends_into_a_metered_plus_licensed_invoice(stripe_client, catalog, events) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    seat, tokens = (
        catalog.licensed_price(1000, product_data={"name": "Pro"}),
        catalog.metered_price(meter),
    )
    events.new()

    subscription = catalog.subscribe(customer, seat, tokens, trial_period_days=14)

    assert (subscription.status, subscription.trial_start, subscription.trial_end) == (
        "trialing",
        JAN_1,
        JAN_15,
    )
    assert subscription.billing_cycle_anchor == JAN_15
    assert {(i.current_period_start, i.current_period_end) for i in subscription["items"].data} == {(JAN_1, JAN_15)}
    first = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (first.billing_reason, first.status, first.total, first.amount_paid) == (
        "subscription_create",
        "paid",
        0,
        0,
    )
    assert [(line.amount, line.description) for line in first.lines.data] == [(0, "Trial period for Pro")]
    assert events.new() == [
        "customer.updated",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_5})
    catalog.use(meter, customer, 500, timestamp=JAN_5)  # during the trial: not billed
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_12 - 1})
    assert "customer.subscription.trial_will_end" not in events.new()
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_12})
    assert events.new() == [
        "test_helpers.test_clock.advancing",
        "customer.subscription.trial_will_end",
        "invoice.upcoming",  # the trial's end is the first renewal
        "test_helpers.test_clock.ready",
    ]

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_15 + HOUR})
    after = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert after.status == "active"
    assert {(i.current_period_start, i.current_period_end) for i in after["items"].data} == {(JAN_15, FEB_15)}
    at_trial_end = _latest(stripe_client, subscription.id)
    assert (
        at_trial_end.billing_reason,
        at_trial_end.status,
        at_trial_end.amount_paid,
    ) == ("subscription_cycle", "paid", 1000)
    assert [(line.amount, line.period.start, line.period.end) for line in at_trial_end.lines.data] == [
        (1000, JAN_15, FEB_15)
    ]
    assert [e for e in events.new() if e.startswith(("customer.", "invoice", "payment_", "charge."))] == [
        "customer.subscription.updated",
        "invoice.created",
        *PAID,
    ]

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_20})
    catalog.use(meter, customer, 250, timestamp=JAN_20)
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB_15 + HOUR})
    renewal = _latest(stripe_client, subscription.id)
    # 250 tokens bill as 3 packages of 100 at 4 cents; the licensed seat's next month is $10.
    assert sorted((line.amount, line.period.start) for line in renewal.lines.data) == [
        (12, JAN_15),
        (1000, FEB_15),
    ]
    assert (renewal.status, renewal.amount_paid) == ("paid", 1012)


def test_trial_end_and_trial_from_plan_set_the_trial(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = catalog.customer(test_clock=clock.id)
    with_trial = catalog.licensed_price(1000, recurring={"interval": "month", "trial_period_days": 7})

    by_date = catalog.subscribe(customer, catalog.licensed_price(1000), trial_end=JAN_20)
    from_plan = catalog.subscribe(customer, with_trial, trial_from_plan=True)
    none_now = catalog.subscribe(customer, catalog.licensed_price(1000), trial_end="now")

    assert (by_date.status, by_date.trial_end) == ("trialing", JAN_20)
    assert (from_plan.status, from_plan.trial_end) == ("trialing", JAN_1 + 7 * DAY)
    assert (none_now.status, none_now.trial_end) == ("active", None)
    assert stripe_client.v1.invoices.retrieve(none_now.latest_invoice).amount_paid == 1000


@pytest.mark.parametrize(
    ("behavior", "status", "last_events"),
    [
        ("cancel", "canceled", ["customer.subscription.deleted"]),
        (
            "pause",
            "paused",
            ["customer.subscription.updated", "customer.subscription.paused"],
        ),
    ],
)
def test_a_trial_without_a_payment_method_ends_as_its_settings_say(
    stripe_client, catalog, events, behavior: str, status: str, last_events: list[str]
) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = stripe_client.v1.customers.create({"test_clock": clock.id})
    subscription = catalog.subscribe(
        customer,
        catalog.licensed_price(1000),
        trial_period_days=14,
        trial_settings={"end_behavior": {"missing_payment_method": behavior}},
    )
    assert subscription.trial_settings.end_behavior.missing_payment_method == behavior
    first_invoice = subscription.latest_invoice
    events.new()

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB_15})

    ended = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert (ended.status, ended.latest_invoice) == (status, first_invoice)
    subscription_events = [e for e in events.new() if e.startswith(("customer.", "invoice."))]
    assert subscription_events == [
        "customer.subscription.trial_will_end",
        "invoice.upcoming",
        *last_events,
    ]


def test_a_trial_end_in_the_past_is_a_400_and_creates_nothing(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_15})
    customer = catalog.customer(test_clock=clock.id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        catalog.subscribe(customer, catalog.licensed_price(1000), trial_end=JAN_1)
    assert (raised.value.http_status, raised.value.param) == (400, "trial_end")
    assert raised.value.user_message == "Invalid timestamp: must be an integer Unix timestamp in the future."
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_trial_end_now_ends_the_trial_and_charges_a_new_cycle(stripe_client, catalog, events) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = catalog.customer(test_clock=clock.id)
    subscription = catalog.subscribe(
        customer, catalog.licensed_price(1000, product_data={"name": "Pro"}), trial_period_days=14
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_5})
    events.new()

    ended = stripe_client.v1.subscriptions.update(subscription.id, {"trial_end": "now"})

    assert (ended.status, ended.trial_end, ended.billing_cycle_anchor) == ("active", JAN_5, JAN_5)
    [item] = ended["items"].data
    feb_5 = JAN_5 + 31 * DAY
    assert (item.current_period_start, item.current_period_end) == (JAN_5, feb_5)
    invoice = stripe_client.v1.invoices.retrieve(ended.latest_invoice)
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == ("subscription_update", "paid", 1000)
    assert [(line.amount, line.period.start, line.period.end) for line in invoice.lines.data] == [(1000, JAN_5, feb_5)]
    assert [e for e in events.new() if e.startswith(("customer.", "invoice."))] == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_a_later_trial_end_extends_the_trial(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
    customer = catalog.customer(test_clock=clock.id)
    subscription = catalog.subscribe(customer, catalog.licensed_price(1000), trial_period_days=14)

    extended = stripe_client.v1.subscriptions.update(subscription.id, {"trial_end": JAN_20})

    assert (extended.status, extended.trial_end, extended.billing_cycle_anchor) == ("trialing", JAN_20, JAN_20)
    assert extended["items"].data[0].current_period_end == JAN_20
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_15 + DAY})
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "trialing"
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": JAN_20 + 2 * HOUR})
    after = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert after.status == "active"
    assert stripe_client.v1.invoices.retrieve(after.latest_invoice).amount_paid == 1000


def test_a_trial_end_on_an_active_subscription_is_a_400(stripe_client, catalog) -> None:
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, catalog.licensed_price(1000))
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.update(subscription.id, {"trial_end": 4_102_444_800})
    assert (raised.value.http_status, raised.value.param) == (400, "trial_end")
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).trial_end is None
