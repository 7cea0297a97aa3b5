"""Checkout Sessions (`/v1/checkout/sessions`): the object, its amounts, line items, lists and expiry."""

from __future__ import annotations

import time

import pytest
import stripe

from mockstripe.domain.checkout import (
    EXPIRES_TOO_LATE,
    NO_RECURRING_IN_SUBSCRIPTION,
    QUANTITY_REQUIRED,
    RECURRING_IN_PAYMENT,
)
from mockstripe.domain.subscriptions import METERED_QUANTITY

SUCCESS = "http://127.0.0.1:4242/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:4242/cancel"


def one_time_price(client: stripe.StripeClient, unit_amount: int = 2500) -> stripe.Price:
    return client.v1.prices.create({"currency": "usd", "unit_amount": unit_amount, "product_data": {"name": "T-shirt"}})


def test_a_subscription_session_sells_seats_and_usage(stripe_client, catalog, mockstripe_url, sdk_fields) -> None:
    seats = catalog.licensed_price(unit_amount=1500)
    tokens = catalog.metered_price()
    before = int(time.time())
    session = stripe_client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": seats.id, "quantity": 3}, {"price": tokens.id}],
            "customer_email": "jenny@example.com",
            "success_url": SUCCESS,
            "cancel_url": CANCEL,
            "client_reference_id": "user_42",
            "metadata": {"plan": "team"},
        }
    )
    assert session.id.startswith("cs_test_a1") and len(session.id) == len("cs_test_a1") + 58
    assert (session.object, session.mode, session.status, session.payment_status) == (
        "checkout.session", "subscription", "open", "unpaid",
    )
    assert (session.amount_subtotal, session.amount_total, session.currency) == (4500, 4500, "usd")
    assert (session.customer, session.customer_email, session.client_reference_id) == (None, "jenny@example.com", "user_42")
    assert (session.success_url, session.cancel_url) == (SUCCESS, CANCEL)
    assert session.metadata.to_dict() == {"plan": "team"}
    assert (session.subscription, session.invoice, session.payment_intent) == (None, None, None)
    assert session.url == f"{mockstripe_url}/c/pay/{session.id}"
    assert before <= session.created <= int(time.time())
    assert session.expires_at == session.created + 24 * 3600
    assert set(session.to_dict()) == sdk_fields(stripe.checkout.Session) - {"line_items"}
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()

    items = stripe_client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.object, i.price.id, i.quantity, i.amount_subtotal, i.amount_total, i.description) for i in items.data] == [
        ("item", seats.id, 3, 4500, 4500, "Seat"),
        ("item", tokens.id, None, 0, 0, "Alpaca AI tokens"),
    ]
    assert all(i.id.startswith("li_") for i in items.data)

    expanded = stripe_client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    assert [i.id for i in expanded.line_items.data] == [i.id for i in items.data]


def test_a_payment_session_totals_its_one_time_prices(stripe_client, catalog) -> None:
    shirt = one_time_price(stripe_client)
    customer = catalog.customer(email="jenny@example.com")
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 2}], "customer": customer.id,
         "success_url": SUCCESS}
    )
    assert (session.amount_subtotal, session.amount_total) == (5000, 5000)
    assert (session.customer, session.customer_details.email) == (customer.id, "jenny@example.com")
    assert session.customer_creation is None


@pytest.mark.parametrize(
    ("mode", "item", "message", "param"),
    [
        ("payment", "seats", RECURRING_IN_PAYMENT, "line_items[0][price]"),
        ("subscription", "shirt", NO_RECURRING_IN_SUBSCRIPTION, "line_items"),
        ("subscription", "tokens_with_quantity", METERED_QUANTITY, "line_items[0][quantity]"),
        ("subscription", "seats_without_quantity", QUANTITY_REQUIRED.format(index=0), "line_items[0][quantity]"),
    ],
)
def test_line_items_that_do_not_fit_the_mode(stripe_client, catalog, mode, item, message, param) -> None:
    line = {
        "seats": lambda: {"price": catalog.licensed_price().id, "quantity": 1},
        "shirt": lambda: {"price": one_time_price(stripe_client).id, "quantity": 1},
        "tokens_with_quantity": lambda: {"price": catalog.metered_price().id, "quantity": 1},
        "seats_without_quantity": lambda: {"price": catalog.licensed_price().id},
    }[item]()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.create({"mode": mode, "line_items": [line], "success_url": SUCCESS})
    assert (caught.value.http_status, caught.value.user_message, caught.value.param) == (400, message, param)
    assert stripe_client.v1.checkout.sessions.list().data == []


def test_expires_at_is_within_a_day(stripe_client) -> None:
    shirt = one_time_price(stripe_client)
    line = [{"price": shirt.id, "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": line, "expires_at": int(time.time()) + 25 * 3600}
        )
    assert (caught.value.user_message, caught.value.param) == (EXPIRES_TOO_LATE, "expires_at")
    wanted = int(time.time()) + 3600
    session = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": line, "expires_at": wanted})
    assert session.expires_at == wanted


