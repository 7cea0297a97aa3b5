"""Prorations of subscription changes mid-period, on a test clock, amounts worked by hand: January
2025 has 2,678,400 seconds; a change on Jan 16 00:00 leaves 16 of its 31 days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_11_NOON = int(datetime(2025, 1, 11, 12, tzinfo=UTC).timestamp())
JAN_16 = int(datetime(2025, 1, 16, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
HOUR = 3600
# $10 x 16/31 = $5.16 credited, $30 x 16/31 = $15.48 charged.
UNUSED_BASIC, REMAINING_PRO = -516, 1548


class Plan:
    """A customer on a test clock at Jan 1 2025 with a $10 monthly Basic subscription, and a $30 Pro."""

    def __init__(
        self,
        client: stripe.StripeClient,
        catalog,
        *extra_prices: stripe.Price,
        quantity: int = 1,
    ) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.basic = catalog.licensed_price(1000, product_data={"name": "Basic"})
        self.pro = catalog.licensed_price(3000, product_data={"name": "Pro"})
        items = [
            {"price": self.basic.id, "quantity": quantity},
            *({"price": p.id} for p in extra_prices),
        ]
        self.subscription = client.v1.subscriptions.create(
            {"customer": self.customer.id, "items": items}
        )
        self.item = self.subscription["items"].data[0]

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(
            self.clock.id, {"frozen_time": to}
        )

    def upgrade(self, **params) -> stripe.Subscription:
        return self.client.v1.subscriptions.update(
            self.subscription.id,
            {"items": [{"id": self.item.id, "price": self.pro.id}], **params},
        )

    def pending(self) -> list[stripe.InvoiceItem]:
        listed = self.client.v1.invoice_items.list(
            {"customer": self.customer.id, "pending": True}
        )
        return list(reversed(listed.data))


def _proration_summary(items) -> list[tuple[int, str, bool, int, int]]:
    return [
        (i.amount, i.description, i.proration, i.period.start, i.period.end)
        for i in items
    ]


def test_upgrade_with_create_prorations_leaves_pending_items_for_the_renewal(
    stripe_client, catalog, events
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    events.new()

    updated = plan.upgrade(proration_behavior="create_prorations")

    assert updated["items"].data[0].price.id == plan.pro.id
    assert updated.latest_invoice == plan.subscription.latest_invoice
    pending = plan.pending()
    assert _proration_summary(pending) == [
        (UNUSED_BASIC, "Unused time on Basic after 16 Jan 2025", True, JAN_16, FEB_1),
        (REMAINING_PRO, "Remaining time on Pro after 16 Jan 2025", True, JAN_16, FEB_1),
    ]
    assert [
        (
            i.parent.subscription_details.subscription,
            i.parent.subscription_details.subscription_item,
        )
        for i in pending
    ] == [(plan.subscription.id, plan.item.id)] * 2
    assert [i.discountable for i in pending] == [False, False]
    assert events.new() == [
        "invoiceitem.created",
        "invoiceitem.created",
        "customer.subscription.updated",
    ]

    preview = catalog.preview(plan.subscription)
    assert [line.amount for line in preview.lines.data] == [
        3000,
        UNUSED_BASIC,
        REMAINING_PRO,
    ]
    assert preview.amount_due == 3000 + UNUSED_BASIC + REMAINING_PRO == 4032

    plan.advance(FEB_1 + HOUR)
    renewal = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id).latest_invoice
    )
    assert (renewal.billing_reason, renewal.status, renewal.amount_paid) == (
        "subscription_cycle",
        "paid",
        4032,
    )
    prorations = [
        line
        for line in renewal.lines.data
        if line.parent.subscription_item_details.proration
    ]
    assert [
        (line.amount, line.parent.subscription_item_details.invoice_item)
        for line in prorations
    ] == [
        (UNUSED_BASIC, pending[0].id),
        (REMAINING_PRO, pending[1].id),
    ]
    assert plan.pending() == []
    assert stripe_client.v1.invoice_items.retrieve(pending[0].id).invoice == renewal.id


def test_upgrade_with_always_invoice_charges_the_difference_now(
    stripe_client, catalog, events
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    events.new()

    updated = plan.upgrade(proration_behavior="always_invoice")

    invoice = stripe_client.v1.invoices.retrieve(updated.latest_invoice)
    assert invoice.id != plan.subscription.latest_invoice
    assert (
        invoice.billing_reason,
        invoice.status,
        invoice.total,
        invoice.amount_paid,
        invoice.amount_remaining,
    ) == (
        "subscription_update",
        "paid",
        UNUSED_BASIC + REMAINING_PRO,
        1032,
        0,
    )
    assert invoice.parent.subscription_details.subscription == plan.subscription.id
    assert [
        (line.amount, line.description, line.period.start, line.period.end)
        for line in invoice.lines.data
    ] == [
        (UNUSED_BASIC, "Unused time on Basic after 16 Jan 2025", JAN_16, FEB_1),
        (REMAINING_PRO, "Remaining time on Pro after 16 Jan 2025", JAN_16, FEB_1),
    ]
    assert all(
        line.parent.subscription_item_details.subscription_item == plan.item.id
        for line in invoice.lines.data
    )
    assert plan.pending() == []
    assert events.new() == [
        "invoiceitem.created",
        "invoiceitem.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.updated",
    ]
    # The renewal then charges Pro's next month alone.
    assert catalog.preview(plan.subscription).amount_due == 3000


def test_upgrade_without_prorations_changes_the_price_only(
    stripe_client, catalog, events
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    events.new()

    plan.upgrade(proration_behavior="none")

    assert plan.pending() == []
    assert events.new() == ["customer.subscription.updated"]
    plan.advance(FEB_1 + HOUR)
    renewal = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id).latest_invoice
    )
    assert (renewal.amount_paid, [line.amount for line in renewal.lines.data]) == (
        3000,
        [3000],
    )


def test_prorating_is_the_default(stripe_client, catalog) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    plan.upgrade()
    assert [i.amount for i in plan.pending()] == [UNUSED_BASIC, REMAINING_PRO]


def test_a_quantity_downgrade_on_the_item_credits_the_difference(
    stripe_client, catalog
) -> None:
    # 5 seats at $10 down to 3 on Jan 11 at noon, 20.5 days before Feb 1: $50 x 20.5/31 = $33.06 back,
    # $30 x 20.5/31 = $19.84 owed.
    plan = Plan(stripe_client, catalog, quantity=5)
    plan.advance(JAN_11_NOON)

    stripe_client.v1.subscription_items.update(plan.item.id, {"quantity": 3})

    assert _proration_summary(plan.pending()) == [
        (-3306, "Unused time on 5 × Basic after 11 Jan 2025", True, JAN_11_NOON, FEB_1),
        (
            1984,
            "Remaining time on 3 × Basic after 11 Jan 2025",
            True,
            JAN_11_NOON,
            FEB_1,
        ),
    ]


def test_proration_date_sets_the_instant_prorated_from(stripe_client, catalog) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    plan.upgrade(proration_date=JAN_11_NOON, proration_behavior="always_invoice")
    # $10 x 20.5/31 = $6.61, $30 x 20.5/31 = $19.84.
    invoice = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id).latest_invoice
    )
    assert [(line.amount, line.period.start) for line in invoice.lines.data] == [
        (-661, JAN_11_NOON),
        (1984, JAN_11_NOON),
    ]
    assert invoice.amount_paid == 1323


def test_items_added_and_removed_prorate_alone(stripe_client, catalog) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    addon = catalog.licensed_price(3100, product_data={"name": "Support"})

    added = stripe_client.v1.subscription_items.create(
        {"subscription": plan.subscription.id, "price": addon.id}
    )
    stripe_client.v1.subscription_items.delete(plan.item.id)

    # $31 x 16/31 = $16 for Support; Basic's unused $5.16 back.
    assert [
        (i.amount, i.parent.subscription_details.subscription_item)
        for i in plan.pending()
    ] == [
        (1600, added.id),
        (UNUSED_BASIC, plan.item.id),
    ]


def test_metered_items_never_prorate_and_their_usage_still_bills(
    stripe_client, catalog
) -> None:
    meter = catalog.meter()
    metered = catalog.metered_price(meter)
    plan = Plan(stripe_client, catalog, metered)
    plan.advance(JAN_16)
    catalog.use(meter, plan.customer, 250, timestamp=JAN_16 - 60)

    plan.upgrade(proration_behavior="always_invoice")

    invoice = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id).latest_invoice
    )
    assert [line.amount for line in invoice.lines.data] == [UNUSED_BASIC, REMAINING_PRO]
    # 250 tokens: 3 packages of 100 at 4 cents, at the period's end with Pro's next month.
    assert sorted(
        line.amount for line in catalog.preview(plan.subscription).lines.data
    ) == [12, 3000]


@pytest.mark.parametrize(
    ("proration_date", "message"),
    [
        (
            JAN_1 - 1,
            "Cannot specify proration date before the current subscription started",
        ),
        (FEB_1 + 1, "Cannot specify proration date after the current period ends"),
    ],
)
def test_a_proration_date_outside_the_period_is_a_400_and_changes_nothing(
    stripe_client, catalog, events, proration_date: int, message: str
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    events.new()

    with pytest.raises(stripe.InvalidRequestError) as raised:
        plan.upgrade(proration_date=proration_date, proration_behavior="always_invoice")

    assert (
        raised.value.http_status,
        raised.value.param,
        raised.value.user_message,
    ) == (400, "proration_date", message)
    assert (
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id)["items"]
        .data[0]
        .price.id
        == plan.basic.id
    )
    assert plan.pending() == []
    assert events.new() == []


def test_canceling_with_prorate_and_invoice_now_credits_the_unused_time_at_once(
    stripe_client, catalog, events
) -> None:
    meter = catalog.meter()
    plan = Plan(stripe_client, catalog, catalog.metered_price(meter))
    plan.advance(JAN_16)
    catalog.use(meter, plan.customer, 250, timestamp=JAN_16 - 60)
    events.new()

    canceled = stripe_client.v1.subscriptions.cancel(
        plan.subscription.id,
        {
            "prorate": True,
            "invoice_now": True,
            "cancellation_details": {"comment": "Too pricey"},
        },
    )

    assert (canceled.status, canceled.canceled_at, canceled.ended_at) == (
        "canceled",
        JAN_16,
        JAN_16,
    )
    assert canceled.cancellation_details.comment == "Too pricey"
    final = stripe_client.v1.invoices.retrieve(canceled.latest_invoice)
    # The usage so far (3 packages of 100 at 4 cents) less Basic's unused $5.16.
    assert [
        (line.amount, line.period.start, line.period.end) for line in final.lines.data
    ] == [
        (12, JAN_1, JAN_16),
        (UNUSED_BASIC, JAN_16, FEB_1),
    ]
    assert (final.total, final.amount_due, final.status, final.ending_balance) == (
        12 + UNUSED_BASIC,
        0,
        "paid",
        -504,
    )
    assert stripe_client.v1.customers.retrieve(plan.customer.id).balance == -504
    assert plan.pending() == []
    assert events.new() == [
        "invoiceitem.created",
        "customer.subscription.deleted",
        "invoice.created",
        "customer.updated",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_canceling_with_prorate_alone_leaves_the_credit_pending(
    stripe_client, catalog
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)

    canceled = stripe_client.v1.subscriptions.cancel(
        plan.subscription.id, {"prorate": True}
    )

    assert canceled.latest_invoice == plan.subscription.latest_invoice
    assert _proration_summary(plan.pending()) == [
        (UNUSED_BASIC, "Unused time on Basic after 16 Jan 2025", True, JAN_16, FEB_1)
    ]


def test_a_preview_of_the_upgrade_shows_its_prorations_and_changes_nothing(
    stripe_client, catalog, events
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    events.new()
    details = {
        "items": [{"id": plan.item.id, "price": plan.pro.id}],
        "proration_date": JAN_16,
    }

    renewal = catalog.preview(plan.subscription, subscription_details=details)
    now = catalog.preview(
        plan.subscription,
        subscription_details={**details, "proration_behavior": "always_invoice"},
    )

    assert [(line.amount, line.description) for line in renewal.lines.data] == [
        (3000, "1 × Pro (at $30.00 / month)"),
        (UNUSED_BASIC, "Unused time on Basic after 16 Jan 2025"),
        (REMAINING_PRO, "Remaining time on Pro after 16 Jan 2025"),
    ]
    assert renewal.amount_due == 4032
    assert [
        line.parent.subscription_item_details.proration for line in renewal.lines.data
    ] == [False, True, True]
    assert [line.amount for line in now.lines.data] == [UNUSED_BASIC, REMAINING_PRO]
    assert now.amount_due == 1032
    assert (
        stripe_client.v1.subscriptions.retrieve(plan.subscription.id)["items"]
        .data[0]
        .price.id
        == plan.basic.id
    )
    assert plan.pending() == []
    assert events.new() == []


def test_a_preview_with_a_proration_date_outside_the_period_is_a_400(
    stripe_client, catalog
) -> None:
    plan = Plan(stripe_client, catalog)
    plan.advance(JAN_16)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        catalog.preview(
            plan.subscription,
            subscription_details={
                "items": [{"id": plan.item.id, "price": plan.pro.id}],
                "proration_date": FEB_1 + 1,
            },
        )
    assert (raised.value.http_status, raised.value.param) == (
        400,
        "subscription_details[proration_date]",
    )
