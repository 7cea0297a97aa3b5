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
    error = create(
        items=[{"price": metered.id}], billing_thresholds={"amount_gte": 500, "reset_billing_cycle_anchor": True}, **classic
    )
    assert error.param == "billing_thresholds[reset_billing_cycle_anchor]"
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