def test_expire_sends_checkout_session_expired(stripe_client) -> None:
    shirt = one_time_price(stripe_client)
    session = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 1}]})
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    events = stripe_client.v1.events.list().data
    assert [e.type for e in events] == ["checkout.session.expired", "price.created", "product.created"]
    assert events[0].data.object.id == session.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.expire(session.id)
    assert 'has a status of "expired"' in caught.value.user_message


def test_list_filters_by_status_and_customer(stripe_client, catalog) -> None:
    shirt = one_time_price(stripe_client)
    customer = catalog.customer()
    line = [{"price": shirt.id, "quantity": 1}]
    first = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": line, "customer": customer.id})
    second = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": line})
    stripe_client.v1.checkout.sessions.expire(second.id)
    sessions = stripe_client.v1.checkout.sessions
    assert [s.id for s in sessions.list().data] == [second.id, first.id]
    assert [s.id for s in sessions.list({"status": "open"}).data] == [first.id]
    assert [s.id for s in sessions.list({"status": "expired"}).data] == [second.id]
    assert [s.id for s in sessions.list({"customer": customer.id}).data] == [first.id]
    assert sessions.list({"subscription": "sub_nothing"}).data == []


def test_unknown_session_is_a_404(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.user_message == "No such checkout session: 'cs_test_missing'"


def test_the_hosted_page_shows_what_is_bought_escaped(stripe_client, raw) -> None:
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1250, "product_data": {"name": "<b>Mug</b> & co"}}
    )
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": price.id, "quantity": 2}], "cancel_url": CANCEL + "?a=1&b=2",
         "customer_email": 'x"@example.com'}
    )
    page = raw.get(f"/c/pay/{session.id}")
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "&lt;b&gt;Mug&lt;/b&gt; &amp; co" in page.body and "<b>Mug" not in page.body
    assert "25.00 USD" in page.body and "Total due today" in page.body
    assert f'<a id=back href="{CANCEL}?a=1&amp;b=2">Back</a>' in page.body
    assert 'value="x&quot;@example.com"' in page.body
    assert "pm_card_chargeDeclined" in page.body

    stripe_client.v1.checkout.sessions.expire(session.id)
    closed = raw.get(f"/c/pay/{session.id}")
    assert closed.status == 200 and "This Checkout Session is no longer active." in closed.body
    assert raw.get("/c/pay/cs_test_unknown").status == 404


def complete(raw, session_id: str, **form: str):
    return raw.post(f"/_mock/checkout/sessions/{session_id}/complete", form)


def test_paying_a_subscription_session_signs_the_customer_up(stripe_client, catalog, raw) -> None:
    seats = catalog.licensed_price(unit_amount=1500)
    tokens = catalog.metered_price()
    session = stripe_client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": seats.id, "quantity": 2}, {"price": tokens.id}],
            "customer_email": "jenny@example.com",
            "success_url": SUCCESS,
            "subscription_data": {"metadata": {"plan": "team"}},
        }
    )
    before = {e.id for e in stripe_client.v1.events.list({"limit": 100}).data}
    reply = complete(raw, session.id, payment_method="pm_card_visa")
    assert reply.status == 200, reply.body
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.customer_details.email) == ("complete", "paid", "jenny@example.com")
    assert reply.body == done.to_dict()

    customer = stripe_client.v1.customers.retrieve(done.customer)
    assert customer.email == "jenny@example.com"
    subscription = stripe_client.v1.subscriptions.retrieve(done.subscription)
    assert (subscription.status, subscription.customer, subscription.metadata.to_dict()) == ("active", customer.id, {"plan": "team"})
    assert sorted((i.price.id, i.quantity) for i in subscription["items"].data) == sorted(
        [(seats.id, 2), (tokens.id, None)]
    )
    card = stripe_client.v1.payment_methods.retrieve(subscription.default_payment_method)
    assert (card.customer, card.card.last4, card.billing_details.email) == (customer.id, "4242", "jenny@example.com")
    invoice = stripe_client.v1.invoices.retrieve(done.invoice)
    assert (invoice.id, invoice.status, invoice.amount_paid) == (subscription.latest_invoice, "paid", 3000)
    assert (done.amount_total, done.amount_subtotal) == (3000, 3000)

    events = [e for e in reversed(stripe_client.v1.events.list({"limit": 100}).data) if e.id not in before]
    types = [e.type for e in events]
    assert types == [
        "customer.created", "payment_method.attached", "customer.updated",  # the customer's currency
        "customer.subscription.created", "invoice.created", "invoice.finalized",
        "payment_intent.created", "payment_intent.succeeded", "charge.succeeded",
        "invoice.paid", "invoice.payment_succeeded", "invoice_payment.paid",
        "checkout.session.completed",
    ]
    assert events[-1].data.object.subscription == subscription.id

    again = complete(raw, session.id, payment_method="pm_card_visa")
    assert (again.status, again.error["message"]) == (400, "This Checkout Session is no longer active.")


