"""`cancel_at` on a subscription, on a test clock, amounts worked by hand: a $30 monthly Pro from Jan 1
2025; canceling at Jan 21 leaves 11 of January's 31 days unused: $30 x 11/31 = $10.645 -> $10.65."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from tests.resources.conftest import ClockedCustomer

JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_11 = int(datetime(2025, 1, 11, tzinfo=UTC).timestamp())
JAN_21 = int(datetime(2025, 1, 21, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
HOUR = 3600
UNUSED_AFTER_JAN_21 = -1065


class Subscribed(ClockedCustomer):
    def __init__(self, client: stripe.StripeClient, catalog) -> None:
        super().__init__(client, catalog, JAN_1)
        self.pro = catalog.licensed_price(3000, product_data={"name": "Pro"})
        self.subscription = catalog.subscribe(self.customer, self.pro)

    def update(self, **params) -> stripe.Subscription:
        return self.client.v1.subscriptions.update(self.subscription.id, params)

    def retrieve(self) -> stripe.Subscription:
        return self.client.v1.subscriptions.retrieve(self.subscription.id)

    def pending(self) -> list[tuple[int, int, int]]:
        listed = self.client.v1.invoice_items.list({"customer": self.customer.id, "pending": True})
        return [(item.amount, item.period.start, item.period.end) for item in listed.data]


def test_cancel_at_mid_period_credits_the_unused_time_and_cancels_then(stripe_client, catalog, events) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)
    events.new()

    updated = subscribed.update(
        cancel_at=JAN_21, cancellation_details={"comment": "Too pricey", "feedback": "too_expensive"}
    )

    assert (updated.cancel_at, updated.cancel_at_period_end, updated.status) == (JAN_21, False, "active")
    assert (updated.cancellation_details.comment, updated.cancellation_details.feedback) == ("Too pricey", "too_expensive")
    assert updated.cancellation_details.reason is None
    assert subscribed.pending() == [(UNUSED_AFTER_JAN_21, JAN_21, FEB_1)]
    assert events.new() == ["customer.subscription.updated", "invoiceitem.created"]

    subscribed.advance(JAN_21 - 1)
    assert subscribed.retrieve().status == "active"
    subscribed.advance(JAN_21)

    canceled = subscribed.retrieve()
    assert (canceled.status, canceled.canceled_at, canceled.ended_at) == ("canceled", JAN_21, JAN_21)
    assert canceled.cancellation_details.to_dict() == {
        "comment": "Too pricey", "feedback": "too_expensive", "feedback_option": None, "reason": "cancellation_requested",
    }
    final = stripe_client.v1.invoices.retrieve(canceled.latest_invoice)
    assert (final.total, final.status, final.period_start, final.period_end) == (UNUSED_AFTER_JAN_21, "paid", JAN_1, JAN_21)
    assert [line.amount for line in final.lines.data] == [UNUSED_AFTER_JAN_21]
    assert stripe_client.v1.customers.retrieve(subscribed.customer.id).balance == UNUSED_AFTER_JAN_21
    assert subscribed.pending() == []
    assert "customer.subscription.deleted" in events.new()
    # Nothing renews at Feb 1.
    subscribed.advance(FEB_1 + HOUR)
    assert stripe_client.v1.invoices.list({"customer": subscribed.customer.id}).data[0].id == final.id


def test_cancel_at_with_always_invoice_credits_at_once(stripe_client, catalog) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)

    updated = subscribed.update(cancel_at=JAN_21, proration_behavior="always_invoice")

    invoice = stripe_client.v1.invoices.retrieve(updated.latest_invoice)
    assert (invoice.billing_reason, invoice.total, invoice.status) == ("subscription_update", UNUSED_AFTER_JAN_21, "paid")
    assert stripe_client.v1.customers.retrieve(subscribed.customer.id).balance == UNUSED_AFTER_JAN_21


def test_cancel_at_without_proration_credits_nothing(stripe_client, catalog) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)

    subscribed.update(cancel_at=JAN_21, proration_behavior="none")
    assert subscribed.pending() == []
    subscribed.advance(JAN_21)

    canceled = subscribed.retrieve()
    assert (canceled.status, canceled.ended_at) == ("canceled", JAN_21)
    # Nothing was pending: no final invoice.
    assert canceled.latest_invoice == subscribed.subscription.latest_invoice


def test_cancel_at_period_end_sets_cancel_at_to_the_period_end(stripe_client, catalog, events) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)

    at_end = subscribed.update(cancel_at_period_end=True)
    assert (at_end.cancel_at_period_end, at_end.cancel_at) == (True, FEB_1)
    withdrawn = subscribed.update(cancel_at_period_end=False)
    assert (withdrawn.cancel_at_period_end, withdrawn.cancel_at) == (False, None)

    # A cancel_at at the period's end prorates nothing; the subscription ends there without renewing.
    exact = subscribed.update(cancel_at="min_period_end")
    assert (exact.cancel_at, exact.cancel_at_period_end) == (FEB_1, False)
    assert subscribed.pending() == []
    events.new()
    subscribed.advance(FEB_1 + HOUR)

    ended = subscribed.retrieve()
    assert (ended.status, ended.ended_at) == ("canceled", FEB_1)
    kinds = events.new()
    assert "invoice.upcoming" not in kinds and "customer.subscription.deleted" in kinds
    invoices = stripe_client.v1.invoices.list({"customer": subscribed.customer.id}).data
    assert [invoice.total for invoice in invoices] == [3000]


def test_cancel_at_is_cleared_with_an_empty_value(stripe_client, catalog) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.update(cancel_at=JAN_21, proration_behavior="none")

    cleared = subscribed.update(cancel_at="", proration_behavior="none")

    assert (cleared.cancel_at, cleared.status) == (None, "active")
    subscribed.advance(JAN_21)
    assert subscribed.retrieve().status == "active"


def test_cancel_at_on_create_bills_the_first_period_up_to_it(stripe_client, catalog) -> None:
    subscribed = Subscribed(stripe_client, catalog)

    created = stripe_client.v1.subscriptions.create(
        {"customer": subscribed.customer.id, "items": [{"price": catalog.licensed_price(1000).id}], "cancel_at": JAN_21}
    )

    assert (created.cancel_at, created.cancel_at_period_end) == (JAN_21, False)
    # $10 x 20/31 = $6.45 for Jan 1 to Jan 21.
    first = stripe_client.v1.invoices.retrieve(created.latest_invoice)
    line = first.lines.data[0]
    assert (first.amount_paid, line.amount, line.period.start, line.period.end) == (645, 645, JAN_1, JAN_21)
    assert subscribed.pending() == []
    subscribed.advance(JAN_21)
    ended = stripe_client.v1.subscriptions.retrieve(created.id)
    assert (ended.status, ended.latest_invoice) == ("canceled", first.id)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cancel_at": JAN_1}, "The `cancel_at` date must be in the future."),
        ({"cancel_at": JAN_21, "cancel_at_period_end": True}, "You cannot set both `cancel_at` and `cancel_at_period_end=true`."),
    ],
)
def test_bad_cancel_at_is_refused(stripe_client, catalog, params, message) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)

    with pytest.raises(stripe.InvalidRequestError) as error:
        subscribed.update(**params)

    assert (error.value.user_message, error.value.param) == (message, "cancel_at")
    assert subscribed.retrieve().cancel_at is None
    assert subscribed.pending() == []


def test_cancel_at_in_a_later_period_prorates_that_periods_renewal(stripe_client, catalog, events) -> None:
    subscribed = Subscribed(stripe_client, catalog)
    subscribed.advance(JAN_11)
    feb_15 = int(datetime(2025, 2, 15, tzinfo=UTC).timestamp())

    subscribed.update(cancel_at=feb_15)

    # Nothing to credit in January, which is paid in full.
    assert subscribed.pending() == []
    subscribed.advance(FEB_1 + HOUR)
    # February is billed up to Feb 15 only: $30 x 14/28 = $15.00.
    renewal = stripe_client.v1.invoices.retrieve(subscribed.retrieve().latest_invoice)
    assert (renewal.billing_reason, renewal.amount_paid) == ("subscription_cycle", 1500)
    line = renewal.lines.data[0]
    assert (line.amount, line.period.start, line.period.end) == (1500, FEB_1, feb_15)
    assert line.parent.subscription_item_details.proration is True
    events.new()

    subscribed.advance(feb_15)

    ended = subscribed.retrieve()
    assert (ended.status, ended.ended_at, ended.latest_invoice) == ("canceled", feb_15, renewal.id)
    assert "customer.subscription.deleted" in events.new()
