"""`/v1/payment_intents` and `/v1/charges`: confirming charges the card; declines, 3-D Secure, manual capture."""

from __future__ import annotations

import re

import pytest
import stripe

from conformance.shapes import EXPAND_ONLY

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
    ("pm_card_chargeCustomerFail", "card_declined", "generic_decline", "Your card was declined."),
]


def _intent(client: stripe.StripeClient, amount: int = 2000, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create({"amount": amount, "currency": "usd", **params})


def test_a_new_intent_waits_for_a_payment_method(stripe_client, sdk_fields, events) -> None:
    intent = _intent(stripe_client, description="Order 42", metadata={"order": "42"})

    assert set(intent.to_dict()) == sdk_fields(stripe.PaymentIntent)
    assert re.fullmatch(r"pi_3\w{23}", intent.id)
    assert re.fullmatch(rf"{intent.id}_secret_\w{{25}}", intent.client_secret)
    assert (intent.status, intent.amount, intent.currency, intent.amount_received) == ("requires_payment_method", 2000, "usd", 0)
    assert (intent.capture_method, intent.confirmation_method) == ("automatic_async", "automatic")
    assert intent.automatic_payment_methods.to_dict() == {"allow_redirects": "always", "enabled": True}
    assert (intent.latest_charge, intent.payment_method, intent.last_payment_error) == (None, None, None)
    assert (intent.description, intent.metadata.to_dict()) == ("Order 42", {"order": "42"})
    assert events.new() == ["payment_intent.created"]


def test_confirming_with_a_good_card_succeeds(stripe_client, sdk_fields, events) -> None:
    customer = stripe_client.v1.customers.create()
    intent = _intent(stripe_client, customer=customer.id)
    events.new()

    confirmed = stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    assert (confirmed.status, confirmed.amount_received, confirmed.amount_capturable) == ("succeeded", 2000, 0)
    assert confirmed.payment_method.startswith("pm_1")
    charge = stripe_client.v1.charges.retrieve(confirmed.latest_charge)
    assert set(charge.to_dict()) == sdk_fields(stripe.Charge) - EXPAND_ONLY["charge"]
    assert re.fullmatch(r"ch_3\w{23}", charge.id)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded, charge.currency) == (2000, 2000, 0, "usd")
    assert (charge.paid, charge.captured, charge.status, charge.refunded) == (True, True, "succeeded", False)
    assert (charge.customer, charge.payment_intent, charge.payment_method) == (customer.id, intent.id, confirmed.payment_method)
    assert charge.balance_transaction.startswith("txn_")
    assert (charge.outcome.type, charge.outcome.network_status, charge.outcome.seller_message) == (
        "authorized",
        "approved_by_network",
        "Payment complete.",
    )
    card = charge.payment_method_details.card
    assert (charge.payment_method_details.type, card.brand, card.last4, card.network) == ("card", "visa", "4242", "visa")
    assert events.new() == ["payment_intent.succeeded", "charge.succeeded"]


def test_create_and_confirm_in_one_call(stripe_client, events) -> None:
    intent = _intent(stripe_client, amount=1099, payment_method="pm_card_mastercard", confirm=True)

    assert (intent.status, intent.amount_received) == ("succeeded", 1099)
    assert stripe_client.v1.charges.retrieve(intent.latest_charge).payment_method_details.card.brand == "mastercard"
    assert events.new() == ["payment_intent.created", "payment_intent.succeeded", "charge.succeeded"]


def test_a_payment_method_makes_it_wait_for_confirmation(stripe_client) -> None:
    intent = _intent(stripe_client, payment_method="pm_card_visa")

    assert intent.status == "requires_confirmation"
    assert stripe_client.v1.payment_intents.confirm(intent.id).status == "succeeded"


@pytest.mark.parametrize("test_id, code, decline_code, message", DECLINES)
def test_a_declined_card_is_a_402_carrying_the_intent(stripe_client, events, test_id, code, decline_code, message) -> None:
    customer = stripe_client.v1.customers.create()
    intent = _intent(stripe_client, customer=customer.id)
    events.new()

    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": test_id})

    error = raised.value
    assert (error.http_status, error.code, error.user_message) == (402, code, message)
    assert (error.error.type, error.error.decline_code) == ("card_error", decline_code)
    assert error.error.payment_intent.id == intent.id
    assert error.error.payment_intent.status == "requires_payment_method"
    failed = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert error.error.charge == failed.latest_charge
    assert (failed.status, failed.payment_method, failed.amount_received) == ("requires_payment_method", None, 0)
    assert (failed.last_payment_error.code, failed.last_payment_error.decline_code) == (code, decline_code)
    assert failed.last_payment_error.message == message
    assert failed.last_payment_error.payment_method.id == error.error.payment_method.id
    charge = stripe_client.v1.charges.retrieve(failed.latest_charge)
    assert (charge.status, charge.paid, charge.captured, charge.balance_transaction) == ("failed", False, False, None)
    assert (charge.failure_code, charge.failure_message) == (code, message)
    assert (charge.outcome.type, charge.outcome.reason) == ("issuer_declined", decline_code)
    assert events.new() == ["charge.failed", "payment_intent.payment_failed"]


