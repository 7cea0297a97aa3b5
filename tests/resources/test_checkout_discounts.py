"""Discounts in Checkout: `discounts[]` on a session, and promotion codes the customer types where
`allow_promotion_codes` lets them (the hosted page and `/_mock/checkout/sessions/{id}/complete`)."""

from __future__ import annotations

from typing import Any

import stripe

SUCCESS = "http://127.0.0.1:4242/success?session_id={CHECKOUT_SESSION_ID}"


def complete(raw: Any, session_id: str, **form: str) -> Any:
    return raw.post(f"/_mock/checkout/sessions/{session_id}/complete", form)


def promotion(client: stripe.StripeClient, code: str, **coupon: Any) -> stripe.PromotionCode:
    made = client.v1.coupons.create(coupon)
    return client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": made.id}, "code": code})


def test_a_subscription_session_paid_with_a_promotion_code(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    code = promotion(stripe_client, "WELCOME25", percent_off=25, duration="forever")
    seats = catalog.licensed_price(unit_amount=1500)
    session = stripe_client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": seats.id, "quantity": 2}],
            "customer_email": "jenny@example.com",
            "allow_promotion_codes": True,
            "success_url": SUCCESS,
        }
    )
    assert (session.allow_promotion_codes, session.discounts, session.total_details.amount_discount) == (True, [], 0)
    # Codes are matched without regard to case.
    reply = complete(raw, session.id, payment_method="pm_card_visa", promotion_code="welcome25")
    assert reply.status == 200, reply.body
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    # 25 % off 2 × 15.00.
    assert (done.amount_subtotal, done.total_details.amount_discount, done.amount_total) == (3000, 750, 2250)
    assert [d.to_dict() for d in done.discounts] == [{"coupon": code.promotion.coupon, "promotion_code": code.id}]
    [item] = stripe_client.v1.checkout.sessions.line_items.list(session.id).data
    assert (item.amount_subtotal, item.amount_discount, item.amount_total) == (3000, 750, 2250)
    subscription = stripe_client.v1.subscriptions.retrieve(done.subscription, {"expand": ["discounts", "latest_invoice"]})
    [discount] = subscription.discounts
    assert (discount.promotion_code, discount.subscription, discount.checkout_session) == (code.id, subscription.id, None)
    assert (subscription.latest_invoice.total, subscription.latest_invoice.amount_paid) == (2250, 2250)
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1


def test_a_payment_session_created_with_a_coupon(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 300, "currency": "usd"})
    shirt = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 2500, "product_data": {"name": "T-shirt"}})
    customer = catalog.customer(email="jenny@example.com")
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [{"price": shirt.id, "quantity": 2}], "customer": customer.id,
         "discounts": [{"coupon": coupon.id}]}
    )
    assert (session.amount_subtotal, session.total_details.amount_discount, session.amount_total) == (5000, 300, 4700)
    assert [d.to_dict() for d in session.discounts] == [{"coupon": coupon.id, "promotion_code": None}]
    # Nothing is redeemed until the session is paid.
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 0
    assert complete(raw, session.id, payment_method="pm_card_visa").status == 200
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    intent = stripe_client.v1.payment_intents.retrieve(done.payment_intent)
    assert (intent.amount, intent.status) == (4700, "succeeded")
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_an_invalid_code_is_refused_and_nothing_is_made(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    other = catalog.customer()
    restricted = stripe_client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": stripe_client.v1.coupons.create({"percent_off": 10}).id},
         "code": "FRIENDS", "customer": other.id}
    )
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "subscription", "line_items": [{"price": catalog.licensed_price().id, "quantity": 1}],
         "customer_email": "jenny@example.com", "allow_promotion_codes": True}
    )
    before = [e.id for e in stripe_client.v1.events.list({"limit": 100}).data]
    unknown = complete(raw, session.id, payment_method="pm_card_visa", promotion_code="NOPE")
    assert (unknown.status, unknown.error["message"], unknown.error["param"]) == (400, "This code is invalid.", "promotion_code")
    theirs = complete(raw, session.id, payment_method="pm_card_visa", promotion_code="FRIENDS")
    assert (theirs.status, theirs.error["message"]) == (
        400, "This promotion code cannot be redeemed because it is restricted to a different customer.",
    )
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert [e.id for e in stripe_client.v1.events.list({"limit": 100}).data] == before
    assert stripe_client.v1.subscriptions.list({"status": "all"}).data == []
    assert stripe_client.v1.promotion_codes.retrieve(restricted.id).times_redeemed == 0


