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
