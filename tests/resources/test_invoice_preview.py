"""`POST /v1/invoices/create_preview`: the next invoice of a subscription, computed like Stripe."""

from __future__ import annotations

import pytest
import stripe


def test_the_guide_verbatim(catalog, stripe_client, sdk_fields) -> None:
    meter = catalog.meter("alpaca_ai_tokens")
    price = catalog.metered_price(meter)
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, 25)

    preview = stripe_client.v1.invoices.create_preview({"subscription": subscription.id})

    item = subscription["items"].data[0]
    assert preview.id.startswith("upcoming_in_")
    assert (preview.object, preview.status, preview.billing_reason) == ("invoice", "draft", "upcoming")
    assert (preview.subtotal, preview.total, preview.amount_due, preview.amount_remaining) == (4, 4, 4, 4)
    assert (preview.amount_paid, preview.starting_balance, preview.ending_balance) == (0, 0, None)
    assert (preview.customer, preview.currency, preview.number) == (customer.id, "usd", None)
    assert preview.parent.type == "subscription_details"
    assert preview.parent.subscription_details.subscription == subscription.id
    assert (preview.period_start, preview.period_end) == (item.current_period_start, item.current_period_end)
    assert set(preview.to_dict()) == sdk_fields(stripe.Invoice) - {"payments", "confirmation_secret"}

    [line] = preview.lines.data
    assert line.id.startswith("il_tmp_")
    assert (line.object, line.amount, line.subtotal, line.currency) == ("line_item", 4, 4, "usd")
    assert (line.quantity, str(line.quantity_decimal)) == (25, "25")
    assert (line.period.start, line.period.end) == (item.current_period_start, item.current_period_end)
    assert line.pricing.type == "price_details"
    assert line.pricing.price_details.price == price.id
    assert line.pricing.price_details.product == price.product
    assert str(line.pricing.unit_amount_decimal) == "4"
    details = line.parent.subscription_item_details
    assert line.parent.type == "subscription_item_details"
    assert (details.subscription, details.subscription_item, details.proration) == (subscription.id, item.id, False)
    assert set(line.to_dict()) == sdk_fields(stripe.InvoiceLineItem)
    assert preview.lines.has_more is False


@pytest.mark.parametrize(
    ("rounding", "usage", "amount_due"),
    [
        ("up", 25, 4),
        ("up", 250, 12),
        ("up", 1_000_001, 40_004),
        ("down", 25, 0),
        ("down", 250, 8),
        ("down", 1_000_001, 40_000),
    ],
)
def test_package_pricing_rounds_partial_packages(catalog, rounding, usage, amount_due) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(meter, transform_quantity={"divide_by": 100, "round": rounding})
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, usage)

    preview = catalog.preview(subscription)

    assert (preview.total, preview.amount_due) == (amount_due, amount_due)
    assert preview.lines.data[0].quantity == usage


def test_usage_adds_up_over_events_and_ignores_others(catalog) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    customer, other = catalog.customer(), catalog.customer()
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, 100)
    catalog.use(meter, customer, 150)
    catalog.use(meter, other, 10_000)
    # Before the period began: not this period's usage.
    catalog.use(meter, customer, 10_000, timestamp=subscription.start_date - 60)

    preview = catalog.preview(subscription)

    assert preview.lines.data[0].quantity == 250
    assert preview.amount_due == 12


def test_no_usage_previews_a_zero_invoice(catalog) -> None:
    price = catalog.metered_price()
    subscription = catalog.subscribe(catalog.customer(), price)

    preview = catalog.preview(subscription)

    assert (preview.total, preview.amount_due) == (0, 0)
    assert (preview.lines.data[0].quantity, preview.lines.data[0].amount) == (0, 0)