def test_a_code_where_the_session_takes_none_is_refused(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    promotion(stripe_client, "SAVE", percent_off=10)
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "subscription", "line_items": [{"price": catalog.licensed_price().id, "quantity": 1}],
         "customer_email": "jenny@example.com"}
    )
    reply = complete(raw, session.id, payment_method="pm_card_visa", promotion_code="SAVE")
    assert (reply.status, reply.error["message"]) == (400, "This Checkout Session does not accept promotion codes.")


def test_discounts_and_allow_promotion_codes_exclude_each_other(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 10})
    body = (
        f"mode=subscription&line_items[0][price]={catalog.licensed_price().id}&line_items[0][quantity]=1"
        f"&allow_promotion_codes=true&discounts[0][coupon]={coupon.id}"
    )
    reply = raw.post("/v1/checkout/sessions", body)
    assert (reply.status, reply.error["param"]) == (400, "allow_promotion_codes")
    assert reply.error["message"] == "You may only specify one of these parameters: allow_promotion_codes, discounts."


def test_the_hosted_page_takes_a_promotion_code(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    promotion(stripe_client, "HALF", percent_off=50)
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "subscription", "line_items": [{"price": catalog.licensed_price(2000).id, "quantity": 1}],
         "customer_email": "jenny@example.com", "allow_promotion_codes": True}
    )
    path = f"/c/pay/{session.id}"
    page = raw.get(path)
    assert "name=promotion_code" in page.body and "Promotion code" in page.body
    refused = raw.post(path, {"email": "jenny@example.com", "payment_method": "pm_card_visa", "promotion_code": "HALFX"})
    assert refused.status == 400 and "This code is invalid." in refused.body and 'value="HALFX"' in refused.body
    applied = raw.post(path, {"promotion_code": "HALF", "apply": "1"})
    assert applied.status == 200 and 'id=discount>−10.00 USD' in applied.body, applied.body
    shown = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (shown.status, shown.total_details.amount_discount, shown.amount_total) == ("open", 1000, 1000)
    # Paid with the field left empty: the applied code stays.
    paid = raw.post(path, {"email": "jenny@example.com", "payment_method": "pm_card_visa", "promotion_code": ""})
    assert paid.status == 200, paid.body
    assert "Thanks for your order" in paid.body
    done = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.amount_total) == ("complete", 1000)


def test_a_session_s_discounts_are_checked_when_it_is_created(stripe_client: stripe.StripeClient, catalog: Any, raw: Any) -> None:
    code = promotion(stripe_client, "BIGSPEND", percent_off=10)
    stripe_client.v1.promotion_codes.update(code.id, {"active": False})
    shirt = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 2500, "product_data": {"name": "T-shirt"}})
    inactive = raw.post(
        "/v1/checkout/sessions",
        f"mode=payment&line_items[0][price]={shirt.id}&line_items[0][quantity]=1&discounts[0][promotion_code]={code.id}",
    )
    assert (inactive.status, inactive.error["param"], inactive.error["message"]) == (
        400, "discounts[0][promotion_code]", "This promotion code cannot be redeemed because it is inactive.",
    )
    coupon = stripe_client.v1.coupons.create({"percent_off": 10})
    setup = raw.post("/v1/checkout/sessions", f"mode=setup&currency=usd&discounts[0][coupon]={coupon.id}")
    assert (setup.status, setup.error["message"]) == (400, "You cannot pass `discounts` in `setup` mode.")
    two = raw.post(
        "/v1/checkout/sessions",
        f"mode=payment&line_items[0][price]={shirt.id}&line_items[0][quantity]=1"
        f"&discounts[0][coupon]={coupon.id}&discounts[1][coupon]={coupon.id}",
    )
    assert (two.status, two.error["param"]) == (400, "discounts")
    assert stripe_client.v1.checkout.sessions.list().data == []
