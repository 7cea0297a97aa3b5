"""`/v1/payment_methods`: test cards by token, number and `pm_card_*` id; attach, detach, list."""

from __future__ import annotations

import pytest
import stripe

from conformance.shapes import MAY_BE_ABSENT

DECLINES = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "Your card has expired."),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    (
        "pm_card_chargeDeclinedProcessingError",
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
]


def _card(client: stripe.StripeClient, token: str = "tok_visa", **params) -> stripe.PaymentMethod:
    return client.v1.payment_methods.create({"type": "card", "card": {"token": token}, **params})


def test_create_from_a_token(stripe_client, sdk_fields) -> None:
    payment_method = _card(
        stripe_client, billing_details={"name": "Jenny Rosen", "email": "jenny@example.com"}, metadata={"k": "v"}
    )

    assert set(payment_method.to_dict()) == sdk_fields(stripe.PaymentMethod) - MAY_BE_ABSENT["payment_method"]
    assert payment_method.id.startswith("pm_1") and len(payment_method.id) == 27
    assert (payment_method.type, payment_method.customer, payment_method.livemode) == ("card", None, False)
    assert (payment_method.allow_redisplay, payment_method.metadata.to_dict()) == ("unspecified", {"k": "v"})
    card = payment_method.card
    assert (card.brand, card.display_brand, card.last4, card.funding, card.country) == ("visa", "visa", "4242", "credit", "US")
    assert card.networks.to_dict() == {"available": ["visa"], "preferred": None}
    assert len(card.fingerprint) == 16
    assert payment_method.billing_details.name == "Jenny Rosen"
    assert payment_method.billing_details.address.to_dict() == dict.fromkeys(
        ("city", "country", "line1", "line2", "postal_code", "state")
    )


@pytest.mark.parametrize(
    "name, brand, last4, funding",
    [
        ("visa", "visa", "4242", "credit"),
        ("visa_debit", "visa", "5556", "debit"),
        ("mastercard", "mastercard", "4444", "credit"),
        ("amex", "amex", "0005", "credit"),
    ],
)
def test_test_cards_by_token_and_id_agree(stripe_client, name, brand, last4, funding) -> None:
    customer = stripe_client.v1.customers.create()
    by_token = _card(stripe_client, f"tok_{name}")
    by_id = stripe_client.v1.payment_methods.attach(f"pm_card_{name}", {"customer": customer.id})

    assert by_id.id.startswith("pm_1") and by_id.id != f"pm_card_{name}"
    for payment_method in (by_token, by_id):
        card = payment_method.card
        assert (card.brand, card.last4, card.funding) == (brand, last4, funding)
    assert by_token.card.fingerprint == by_id.card.fingerprint


def test_each_use_of_a_test_id_makes_a_new_payment_method(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()
    first = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    second = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})

    assert first.id != second.id
    assert first.card.fingerprint == second.card.fingerprint


def test_amex_displays_as_american_express(stripe_client) -> None:
    card = _card(stripe_client, "tok_amex").card

    assert (card.brand, card.display_brand, card.networks.available) == ("amex", "american_express", ["amex"])


def test_fingerprints_differ_between_accounts(stripe_client, mockstripe_url) -> None:
    other = stripe.StripeClient("sk_test_another_account", base_addresses={"api": mockstripe_url})

    assert _card(stripe_client).card.fingerprint != _card(other).card.fingerprint


def test_create_from_a_raw_number(stripe_client) -> None:
    payment_method = stripe_client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4000000000000002", "exp_month": 12, "exp_year": 2099, "cvc": "123"}}
    )

    assert (payment_method.card.last4, payment_method.card.exp_month, payment_method.card.exp_year) == ("0002", 12, 2099)


def test_a_number_failing_the_luhn_check_is_a_card_error(stripe_client) -> None:
    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.payment_methods.create(
            {"type": "card", "card": {"number": "4242424242424241", "exp_month": 12, "exp_year": 2099}}
        )

    assert (raised.value.http_status, raised.value.code) == (402, "incorrect_number")
    assert raised.value.user_message == "Your card number is incorrect."