@pytest.mark.parametrize(
    ("mode", "usage", "amount"),
    [
        # 100 × 5 + 150 × 2 + 100 flat for reaching the second tier.
        ("graduated", 250, 900),
        ("graduated", 100, 500),
        # Every unit at the rate of the tier the total falls in, plus that tier's flat fee.
        ("volume", 250, 600),
        ("volume", 100, 500),
    ],
)
def test_tiered_prices(catalog, mode, usage, amount) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(
        meter,
        unit_amount=None,
        transform_quantity=None,
        billing_scheme="tiered",
        tiers_mode=mode,
        tiers=[{"up_to": 100, "unit_amount": 5}, {"up_to": "inf", "unit_amount": 2, "flat_amount": 100}],
    )
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, usage)

    preview = catalog.preview(subscription)

    [line] = preview.lines.data
    assert (line.amount, preview.amount_due, line.quantity) == (amount, amount, usage)
    assert line.pricing.unit_amount_decimal is None


@pytest.mark.parametrize(
    ("unit_amount_decimal", "usage", "amount"),
    [
        ("0.04", 25, 1),
        ("0.04", 250, 10),
        # 40,000.04 cents: line amounts are whole cents.
        ("0.04", 1_000_001, 40_000),
        # Half a cent rounds up.
        ("0.5", 3, 2),
        ("0.5", 1, 1),
    ],
)
def test_decimal_unit_amounts_round_to_whole_cents(catalog, unit_amount_decimal, usage, amount) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(
        meter, unit_amount=None, unit_amount_decimal=unit_amount_decimal, transform_quantity=None
    )
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, usage)

    preview = catalog.preview(subscription)

    assert (preview.lines.data[0].amount, preview.amount_due) == (amount, amount)
    assert str(preview.lines.data[0].pricing.unit_amount_decimal) == unit_amount_decimal


@pytest.mark.parametrize(("balance", "amount_due"), [(-10, 2), (-12, 0), (-500, 0), (30, 42)])
def test_customer_balance_counts_towards_the_amount_due(catalog, balance, amount_due) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    customer = catalog.customer(balance=balance)
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, 250)

    preview = catalog.preview(subscription)

    assert (preview.subtotal, preview.total) == (12, 12)
    assert (preview.starting_balance, preview.amount_due, preview.amount_remaining) == (balance, amount_due, amount_due)


def test_licensed_items_bill_the_next_period_in_advance(catalog) -> None:
    meter = catalog.meter()
    metered, seats = catalog.metered_price(meter), catalog.licensed_price(1500)
    customer = catalog.customer()
    subscription = catalog.client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": metered.id}, {"price": seats.id, "quantity": 3}]}
    )
    catalog.use(meter, customer, 250)

    preview = catalog.preview(subscription)

    usage_line, seats_line = preview.lines.data
    item = subscription["items"].data[1]
    assert (usage_line.amount, seats_line.amount, preview.total) == (12, 4500, 4512)
    assert (seats_line.quantity, str(seats_line.quantity_decimal)) == (3, "3")
    assert seats_line.period.start == item.current_period_end
    assert seats_line.period.end > seats_line.period.start
    assert usage_line.period.end == item.current_period_end


def test_a_subscription_ending_with_its_period_bills_only_usage(catalog) -> None:
    meter = catalog.meter()
    metered, seats = catalog.metered_price(meter), catalog.licensed_price(1500)
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, metered, seats, cancel_at_period_end=True)
    catalog.use(meter, customer, 25)

    preview = catalog.preview(subscription)

    assert [line.pricing.price_details.price for line in preview.lines.data] == [metered.id]
    assert preview.amount_due == 4


def test_the_preview_is_never_stored(catalog, stripe_client, raw) -> None:
    price = catalog.metered_price()
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)

    first, second = catalog.preview(subscription), catalog.preview(subscription)

    assert first.id != second.id
    assert raw.get(f"/v1/invoices/{first.id}").status == 404
    assert stripe_client.v1.invoices.list({"customer": customer.id}).data == []
    assert stripe_client.v1.customers.retrieve(customer.id).next_invoice_sequence == 1


