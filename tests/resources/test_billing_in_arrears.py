"""Billing in arrears: advancing a test clock past a period end bills the usage of the ended period
(the usage-based billing guide's flow, with a test clock)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import stripe

HOUR = 3600
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())
P2 = int(datetime(2024, 3, 15, tzinfo=timezone.utc).timestamp())
P3 = int(datetime(2024, 4, 15, tzinfo=timezone.utc).timestamp())


class Flow:
    """A clock at T0, a customer on it, the guide's metered price and a subscription to it."""

    def __init__(self, client: stripe.StripeClient, catalog, **subscription: object) -> None:
        self.client, self.catalog = client, catalog
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.meter = catalog.meter()
        self.price = catalog.metered_price(self.meter)
        self.subscription = catalog.subscribe(self.customer, self.price, **subscription)

    def use(self, tokens: int, at: int) -> None:
        self.catalog.use(self.meter, self.customer, tokens, timestamp=at)

    def advance(self, to: int) -> stripe.test_helpers.TestClock:
        return self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def invoices(self) -> list[stripe.Invoice]:
        """The subscription's invoices, oldest first."""
        listed = self.client.v1.invoices.list({"subscription": self.subscription.id}).data
        return list(reversed(listed))

    def refreshed(self) -> stripe.Subscription:
        return self.client.v1.subscriptions.retrieve(self.subscription.id)


@pytest.fixture
def flow(stripe_client, catalog) -> Flow:
    return Flow(stripe_client, catalog)


@pytest.mark.parametrize(("tokens", "amount"), [(25, 4), (250, 12), (1_000_001, 40_004)])
def test_the_ended_period_is_billed_an_hour_after_it_ends(flow, tokens, amount) -> None:
    assert flow.subscription.latest_invoice is None  # flexible mode: no first invoice for usage only
    flow.use(tokens - 1, at=T0 + 10)
    flow.use(1, at=T0 + 20)
    assert flow.catalog.preview(flow.subscription).amount_due == amount

    advanced = flow.advance(P1 + HOUR + 1)

    assert (advanced.frozen_time, advanced.status) == (P1 + HOUR + 1, "ready")
    [invoice] = flow.invoices()
    assert invoice.id.startswith("in_") and invoice.billing_reason == "subscription_cycle"
    assert (invoice.period_start, invoice.period_end, invoice.created) == (T0, P1, P1)
    assert (invoice.subtotal, invoice.total, invoice.amount_due) == (amount, amount, amount)
    assert (invoice.test_clock, invoice.customer, invoice.auto_advance) == (flow.clock.id, flow.customer.id, True)
    assert invoice.number == f"{flow.customer.invoice_prefix}-0001"
    assert (invoice.status_transitions.finalized_at, invoice.effective_at) == (P1 + HOUR, P1 + HOUR)
    assert invoice.automatically_finalizes_at is None
    [line] = invoice.lines.data
    assert (line.quantity, line.amount, line.period.start, line.period.end) == (tokens, amount, T0, P1)
    assert line.parent.subscription_item_details.subscription_item == flow.subscription["items"].data[0].id

    subscription = flow.refreshed()
    [item] = subscription["items"].data
    assert (item.current_period_start, item.current_period_end) == (P1, P2)
    assert (subscription.latest_invoice, subscription.status) == (invoice.id, "active")


def test_a_paying_amount_is_charged(flow) -> None:
    flow.use(1_000_001, at=T0 + 10)
    flow.advance(P1 + HOUR + 1)
    [invoice] = flow.invoices()
    assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == ("paid", 40_004, 0)
    assert (invoice.attempted, invoice.attempt_count, invoice.status_transitions.paid_at) == (True, 1, P1 + HOUR)
    assert flow.client.v1.customers.retrieve(flow.customer.id).balance == 0


