"""Coupons and promotion codes redeemed into discounts on subscriptions and their invoices."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

HOUR = 3600


def at(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp())


def error_of(excinfo: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = excinfo.value.json_body["error"]
    return {k: body.get(k) for k in ("type", "code", "param", "message")}


def amounts(invoice: stripe.Invoice) -> dict[str, int]:
    keys = ("subtotal", "total_excluding_tax", "total", "amount_due")
    return {key: getattr(invoice, key) for key in keys}


def test_a_percent_off_coupon_discounts_the_first_invoice(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    customer = catalog.customer()
    price = catalog.licensed_price(1999)
    subscription = catalog.subscribe(
        customer, price, discounts=[{"coupon": coupon.id}], expand=["latest_invoice", "discounts"]
    )
    [discount] = subscription.discounts
    assert discount.to_dict() == {
        "id": discount.id,
        "object": "discount",
        "checkout_session": None,
        "customer": customer.id,
        "customer_account": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon.id, "type": "coupon"},
        "start": subscription.created,
        "subscription": subscription.id,
        "subscription_item": None,
    }
    invoice = subscription.latest_invoice
    assert invoice.discounts == [discount.id]
    # 25 % of 19.99 = 4.9975 -> 5.00.
    assert [d.to_dict() for d in invoice.lines.data[0].discount_amounts] == [{"amount": 500, "discount": discount.id}]
    assert [d.to_dict() for d in invoice.total_discount_amounts] == [{"amount": 500, "discount": discount.id}]
    assert amounts(invoice) == {"subtotal": 1999, "total_excluding_tax": 1499, "total": 1499, "amount_due": 1499}
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


class Clocked:
    """A customer on a test clock at 2026-01-01 with a monthly subscription to a 20.00 price."""

    def __init__(self, client: stripe.StripeClient, catalog: Any, **params: Any) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": at(2026, 1)})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.price = catalog.licensed_price(2000)
        self.subscription = catalog.subscribe(self.customer, self.price, **params)

    def advance_to_month(self, month: int) -> None:
        """Advance a month at a time to two hours into the first of `month` (2026): each renewal's
        invoice is finalized and paid by then."""
        current = datetime.fromtimestamp(self.client.v1.test_helpers.test_clocks.retrieve(self.clock.id).frozen_time, timezone.utc)
        for step in range(current.month + 1, month + 1):
            self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": at(2026, step) + 2 * HOUR})

    def totals(self) -> list[tuple[str, int, int]]:
        """Each invoice of the subscription, oldest first: (billing reason, subtotal, total)."""
        listed = reversed(self.client.v1.invoices.list({"subscription": self.subscription.id}).data)
        return [(invoice.billing_reason, invoice.subtotal, invoice.total) for invoice in listed]

    def refreshed(self) -> stripe.Subscription:
        return self.client.v1.subscriptions.retrieve(self.subscription.id)


def test_a_repeating_coupon_discounts_three_months_then_ends(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25, "duration": "repeating", "duration_in_months": 3})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    [discount_id] = flow.subscription.discounts
    discount = stripe_client.v1.subscriptions.retrieve(flow.subscription.id, {"expand": ["discounts"]}).discounts[0]
    # Three calendar months from the start: 2026-04-01.
    assert (discount.start, discount.end) == (at(2026, 1), at(2026, 4))
    created = events.new()
    assert created[created.index("customer.subscription.created") :][:2] == [
        "customer.subscription.created",
        "customer.discount.created",
    ]

    flow.advance_to_month(3)
    # January, February and March: 25 % off 20.00.
    assert flow.totals() == [
        ("subscription_create", 2000, 1500),
        ("subscription_cycle", 2000, 1500),
        ("subscription_cycle", 2000, 1500),
    ]
    events.new()

    flow.advance_to_month(5)
    # The discount ended on April 1st, as April's invoice was made: April and May are full price.
    assert flow.totals()[3:] == [("subscription_cycle", 2000, 2000), ("subscription_cycle", 2000, 2000)]
    april = events.new_events()
    types = [event.type for event in april]
    # April's renewal, announced three days before, comes without the discount.
    upcoming = april[types.index("invoice.upcoming")].data.object
    assert (upcoming.total, upcoming.discounts) == (2000, [])
    ending = types.index("customer.discount.deleted")
    assert types[ending : ending + 3] == [
        "customer.discount.deleted",
        "customer.subscription.updated",
        "customer.subscription.updated",
    ]
    assert types.count("customer.discount.deleted") == 1
    ended = april[ending].data.object
    assert (ended.id, ended.end) == (discount_id, at(2026, 4))
    assert april[ending + 1].data.previous_attributes.to_dict() == {"discounts": [discount_id]}
    assert flow.refreshed().discounts == []
    [paid] = [e for e in april if e.type == "invoice.paid"][:1]
    assert paid.data.object.total == 2000


def test_a_once_coupon_discounts_only_the_first_invoice(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 750, "currency": "usd", "duration": "once"})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    # Spent on the first invoice: the subscription keeps no discount.
    assert flow.subscription.discounts == flow.refreshed().discounts == []
    types = events.new()
    assert types.index("customer.discount.created") < types.index("invoice.created")
    assert "customer.discount.deleted" in types
    flow.advance_to_month(2)
    assert flow.totals() == [("subscription_create", 2000, 1250), ("subscription_cycle", 2000, 2000)]
    first = stripe_client.v1.invoices.list({"subscription": flow.subscription.id}).data[-1]
    [discount_id] = first.discounts
    assert [d.to_dict() for d in first.total_discount_amounts] == [{"amount": 750, "discount": discount_id}]


def test_a_forever_coupon_discounts_every_invoice(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 12.5, "duration": "forever"})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    flow.advance_to_month(3)
    # 12.5 % of 20.00 = 2.50.
    assert [total for _, _, total in flow.totals()] == [1750, 1750, 1750]
    assert len(flow.refreshed().discounts) == 1