def test_a_declined_card_leaves_the_session_open_and_makes_nothing(stripe_client, catalog, raw) -> None:
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "subscription", "line_items": [{"price": catalog.licensed_price().id, "quantity": 1}],
         "customer_email": "jenny@example.com"}
    )
    before = [e.id for e in stripe_client.v1.events.list({"limit": 100}).data]
    reply = complete(raw, session.id, card_number="4000 0000 0000 0002")
    assert reply.status == 402
    assert (reply.error["type"], reply.error["code"], reply.error["decline_code"], reply.error["message"]) == (
        "card_error", "card_declined", "generic_decline", "Your card was declined.",
    )
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert [e.id for e in stripe_client.v1.events.list({"limit": 100}).data] == before
    assert stripe_client.v1.customers.list().data == []
    assert stripe_client.v1.subscriptions.list({"status": "all"}).data == []
    assert stripe_client.v1.payment_methods.list().data == []


def test_paying_a_payment_session_charges_the_customer(stripe_client, catalog, raw) -> None:
    shirt = one_time_price(stripe_client)
    customer = catalog.customer(email="jenny@example.com")
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 2}], "customer": customer.id}
    )
    assert complete(raw, session.id, card_number="5555555555554444").status == 200
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.customer, done.subscription) == ("complete", "paid", customer.id, None)
    intent = stripe_client.v1.payment_intents.retrieve(done.payment_intent)
    assert (intent.status, intent.amount, intent.currency, intent.customer) == ("succeeded", 5000, "usd", customer.id)
    card = stripe_client.v1.payment_methods.retrieve(intent.payment_method)
    assert (card.card.brand, card.customer) == ("mastercard", customer.id)
    assert [s.id for s in stripe_client.v1.checkout.sessions.list({"payment_intent": intent.id}).data] == [session.id]


def test_a_guest_payment_makes_no_customer(stripe_client, raw) -> None:
    shirt = one_time_price(stripe_client)
    session = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 1}]})
    assert session.customer_creation == "if_required"
    assert complete(raw, session.id, payment_method="pm_card_visa", email="guest@example.com").status == 200
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.customer, done.customer_details.email) == (None, "guest@example.com")
    assert stripe_client.v1.payment_intents.retrieve(done.payment_intent).status == "succeeded"
    assert stripe_client.v1.customers.list().data == []


def test_complete_needs_a_known_test_card(stripe_client, raw) -> None:
    shirt = one_time_price(stripe_client)
    session = stripe_client.v1.checkout.sessions.create({"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 1}]})
    missing = complete(raw, session.id)
    assert (missing.status, missing.error["param"]) == (400, "payment_method")
    unknown = complete(raw, session.id, payment_method="pm_card_nonsense")
    assert unknown.error["message"] == "No such test card: 'pm_card_nonsense'. Use a pm_card_* id such as pm_card_visa."
    wrong = complete(raw, session.id, card_number="4242424242424241")
    assert (wrong.status, wrong.error["code"]) == (402, "incorrect_number")


def test_a_setup_session_saves_a_card_for_later(stripe_client, raw) -> None:
    customer = stripe_client.v1.customers.create({"email": "jenny@example.com"})
    session = stripe_client.v1.checkout.sessions.create({"mode": "setup", "currency": "usd", "customer": customer.id})
    assert (session.payment_status, session.amount_total, session.total_details) == ("no_payment_required", None, None)
    assert stripe_client.v1.checkout.sessions.line_items.list(session.id).data == []
    declined = complete(raw, session.id, payment_method="pm_card_chargeDeclinedExpiredCard")
    assert (declined.status, declined.error["code"]) == (402, "expired_card")
    assert complete(raw, session.id, payment_method="pm_card_amex").status == 200
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.payment_intent, done.subscription) == (
        "complete", "no_payment_required", None, None,
    )
    assert [m.card.brand for m in stripe_client.v1.payment_methods.list({"customer": customer.id}).data] == ["amex"]


def test_a_customer_billing_in_another_currency_keeps_its_cards(stripe_client, catalog, raw) -> None:
    customer = stripe_client.v1.customers.create({"email": "jenny@example.com"})
    euros = catalog.licensed_price(currency="eur")
    stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": euros.id, "quantity": 1}], "collection_method": "send_invoice",
         "days_until_due": 30}
    )
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "subscription", "customer": customer.id, "line_items": [{"price": catalog.licensed_price().id, "quantity": 1}]}
    )
    refused = complete(raw, session.id, payment_method="pm_card_visa")
    assert refused.status == 400 and "combine currencies" in refused.error["message"]
    assert stripe_client.v1.payment_methods.list({"customer": customer.id}).data == []
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_customer_creation_always_makes_a_customer_for_a_payment(stripe_client, raw) -> None:
    shirt = one_time_price(stripe_client)
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 1}], "customer_creation": "always"}
    )
    assert complete(raw, session.id, payment_method="pm_card_visa", email="new@example.com").status == 200
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    customer = stripe_client.v1.customers.retrieve(done.customer)
    assert customer.email == "new@example.com"
    assert stripe_client.v1.payment_intents.retrieve(done.payment_intent).customer == customer.id