def test_a_canceled_subscription_has_no_next_invoice(catalog, stripe_client) -> None:
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, catalog.metered_price())
    stripe_client.v1.subscriptions.cancel(subscription.id)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        catalog.preview(subscription)

    assert caught.value.code == "invoice_upcoming_none"
    assert caught.value.user_message == f"No upcoming invoices for customer: {customer.id}"


def test_nothing_to_preview(raw) -> None:
    reply = raw.post("/v1/invoices/create_preview", "")

    assert reply.status == 400
    assert reply.error["message"] == (
        "You must provide at least one of: subscription, schedule, subscription_details.items, "
        "schedule_details.phases, invoice_items."
    )


def test_a_customer_alone_is_not_enough(catalog, raw) -> None:
    customer = catalog.customer()

    reply = raw.post("/v1/invoices/create_preview", {"customer": customer.id})

    assert reply.status == 400
    assert reply.error["message"].startswith("You must provide at least one of: subscription")


def test_unknown_subscription(raw) -> None:
    reply = raw.post("/v1/invoices/create_preview", {"subscription": "sub_missing"})

    assert reply.status == 400
    assert reply.error["code"] == "resource_missing"
    assert reply.error["param"] == "subscription"
    assert reply.error["message"] == "No such subscription: 'sub_missing'"


def test_expanding_the_preview(catalog) -> None:
    price = catalog.metered_price()
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, price)

    preview = catalog.preview(
        subscription,
        expand=["customer", "parent.subscription_details.subscription", "lines.data.pricing.price_details.price"],
    )

    assert preview.customer.id == customer.id
    assert preview.parent.subscription_details.subscription.id == subscription.id
    assert preview.lines.data[0].pricing.price_details.price.id == price.id


class TestNewSubscription:
    """`customer` + `subscription_details[items]`: the first invoice a subscription would produce."""

    def test_flexible_metered_only_previews_nothing(self, catalog) -> None:
        customer = catalog.customer()
        preview = catalog.client.v1.invoices.create_preview(
            {"customer": customer.id, "subscription_details": {"items": [{"price": catalog.metered_price().id}]}}
        )

        assert preview.lines.data == []
        assert (preview.total, preview.amount_due) == (0, 0)

    def test_classic_carries_a_zero_line_per_metered_item(self, catalog) -> None:
        customer = catalog.customer()
        price = catalog.metered_price()
        preview = catalog.client.v1.invoices.create_preview(
            {
                "customer": customer.id,
                "subscription_details": {"items": [{"price": price.id}], "billing_mode": {"type": "classic"}},
            }
        )

        [line] = preview.lines.data
        assert (line.amount, line.quantity, line.pricing.price_details.price) == (0, 0, price.id)
        assert preview.total == 0

    def test_licensed_items_are_billed_for_the_first_period(self, catalog, stripe_client) -> None:
        customer = catalog.customer()
        preview = catalog.client.v1.invoices.create_preview(
            {
                "customer": customer.id,
                "subscription_details": {"items": [{"price": catalog.licensed_price(700).id, "quantity": 2}]},
            }
        )

        assert [line.amount for line in preview.lines.data] == [1400]
        assert preview.amount_due == 1400
        assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []

    def test_rules_of_subscription_creation_apply(self, catalog, raw) -> None:
        customer = catalog.customer()
        price = catalog.metered_price()

        reply = raw.post(
            "/v1/invoices/create_preview",
            f"customer={customer.id}&subscription_details[items][0][price]={price.id}"
            "&subscription_details[items][0][quantity]=2",
        )

        assert reply.status == 400
        assert reply.error["param"] == "subscription_details[items][0][quantity]"


def test_a_deleted_customer_has_no_next_invoice(catalog, stripe_client) -> None:
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, catalog.metered_price())
    stripe_client.v1.customers.delete(customer.id)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        catalog.preview(subscription)

    assert caught.value.code == "invoice_upcoming_none"
