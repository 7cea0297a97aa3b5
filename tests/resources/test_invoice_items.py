"""`/v1/invoiceitems`: pending one-off amounts for a customer's next invoice."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import stripe


def _one_time_price(client: stripe.StripeClient, unit_amount: int = 250) -> stripe.Price:
    return client.v1.prices.create({"currency": "usd", "unit_amount": unit_amount, "product_data": {"name": "Setup fee"}})


def test_create_an_amount(stripe_client, sdk_fields, events) -> None:
    customer = stripe_client.v1.customers.create()
    events.new()

    item = stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 1500, "currency": "usd", "description": "Onboarding", "metadata": {"k": "v"}}
    )

    assert set(item.to_dict()) == sdk_fields(stripe.InvoiceItem) - {"deleted"}
    assert re.fullmatch(r"ii_1\w{23}", item.id)
    assert (item.amount, item.currency, item.quantity, item.description) == (1500, "usd", 1, "Onboarding")
    assert (item.customer, item.invoice, item.proration, item.discountable) == (customer.id, None, False, True)
    assert item.period.start == item.period.end == item.date
    assert item.pricing.to_dict() == {"price_details": None, "type": "price_details", "unit_amount_decimal": Decimal("1500")}
    assert events.new() == ["invoiceitem.created"]


def test_a_one_time_price_times_a_quantity(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()
    price = _one_time_price(stripe_client)

    item = stripe_client.v1.invoice_items.create({"customer": customer.id, "pricing": {"price": price.id}, "quantity": 3})

    assert (item.amount, item.currency, item.quantity, item.description) == (750, "usd", 3, "Setup fee")
    assert item.pricing.price_details.to_dict() == {"price": price.id, "product": price.product}
    updated = stripe_client.v1.invoice_items.update(item.id, {"quantity": 4})
    assert (updated.amount, updated.quantity) == (1000, 4)


def test_a_recurring_price_is_refused(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 100, "recurring": {"interval": "month"}, "product_data": {"name": "Seat"}}
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoice_items.create({"customer": customer.id, "pricing": {"price": price.id}})

    assert raised.value.param == "pricing[price]"
    assert stripe_client.v1.invoice_items.list().data == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({"amount": 100}, "Missing required param: currency."),
        ({"currency": "usd"}, "You must specify either `amount`, `pricing[price]` or `unit_amount_decimal`."),
        ({"customer": "cus_missing", "amount": 1, "currency": "usd"}, "No such customer: 'cus_missing'"),
    ],
)
def test_bad_input(stripe_client, params, message) -> None:
    customer = stripe_client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoice_items.create({"customer": customer.id, **params})

    assert raised.value.user_message == message


def test_list_update_and_delete(stripe_client, events) -> None:
    alice, bob = stripe_client.v1.customers.create(), stripe_client.v1.customers.create()
    first = stripe_client.v1.invoice_items.create({"customer": alice.id, "amount": 100, "currency": "usd"})
    stripe_client.v1.invoice_items.create({"customer": bob.id, "amount": 200, "currency": "usd"})
    second = stripe_client.v1.invoice_items.create({"customer": alice.id, "unit_amount_decimal": "12.5", "quantity": 2, "currency": "usd"})

    assert second.amount == 25
    listed = stripe_client.v1.invoice_items.list({"customer": alice.id, "pending": True})
    assert [i.id for i in listed.data] == [second.id, first.id]
    assert stripe_client.v1.invoice_items.list({"pending": False}).data == []

    updated = stripe_client.v1.invoice_items.update(first.id, {"amount": 300, "description": "Fee"})
    assert (updated.amount, updated.description) == (300, "Fee")
    events.new()

    deleted = stripe_client.v1.invoice_items.delete(first.id)

    assert deleted.to_dict() == {"id": first.id, "object": "invoiceitem", "deleted": True}
    assert events.new() == ["invoiceitem.deleted"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoice_items.retrieve(first.id)
    assert (raised.value.http_status, raised.value.user_message) == (404, f"No such invoiceitem: '{first.id}'")