def test_an_amount_below_the_minimum_charge_is_carried_to_the_customer_balance(flow) -> None:
    flow.use(25, at=T0 + 10)
    flow.advance(P1 + HOUR + 1)
    [invoice] = flow.invoices()
    assert (invoice.status, invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == ("paid", 4, 0, 0)
    assert (invoice.starting_balance, invoice.ending_balance) == (0, 4)
    assert flow.client.v1.customers.retrieve(flow.customer.id).balance == 4


def test_until_it_finalizes_the_invoice_is_a_draft_that_counts_late_events(flow) -> None:
    flow.use(250, at=T0 + 10)
    flow.advance(P1 + 600)
    [draft] = flow.invoices()
    assert (draft.status, draft.number, draft.amount_due, draft.auto_advance) == ("draft", None, 12, True)
    assert draft.automatically_finalizes_at == P1 + HOUR
    assert draft.status_transitions.finalized_at is None

    flow.use(1_000_000, at=P1 - 1)  # late, but within the ended period
    flow.use(500, at=P1 + 60)  # the new period's
    flow.advance(P1 + HOUR)

    invoice = flow.client.v1.invoices.retrieve(draft.id)
    assert (invoice.status, invoice.amount_due, invoice.lines.data[0].quantity) == ("paid", 40_012, 1_000_250)
    assert flow.catalog.preview(flow.subscription).lines.data[0].quantity == 500


def test_events_arriving_after_finalization_are_not_billed(flow) -> None:
    flow.advance(P1 + HOUR + 1)
    flow.use(250, at=P1 - 1)
    [invoice] = flow.invoices()
    assert (invoice.amount_due, invoice.lines.data[0].quantity) == (0, 0)
    assert flow.catalog.preview(flow.subscription).amount_due == 0


def test_crossing_two_period_ends_bills_each_period(flow) -> None:
    flow.use(25, at=T0 + 10)
    flow.advance(T0 + 86_400)
    flow.use(250, at=T0 + 86_400)  # sent as the clock stands: the first period's
    flow.advance(P2 + HOUR + 1)
    first, second = flow.invoices()
    assert (first.period_start, first.period_end, first.amount_due) == (T0, P1, 12)  # 275 tokens: 3 packages
    assert (second.period_start, second.period_end, second.created) == (P1, P2, P2)
    # Nothing used in the second period; the first's 12 cents, too little to charge, is carried over.
    assert (second.total, second.starting_balance, second.amount_due) == (0, 12, 12)
    assert (second.status, second.ending_balance, second.number) == ("paid", 12, f"{flow.customer.invoice_prefix}-0002")
    subscription = flow.refreshed()
    assert subscription.latest_invoice == second.id
    assert subscription["items"].data[0].current_period_start == P2
    assert subscription["items"].data[0].current_period_end == P3


def test_licensed_items_are_billed_in_advance(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = catalog.customer(test_clock=clock.id)
    subscription = catalog.subscribe(customer, catalog.licensed_price(1000))
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": P1 + HOUR + 1})
    cycle, first = stripe_client.v1.invoices.list({"subscription": subscription.id}).data
    assert (first.billing_reason, first.amount_paid) == ("subscription_create", 1000)
    assert (cycle.billing_reason, cycle.period_start, cycle.period_end) == ("subscription_cycle", T0, P1)
    [line] = cycle.lines.data
    assert (line.amount, line.period.start, line.period.end) == (1000, P1, P2)
    assert (cycle.status, cycle.amount_paid) == ("paid", 1000)


def test_a_subscription_set_to_cancel_ends_at_the_period_end(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog, cancel_at_period_end=True)
    flow.use(250, at=T0 + 10)
    flow.advance(P1 + HOUR + 1)
    subscription = flow.refreshed()
    assert (subscription.status, subscription.ended_at, subscription.canceled_at) == ("canceled", P1, P1)
    assert subscription.cancellation_details.reason == "cancellation_requested"
    assert subscription["items"].data[0].current_period_end == P1  # no period after the last
    [invoice] = flow.invoices()
    assert (invoice.period_start, invoice.period_end, invoice.amount_due, invoice.status) == (T0, P1, 12, "paid")
    assert subscription.latest_invoice == invoice.id


def test_a_canceled_subscription_does_not_cycle(flow) -> None:
    flow.use(250, at=T0 + 10)
    flow.client.v1.subscriptions.cancel(flow.subscription.id)
    flow.advance(P1 + HOUR + 1)
    assert flow.invoices() == []


def test_customers_off_the_clock_are_unaffected(flow, catalog) -> None:
    meter = catalog.meter()
    bystander = catalog.customer()
    subscription = catalog.subscribe(bystander, catalog.metered_price(meter))
    catalog.use(meter, bystander, 250)
    flow.advance(P1 + HOUR + 1)
    assert flow.client.v1.invoices.list({"customer": bystander.id}).data == []
    after = flow.client.v1.subscriptions.retrieve(subscription.id)
    assert after["items"].data[0].to_dict() == subscription["items"].data[0].to_dict()
    assert catalog.preview(subscription).amount_due == 12


def test_a_deleted_customer_is_no_longer_billed(flow) -> None:
    flow.use(250, at=T0 + 10)
    flow.client.v1.customers.delete(flow.customer.id)
    assert flow.advance(P1 + HOUR + 1).frozen_time == P1 + HOUR + 1
    assert flow.invoices() == []


def test_a_deleted_customer_leaves_its_draft_unfinalized(flow) -> None:
    flow.use(250, at=T0 + 10)
    flow.advance(P1 + 600)
    flow.client.v1.customers.delete(flow.customer.id)
    flow.advance(P1 + HOUR + 1)
    [draft] = flow.invoices()
    assert (draft.status, draft.automatically_finalizes_at) == ("draft", P1 + HOUR)