def test_a_declined_intent_recovers_with_another_card(stripe_client, events) -> None:
    intent = _intent(stripe_client)
    with pytest.raises(stripe.CardError):
        stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_chargeDeclined"})
    events.new()

    recovered = stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    assert (recovered.status, recovered.last_payment_error) == ("succeeded", None)
    assert [c.status for c in stripe_client.v1.charges.list({"payment_intent": intent.id}).data] == ["succeeded", "failed"]
    assert events.new() == ["payment_intent.succeeded", "charge.succeeded"]


def test_the_renewal_failure_card_declines_off_session(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()
    card = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": customer.id})

    with pytest.raises(stripe.CardError) as raised:
        _intent(stripe_client, customer=customer.id, payment_method=card.id, confirm=True, off_session=True)

    assert (raised.value.code, raised.value.error.decline_code) == ("card_declined", "generic_decline")


def test_authentication_required_on_session_waits_for_action(stripe_client, events) -> None:
    intent = _intent(stripe_client)
    events.new()

    waiting = stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_authenticationRequired"})

    assert (waiting.status, waiting.next_action.type, waiting.latest_charge) == ("requires_action", "use_stripe_sdk", None)
    assert events.new() == ["payment_intent.requires_action"]
    # Confirming again stands for the customer completing 3-D Secure.
    done = stripe_client.v1.payment_intents.confirm(intent.id)
    assert (done.status, done.next_action) == ("succeeded", None)
    assert events.new() == ["payment_intent.succeeded", "charge.succeeded"]


def test_authentication_required_off_session_declines(stripe_client) -> None:
    with pytest.raises(stripe.CardError) as raised:
        _intent(stripe_client, payment_method="pm_card_authenticationRequired", confirm=True, off_session=True)

    error = raised.value
    assert (error.code, error.error.decline_code) == ("authentication_required", "authentication_required")
    assert error.user_message == "Your card was declined. This transaction requires authentication."
    assert error.error.payment_intent.status == "requires_payment_method"


def test_manual_capture_in_part(stripe_client, events) -> None:
    intent = _intent(stripe_client, amount=1000, capture_method="manual", payment_method="pm_card_visa", confirm=True)

    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 1000, 0)
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == ("succeeded", True, False, 0)
    events.new()

    captured = stripe_client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 600})

    assert (captured.status, captured.amount_capturable, captured.amount_received) == ("succeeded", 0, 600)
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.captured, charge.amount_captured, charge.amount_refunded, charge.refunded) == (True, 600, 400, False)
    assert events.new() == ["charge.captured", "payment_intent.succeeded"]