def test_an_expired_date_is_a_card_error(stripe_client) -> None:
    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.payment_methods.create(
            {"type": "card", "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2001}}
        )

    assert (raised.value.code, raised.value.param) == ("invalid_expiry_year", "exp_year")


@pytest.mark.parametrize(
    "params, message, param",
    [
        ({"card": {"token": "tok_visa"}}, "Missing required param: type.", "type"),
        ({"type": "card"}, "Missing required param: card.", "card"),
        ({"type": "card", "card": {"number": "4242424242424242"}}, "Missing required param: card[exp_month].", "card[exp_month]"),
        ({"type": "card", "card": {"token": "tok_nope"}}, "No such token: 'tok_nope'", "card[token]"),
        (
            {"type": "card", "card": {"token": "tok_visa", "number": "4242424242424242"}},
            "You may only specify one of these parameters: token, number.",
            "card[token]",
        ),
    ],
)
def test_create_refuses_bad_input(stripe_client, params, message, param) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.create(params)

    assert (raised.value.http_status, raised.value.user_message, raised.value.param) == (400, message, param)


def test_other_types_are_refused_clearly(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.create({"type": "sepa_debit"})

    assert raised.value.param == "type"
    assert "only `card` payment methods" in raised.value.user_message


def test_attach_detach_and_list(stripe_client, events) -> None:
    customer = stripe_client.v1.customers.create()
    events.new()
    visa = stripe_client.v1.payment_methods.attach(_card(stripe_client).id, {"customer": customer.id})
    amex = stripe_client.v1.payment_methods.attach(_card(stripe_client, "tok_amex").id, {"customer": customer.id})
    _card(stripe_client, "tok_mastercard")  # not attached

    assert visa.customer == customer.id
    listed = stripe_client.v1.customers.payment_methods.list(customer.id)
    assert [pm.id for pm in listed.data] == [amex.id, visa.id]
    assert listed.url == f"/v1/customers/{customer.id}/payment_methods"
    assert [pm.id for pm in stripe_client.v1.payment_methods.list({"customer": customer.id}).data] == [amex.id, visa.id]
    assert stripe_client.v1.customers.payment_methods.retrieve(customer.id, visa.id).id == visa.id

    detached = stripe_client.v1.payment_methods.detach(visa.id)

    assert detached.customer is None
    assert [pm.id for pm in stripe_client.v1.customers.payment_methods.list(customer.id).data] == [amex.id]
    assert events.new() == ["payment_method.attached", "payment_method.attached", "payment_method.detached"]


def test_attaching_to_another_customer_is_refused(stripe_client) -> None:
    alice, bob = stripe_client.v1.customers.create(), stripe_client.v1.customers.create()
    payment_method = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": alice.id})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.attach(payment_method.id, {"customer": bob.id})

    assert raised.value.user_message == "The payment method you provided has already been attached to a customer."
    assert stripe_client.v1.payment_methods.retrieve(payment_method.id).customer == alice.id


def test_detaching_an_unattached_payment_method_is_refused(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.detach(_card(stripe_client).id)

    assert raised.value.user_message == (
        "The payment method you provided is not attached to a customer so detachment is impossible."
    )


@pytest.mark.parametrize("test_id, code, decline_code, message", DECLINES)
def test_attaching_a_declining_card_is_a_402(stripe_client, events, test_id, code, decline_code, message) -> None:
    customer = stripe_client.v1.customers.create()
    events.new()

    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.payment_methods.attach(test_id, {"customer": customer.id})

    error = raised.value
    assert (error.http_status, error.code, error.user_message) == (402, code, message)
    assert error.error.decline_code == decline_code
    assert error.error.type == "card_error"
    assert error.error.payment_method.customer is None
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data == []
    assert events.new() == []


def test_the_renewal_failure_card_attaches(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()

    attached = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": customer.id})

    assert (attached.customer, attached.card.last4) == (customer.id, "0341")


def test_update_needs_a_customer_then_changes_expiry_and_metadata(stripe_client, events) -> None:
    payment_method = _card(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.update(payment_method.id, {"metadata": {"a": "b"}})
    assert raised.value.user_message == "You must save this PaymentMethod to a customer before you can update it."

    customer = stripe_client.v1.customers.create()
    stripe_client.v1.payment_methods.attach(payment_method.id, {"customer": customer.id})
    events.new()
    updated = stripe_client.v1.payment_methods.update(
        payment_method.id, {"card": {"exp_month": 3, "exp_year": 2091}, "metadata": {"a": "b"}}
    )

    assert (updated.card.exp_month, updated.card.exp_year, updated.metadata.to_dict()) == (3, 2091, {"a": "b"})
    [event] = events.new_events()
    assert event.type == "payment_method.updated"
    assert event.data.previous_attributes.to_dict() == {
        "card": {"exp_month": payment_method.card.exp_month, "exp_year": payment_method.card.exp_year},
        "metadata": {"a": None},
    }


def test_unknown_ids(stripe_client, raw) -> None:
    reply = raw.get("/v1/payment_methods/pm_missing")
    assert reply.status == 404
    assert (reply.error["code"], reply.error["message"], reply.error["param"]) == (
        "resource_missing",
        "No such PaymentMethod: 'pm_missing'",
        "payment_method",
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_methods.attach(_card(stripe_client).id, {"customer": "cus_missing"})
    assert (raised.value.user_message, raised.value.param) == ("No such customer: 'cus_missing'", "customer")


def test_a_customer_saves_a_card_as_its_default_on_creation(stripe_client, events) -> None:
    customer = stripe_client.v1.customers.create(
        {"payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )

    default = customer.invoice_settings.default_payment_method
    assert default.startswith("pm_1")
    assert [pm.id for pm in stripe_client.v1.customers.payment_methods.list(customer.id).data] == [default]
    assert events.new() == ["customer.created", "payment_method.attached"]


def test_a_customer_cannot_be_created_with_a_declining_card(stripe_client) -> None:
    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.customers.create({"payment_method": "pm_card_chargeDeclined"})

    assert raised.value.code == "card_declined"
    assert stripe_client.v1.customers.list().data == []


def test_a_default_payment_method_must_be_the_customers(stripe_client, events) -> None:
    customer = stripe_client.v1.customers.create()
    stranger = _card(stripe_client)

    for given in (stranger.id, "pm_card_visa"):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            stripe_client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": given}})
        assert raised.value.param == "invoice_settings[default_payment_method]"
        assert raised.value.user_message == (
            f"The customer does not have a payment method with the ID {given}. The payment method must be "
            "attached to the customer."
        )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": "pm_nope"}})
    assert raised.value.user_message == "No such PaymentMethod: 'pm_nope'"

    stripe_client.v1.payment_methods.attach(stranger.id, {"customer": customer.id})
    events.new()
    updated = stripe_client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": stranger.id}})
    assert updated.invoice_settings.default_payment_method == stranger.id

    stripe_client.v1.payment_methods.detach(stranger.id)

    assert stripe_client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None
    assert events.new() == ["customer.updated", "customer.updated", "payment_method.detached"]
