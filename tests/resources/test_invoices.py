"""`/v1/invoices`: retrieve, list and lines of the invoices subscriptions create."""

from __future__ import annotations

import stripe


def _classic(catalog, customer, *prices, **params):
    return catalog.subscribe(customer, *prices, billing_mode={"type": "classic"}, **params)


def test_retrieve_a_first_invoice(catalog, stripe_client, sdk_fields) -> None:
    customer = catalog.customer(email="jd@example.com")
    price = catalog.metered_price()
    subscription = _classic(catalog, customer, price, metadata={"plan": "tokens"})

    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)

    assert set(invoice.to_dict()) == sdk_fields(stripe.Invoice) - {"payments", "confirmation_secret"}
    assert (invoice.object, invoice.livemode, invoice.currency) == ("invoice", False, "usd")
    assert (invoice.customer, invoice.customer_email, invoice.customer_name) == (customer.id, "jd@example.com", "John Doe")
    assert (invoice.created, invoice.period_start, invoice.period_end) == (subscription.created,) * 3
    assert invoice.effective_at == subscription.created
    assert (invoice.attempt_count, invoice.auto_advance, invoice.next_payment_attempt) == (0, False, None)
    assert (invoice.starting_balance, invoice.ending_balance) == (0, 0)
    assert invoice.status_transitions.to_dict() == {
        "finalized_at": subscription.created,
        "marked_uncollectible_at": None,
        "paid_at": subscription.created,
        "voided_at": None,
    }
    assert invoice.parent.to_dict() == {
        "quote_details": None,
        "subscription_details": {"metadata": {"plan": "tokens"}, "subscription": subscription.id},
        "type": "subscription_details",
    }
    assert (invoice.lines.object, invoice.lines.url, invoice.lines.has_more) == (
        "list",
        f"/v1/invoices/{invoice.id}/lines",
        False,
    )
    [line] = invoice.lines.data
    assert set(line.to_dict()) == sdk_fields(stripe.InvoiceLineItem)
    assert line.metadata.to_dict() == {"plan": "tokens"}
    assert (line.period.start, line.period.end) == (subscription.start_date, subscription.start_date)
    assert line.pricing.price_details.to_dict() == {"price": price.id, "product": price.product}


def test_retrieve_unknown(raw) -> None:
    reply = raw.get("/v1/invoices/in_missing")

    assert reply.status == 404
    assert (reply.error["code"], reply.error["message"]) == ("resource_missing", "No such invoice: 'in_missing'")


def test_expand(catalog, stripe_client) -> None:
    customer = catalog.customer()
    price = catalog.metered_price()
    subscription = _classic(catalog, customer, price)

    invoice = stripe_client.v1.invoices.retrieve(
        subscription.latest_invoice,
        {
            "expand": [
                "customer",
                "parent.subscription_details.subscription",
                "lines.data.pricing.price_details.price",
                "payments",
            ]
        },
    )

    assert invoice.customer.id == customer.id
    assert invoice.parent.subscription_details.subscription.id == subscription.id
    assert invoice.lines.data[0].pricing.price_details.price.id == price.id
    assert (invoice.payments.object, invoice.payments.data) == ("list", [])


def test_list_filters(catalog, stripe_client) -> None:
    alice, bob = catalog.customer(), catalog.customer()
    a1 = _classic(catalog, alice, catalog.metered_price())
    a2 = catalog.subscribe(alice, catalog.licensed_price(500), collection_method="send_invoice", days_until_due=10)
    b1 = _classic(catalog, bob, catalog.metered_price())

    def ids(**params):
        return [invoice.id for invoice in stripe_client.v1.invoices.list(params).data]

    assert ids() == [b1.latest_invoice, a2.latest_invoice, a1.latest_invoice]
    assert ids(customer=alice.id) == [a2.latest_invoice, a1.latest_invoice]
    assert ids(subscription=a1.id) == [a1.latest_invoice]
    assert ids(status="open") == [a2.latest_invoice]
    assert ids(status="paid", customer=alice.id) == [a1.latest_invoice]
    assert ids(collection_method="send_invoice") == [a2.latest_invoice]
    page = stripe_client.v1.invoices.list({"limit": 2})
    assert (len(page.data), page.has_more, page.url) == (2, True, "/v1/invoices")


def test_lines_are_paginated(catalog, stripe_client) -> None:
    prices = [catalog.licensed_price(100 + n) for n in range(12)]
    subscription = catalog.subscribe(catalog.customer(), *prices)
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)

    first = stripe_client.v1.invoices.line_items.list(invoice.id)
    rest = stripe_client.v1.invoices.line_items.list(invoice.id, {"starting_after": first.data[-1].id})
    every = [line.id for line in stripe_client.v1.invoices.line_items.list(invoice.id).auto_paging_iter()]

    assert [line.id for line in invoice.lines.data] == [line.id for line in first.data]
    assert (len(first.data), first.has_more, invoice.lines.has_more) == (10, True, True)
    assert (len(rest.data), rest.has_more) == (2, False)
    assert [line.amount for line in stripe_client.v1.invoices.line_items.list(invoice.id, {"limit": 12}).data] == [
        100 + n for n in range(12)
    ]
    assert len(every) == len(set(every)) == 12
    assert invoice.total == sum(100 + n for n in range(12))
    assert first.url == f"/v1/invoices/{invoice.id}/lines"