def test_capturing_more_than_authorized_or_twice_is_refused(stripe_client) -> None:
    intent = _intent(stripe_client, amount=1000, capture_method="manual", payment_method="pm_card_visa", confirm=True)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 1001})
    assert (raised.value.code, raised.value.param) == ("amount_too_large", "amount_to_capture")

    stripe_client.v1.payment_intents.capture(intent.id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_intents.capture(intent.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message == (
        "You cannot capture this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one "
        "of the following statuses may be captured: requires_capture."
    )


def test_cancel(stripe_client, events) -> None:
    intent = _intent(stripe_client)
    events.new()

    canceled = stripe_client.v1.payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"})

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    assert events.new() == ["payment_intent.canceled"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message.startswith("You cannot confirm this PaymentIntent because it has a status of canceled.")
    assert stripe_client.v1.payment_intents.retrieve(intent.id).latest_charge is None


def test_canceling_an_authorization_releases_it(stripe_client, events) -> None:
    intent = _intent(stripe_client, amount=1000, capture_method="manual", payment_method="pm_card_visa", confirm=True)
    events.new()

    stripe_client.v1.payment_intents.cancel(intent.id)

    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.refunded, charge.amount_refunded, charge.captured) == (True, 1000, False)
    assert events.new() == ["charge.refunded", "payment_intent.canceled"]


def test_a_succeeded_intent_cannot_be_canceled_confirmed_or_updated(stripe_client) -> None:
    intent = _intent(stripe_client, payment_method="pm_card_visa", confirm=True)

    with pytest.raises(stripe.InvalidRequestError) as canceled:
        stripe_client.v1.payment_intents.cancel(intent.id)
    with pytest.raises(stripe.InvalidRequestError) as confirmed:
        stripe_client.v1.payment_intents.confirm(intent.id)
    with pytest.raises(stripe.InvalidRequestError) as updated:
        stripe_client.v1.payment_intents.update(intent.id, {"amount": 10_000})

    assert canceled.value.user_message.startswith("You cannot cancel this PaymentIntent because it has a status of succeeded.")
    assert confirmed.value.user_message == (
        "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed."
    )
    assert updated.value.user_message.startswith("You cannot update this PaymentIntent because it has a status of succeeded.")
    assert {e.value.code for e in (canceled, confirmed, updated)} == {"payment_intent_unexpected_state"}
    assert stripe_client.v1.payment_intents.retrieve(intent.id).amount == 2000


def test_confirming_without_a_payment_method_is_refused(stripe_client) -> None:
    intent = _intent(stripe_client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.payment_intents.confirm(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert "missing a payment method" in raised.value.user_message


def test_an_amount_under_the_minimum_is_refused(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _intent(stripe_client, amount=49)

    assert (raised.value.code, raised.value.param, raised.value.user_message) == (
        "amount_too_small",
        "amount",
        "Amount must be at least $0.50 usd",
    )


def test_update_before_confirmation(stripe_client, events) -> None:
    intent = _intent(stripe_client)
    events.new()

    updated = stripe_client.v1.payment_intents.update(
        intent.id, {"amount": 3000, "payment_method": "pm_card_visa", "metadata": {"a": "1"}}
    )

    assert (updated.amount, updated.status, updated.metadata.to_dict()) == (3000, "requires_confirmation", {"a": "1"})
    assert events.new() == []  # Stripe has no payment_intent.updated
    assert stripe_client.v1.payment_intents.confirm(intent.id).amount_received == 3000


def test_setup_future_usage_saves_the_card_to_the_customer(stripe_client) -> None:
    customer = stripe_client.v1.customers.create()

    intent = _intent(
        stripe_client, customer=customer.id, payment_method="pm_card_visa", confirm=True, setup_future_usage="off_session"
    )

    assert stripe_client.v1.payment_methods.retrieve(intent.payment_method).customer == customer.id


def test_list_and_expand(stripe_client) -> None:
    alice, bob = stripe_client.v1.customers.create(), stripe_client.v1.customers.create()
    first = _intent(stripe_client, customer=alice.id, payment_method="pm_card_visa", confirm=True)
    _intent(stripe_client, customer=bob.id)
    second = _intent(stripe_client, customer=alice.id)

    assert [i.id for i in stripe_client.v1.payment_intents.list({"customer": alice.id}).data] == [second.id, first.id]
    assert [c.payment_intent for c in stripe_client.v1.charges.list({"customer": alice.id}).data] == [first.id]
    expanded = stripe_client.v1.payment_intents.retrieve(first.id, {"expand": ["latest_charge", "payment_method"]})
    assert (expanded.latest_charge.object, expanded.payment_method.object) == ("charge", "payment_method")


def test_unknown_ids(stripe_client, raw) -> None:
    reply = raw.get("/v1/payment_intents/pi_missing")
    assert (reply.status, reply.error["message"]) == (404, "No such payment_intent: 'pi_missing'")
    reply = raw.get("/v1/charges/ch_missing")
    assert (reply.status, reply.error["message"]) == (404, "No such charge: 'ch_missing'")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _intent(stripe_client, payment_method="pm_missing")
    assert (raised.value.user_message, raised.value.param) == ("No such PaymentMethod: 'pm_missing'", "payment_method")
    assert stripe_client.v1.payment_intents.list().data == []


def test_the_card_error_body_on_the_wire(raw) -> None:
    reply = raw.post(
        "/v1/payment_intents",
        {"amount": "500", "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": "true"},
    )

    assert reply.status == 402
    error = reply.error
    assert {k: error[k] for k in ("type", "code", "decline_code", "message", "param")} == {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "param": None,
    }
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/card-declined"
    assert error["charge"].startswith("ch_")
    assert (error["payment_intent"]["object"], error["payment_method"]["object"]) == ("payment_intent", "payment_method")
