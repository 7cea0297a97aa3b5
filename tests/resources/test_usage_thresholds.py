"""Usage thresholds on subscriptions: reaching `amount_gte` or an item's `usage_gte` invoices the
usage so far at once (`subscription_threshold`), and the period's invoice bills only the rest."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

HOUR = 3600
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())
RESET = int(datetime(2024, 1, 25, tzinfo=timezone.utc).timestamp())
RESET_P1 = int(datetime(2024, 2, 25, tzinfo=timezone.utc).timestamp())


class Flow:
    """A clock at T0, a customer on it, and a classic-mode subscription to the guide's metered
    price (4¢ per 100 tokens) with the given thresholds."""

    def __init__(self, client: stripe.StripeClient, catalog, item: dict[str, Any] | None = None, **params: Any) -> None:
        self.client, self.catalog = client, catalog
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.meter = catalog.meter()
        self.price = catalog.metered_price(self.meter)
        self.subscription = client.v1.subscriptions.create(
            {
                "customer": self.customer.id,
                "items": [{"price": self.price.id, **(item or {})}],
                "billing_mode": {"type": "classic"},
                **params,
            }
        )

    def use(self, tokens: int, at: int = T0 + 10) -> None:
        self.catalog.use(self.meter, self.customer, tokens, timestamp=at)

    def invoices(self) -> list[stripe.Invoice]:
        return list(reversed(self.client.v1.invoices.list({"subscription": self.subscription.id}).data))


def test_reaching_amount_gte_invoices_the_usage_so_far(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog, billing_thresholds={"amount_gte": 1000})
    assert flow.subscription.billing_thresholds.to_dict() == {"amount_gte": 1000, "reset_billing_cycle_anchor": False}
    flow.use(20_000)  # $8
    assert [i.billing_reason for i in flow.invoices()] == ["subscription_create"]
    flow.use(4_999)  # $10 (packages of 100 round up)

    first, threshold = flow.invoices()
    assert (threshold.billing_reason, threshold.status, threshold.total, threshold.amount_paid) == (
        "subscription_threshold", "paid", 1000, 1000,
    )
    assert threshold.threshold_reason.to_dict() == {"amount_gte": 1000, "item_reasons": []}
    assert (threshold.created, threshold.period_start, threshold.period_end) == (T0, T0, T0)
    (line,) = threshold.lines.data
    assert (line.quantity, line.amount, line.period.start, line.period.end) == (24_999, 1000, T0, T0)
    assert stripe_client.v1.subscriptions.retrieve(flow.subscription.id).latest_invoice == threshold.id
    (created,) = stripe_client.v1.events.list({"type": "invoice.created"}).data[:1]
    assert (created.data.object.id, created.request.id) == (threshold.id, None)

    flow.use(2_500, at=T0 + 20)  # $1, after the threshold invoice
    assert catalog.preview(flow.subscription).amount_due == 100
    stripe_client.v1.test_helpers.test_clocks.advance(flow.clock.id, {"frozen_time": P1 + HOUR + 1})
    cycle = flow.invoices()[-1]
    assert (cycle.billing_reason, cycle.total) == ("subscription_cycle", 100)
    (line,) = cycle.lines.data
    assert (line.quantity, line.period.start, line.period.end) == (2_500, T0, P1)


def test_reaching_an_items_usage_gte_invoices_with_the_item_as_reason(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog, item={"billing_thresholds": {"usage_gte": 1000}})
    (item,) = flow.subscription["items"].data
    assert item.billing_thresholds.to_dict() == {"usage_gte": 1000}
    flow.use(999)
    assert len(flow.invoices()) == 1
    flow.use(1)
    _, threshold = flow.invoices()
    (line,) = threshold.lines.data
    assert threshold.threshold_reason.to_dict() == {
        "amount_gte": None,
        "item_reasons": [{"line_item_ids": [line.id], "usage_gte": 1000}],
    }
    assert (line.quantity, threshold.total) == (1000, 40)
    flow.use(999)
    assert len(flow.invoices()) == 2  # counted afresh from the threshold invoice


def test_thresholds_need_classic_mode_and_metered_items(stripe_client, catalog) -> None:
    customer = catalog.customer()
    metered, licensed = catalog.metered_price(), catalog.licensed_price()

    def create(**params: Any) -> stripe.InvalidRequestError:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe_client.v1.subscriptions.create({"customer": customer.id, **params})
        return caught.value

    error = create(items=[{"price": metered.id}], billing_thresholds={"amount_gte": 500})
    assert error.param == "billing_thresholds"
    classic = {"billing_mode": {"type": "classic"}}
    error = create(items=[{"price": licensed.id, "billing_thresholds": {"usage_gte": 5}}], **classic)
    assert error.param == "items[0][billing_thresholds][usage_gte]"
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_thresholds_set_and_removed_on_update(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog)
    assert flow.subscription.billing_thresholds is None
    updated = stripe_client.v1.subscriptions.update(flow.subscription.id, {"billing_thresholds": {"amount_gte": 100}})
    assert updated.billing_thresholds.to_dict() == {"amount_gte": 100, "reset_billing_cycle_anchor": False}
    (event,) = stripe_client.v1.events.list({"type": "customer.subscription.updated"}).data[:1]
    assert event.data.previous_attributes.to_dict() == {"billing_thresholds": None}
    flow.use(2_500)
    assert [i.billing_reason for i in flow.invoices()] == ["subscription_create", "subscription_threshold"]
    removed = stripe_client.v1.subscriptions.update(flow.subscription.id, {"billing_thresholds": ""})
    assert removed.billing_thresholds is None
    flow.use(5_000)
    assert len(flow.invoices()) == 2
    flexible = catalog.subscribe(catalog.customer(), catalog.metered_price())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.subscriptions.update(flexible.id, {"billing_thresholds": {"amount_gte": 100}})
    assert caught.value.param == "billing_thresholds"


RESETTING = {"billing_thresholds": {"amount_gte": 1000, "reset_billing_cycle_anchor": True}}


def test_a_threshold_that_resets_the_billing_cycle_starts_a_new_period_then(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog, **RESETTING)
    assert flow.subscription.billing_thresholds.to_dict() == {"amount_gte": 1000, "reset_billing_cycle_anchor": True}
    stripe_client.v1.test_helpers.test_clocks.advance(flow.clock.id, {"frozen_time": RESET})
    flow.use(25_000, at=RESET)  # $10, ten days into the period

    _, threshold = flow.invoices()
    assert (threshold.billing_reason, threshold.total, threshold.status) == ("subscription_threshold", 1000, "paid")
    assert (threshold.created, threshold.period_start, threshold.period_end) == (RESET, T0, RESET)
    (line,) = threshold.lines.data
    assert (line.quantity, line.amount, line.period.start, line.period.end) == (25_000, 1000, T0, RESET)
    subscription = stripe_client.v1.subscriptions.retrieve(flow.subscription.id)
    (item,) = subscription["items"].data
    assert (subscription.billing_cycle_anchor, subscription.latest_invoice) == (RESET, threshold.id)
    assert (item.current_period_start, item.current_period_end) == (RESET, RESET_P1)
    (updated,) = stripe_client.v1.events.list({"type": "customer.subscription.updated"}).data[:1]
    assert updated.data.previous_attributes.billing_cycle_anchor == T0
    assert updated.data.previous_attributes["items"].data[0].current_period_start == T0

    flow.use(2_500, at=RESET + 10)  # $1 in the new period
    stripe_client.v1.test_helpers.test_clocks.advance(flow.clock.id, {"frozen_time": P1 + HOUR + 1})
    assert len(flow.invoices()) == 2  # the old period's end bills nothing
    stripe_client.v1.test_helpers.test_clocks.advance(flow.clock.id, {"frozen_time": RESET_P1 + HOUR + 1})
    cycle = flow.invoices()[-1]
    assert (cycle.billing_reason, cycle.total, cycle.period_start, cycle.period_end) == (
        "subscription_cycle", 100, RESET, RESET_P1,
    )
    (line,) = cycle.lines.data
    assert (line.quantity, line.period.start, line.period.end) == (2_500, RESET, RESET_P1)


def test_a_reset_credits_licensed_items_unused_time_and_charges_their_new_period(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    seat, tokens = catalog.licensed_price(1000), catalog.metered_price(meter)
    subscription = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": seat.id}, {"price": tokens.id}],
            "billing_mode": {"type": "classic"},
            **RESETTING,
        }
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": RESET})
    catalog.use(meter, customer, 25_000, timestamp=RESET)

    threshold = stripe_client.v1.invoices.list({"subscription": subscription.id}).data[0]
    # $10 of usage; 21 of the seat's 31 days unused: -$10 × 21/31 = -$6.77; the new period's seat: $10.
    assert (threshold.billing_reason, threshold.subtotal, threshold.total, threshold.amount_paid) == (
        "subscription_threshold", 1323, 1323, 1323,
    )
    amounts = sorted((line.amount, line.period.start, line.period.end) for line in threshold.lines.data)
    assert amounts == [(-677, RESET, P1), (1000, T0, RESET), (1000, RESET, RESET_P1)]
    unused = next(line for line in threshold.lines.data if line.amount < 0)
    assert unused.parent.subscription_item_details.proration is True
    items = stripe_client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert {(i.current_period_start, i.current_period_end) for i in items} == {(RESET, RESET_P1)}
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": RESET_P1 + HOUR + 1})
    cycle = stripe_client.v1.invoices.list({"subscription": subscription.id}).data[0]
    assert (cycle.billing_reason, cycle.total) == ("subscription_cycle", 1000)  # the next seat; no usage


def test_items_usage_gte_set_and_removed_by_a_subscription_update(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog)
    (item,) = flow.subscription["items"].data
    updated = stripe_client.v1.subscriptions.update(
        flow.subscription.id, {"items": [{"id": item.id, "billing_thresholds": {"usage_gte": 1000}}]}
    )
    assert updated["items"].data[0].billing_thresholds.to_dict() == {"usage_gte": 1000}
    (event,) = stripe_client.v1.events.list({"type": "customer.subscription.updated"}).data[:1]
    assert event.data.previous_attributes["items"].data[0].billing_thresholds is None
    flow.use(1000)
    _, threshold = flow.invoices()
    assert (threshold.billing_reason, threshold.total) == ("subscription_threshold", 40)
    assert threshold.threshold_reason.item_reasons[0].usage_gte == 1000

    removed = stripe_client.v1.subscriptions.update(
        flow.subscription.id, {"items": [{"id": item.id, "billing_thresholds": ""}]}
    )
    assert removed["items"].data[0].billing_thresholds is None
    flow.use(5_000)
    assert len(flow.invoices()) == 2

    other = catalog.metered_price(catalog.meter())
    added = stripe_client.v1.subscriptions.update(
        flow.subscription.id, {"items": [{"price": other.id, "billing_thresholds": {"usage_gte": 50}}]}
    )
    assert added["items"].data[1].billing_thresholds.to_dict() == {"usage_gte": 50}


def test_items_usage_gte_through_the_subscription_items_endpoints(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog)
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    item = stripe_client.v1.subscription_items.create(
        {"subscription": flow.subscription.id, "price": price.id, "billing_thresholds": {"usage_gte": 2_500}}
    )
    assert item.billing_thresholds.to_dict() == {"usage_gte": 2_500}
    catalog.use(meter, flow.customer, 2_500, timestamp=T0 + 10)
    _, threshold = flow.invoices()
    line = next(line for line in threshold.lines.data if line.parent.subscription_item_details.subscription_item == item.id)
    assert (line.quantity, line.amount, threshold.total) == (2_500, 100, 100)
    assert threshold.threshold_reason.to_dict() == {
        "amount_gte": None,
        "item_reasons": [{"line_item_ids": [line.id], "usage_gte": 2_500}],
    }

    changed = stripe_client.v1.subscription_items.update(item.id, {"billing_thresholds": {"usage_gte": 10_000}})
    assert changed.billing_thresholds.to_dict() == {"usage_gte": 10_000}
    (event,) = stripe_client.v1.events.list({"type": "customer.subscription.updated"}).data[:1]
    assert event.data.previous_attributes["items"].data[1].billing_thresholds.usage_gte == 2_500
    catalog.use(meter, flow.customer, 9_999, timestamp=T0 + 20)
    assert len(flow.invoices()) == 2
    cleared = stripe_client.v1.subscription_items.update(item.id, {"billing_thresholds": ""})
    assert cleared.billing_thresholds is None
    catalog.use(meter, flow.customer, 1, timestamp=T0 + 30)
    assert len(flow.invoices()) == 2


def test_items_usage_gte_needs_a_metered_price_and_classic_mode(stripe_client, catalog) -> None:
    flow = Flow(stripe_client, catalog)
    (item,) = flow.subscription["items"].data
    licensed = catalog.licensed_price()
    error = invalid_request(
        lambda: stripe_client.v1.subscription_items.create(
            {"subscription": flow.subscription.id, "price": licensed.id, "billing_thresholds": {"usage_gte": 5}}
        )
    )
    assert error.param == "billing_thresholds[usage_gte]"
    error = invalid_request(
        lambda: stripe_client.v1.subscriptions.update(
            flow.subscription.id,
            {"items": [{"id": item.id, "price": licensed.id, "billing_thresholds": {"usage_gte": 5}}]},
        )
    )
    assert error.param == "items[0][billing_thresholds][usage_gte]"
    error = invalid_request(
        lambda: stripe_client.v1.subscription_items.update(item.id, {"billing_thresholds": {"usage_gte": 0}})
    )
    assert (error.param, error.code) == ("billing_thresholds[usage_gte]", "parameter_invalid_integer")
    flexible = catalog.subscribe(catalog.customer(), catalog.metered_price())
    (flexible_item,) = flexible["items"].data
    error = invalid_request(
        lambda: stripe_client.v1.subscription_items.update(flexible_item.id, {"billing_thresholds": {"usage_gte": 5}})
    )
    assert error.param == "billing_thresholds"
    error = invalid_request(
        lambda: stripe_client.v1.subscriptions.update(
            flexible.id, {"items": [{"id": flexible_item.id, "billing_thresholds": {"usage_gte": 5}}]}
        )
    )
    assert error.param == "items[0][billing_thresholds]"
    assert [i.id for i in stripe_client.v1.subscription_items.list({"subscription": flow.subscription.id}).data] == [item.id]
    assert stripe_client.v1.subscription_items.retrieve(item.id).price.id == flow.price.id


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value
