"""`/v1/refunds`: full and partial refunds of a charge, named directly or by its PaymentIntent."""

from __future__ import annotations

import re

import pytest
import stripe

from conformance.shapes import MAY_BE_ABSENT


def _paid(client: stripe.StripeClient, amount: int = 1000) -> stripe.PaymentIntent:
    customer = client.v1.customers.create()
    return client.v1.payment_intents.create(
        {"amount": amount, "currency": "usd", "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )


def test_a_full_refund_of_a_charge(stripe_client, sdk_fields, events) -> None:
    intent = _paid(stripe_client)
    events.new()

    refund = stripe_client.v1.refunds.create({"charge": intent.latest_charge, "reason": "requested_by_customer"})

    assert set(refund.to_dict()) == sdk_fields(stripe.Refund) - MAY_BE_ABSENT.get("refund", set())
    assert re.fullmatch(r"re_3\w{23}", refund.id)
    assert (refund.amount, refund.currency, refund.status, refund.reason) == (1000, "usd", "succeeded", "requested_by_customer")
    assert (refund.charge, refund.payment_intent, refund.customer) == (intent.latest_charge, intent.id, intent.customer)
    assert refund.balance_transaction.startswith("txn_")
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    assert events.new() == ["refund.created", "charge.refunded"]


def test_partial_refunds_through_the_intent_add_up(stripe_client) -> None:
    intent = _paid(stripe_client)

    first = stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 300})
    second = stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 200})

    charge = stripe_client.v1.charges.retrieve(intent.latest_charge, {"expand": ["refunds"]})
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert [r.id for r in charge.refunds.data] == [second.id, first.id]
    assert charge.refunds.url == f"/v1/charges/{charge.id}/refunds"
    assert [r.id for r in stripe_client.v1.refunds.list({"payment_intent": intent.id}).data] == [second.id, first.id]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"charge": charge.id, "amount": 600})

    assert (raised.value.http_status, raised.value.param) == (400, "amount")
    assert raised.value.user_message == "Refund amount ($6.00) is greater than unrefunded amount on charge ($5.00)"
    assert stripe_client.v1.charges.retrieve(charge.id).amount_refunded == 500

    rest = stripe_client.v1.refunds.create({"charge": charge.id})
    assert rest.amount == 500
    assert stripe_client.v1.charges.retrieve(charge.id).refunded is True


def test_refunding_a_refunded_charge_is_refused(stripe_client) -> None:
    intent = _paid(stripe_client)
    stripe_client.v1.refunds.create({"charge": intent.latest_charge})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"charge": intent.latest_charge})

    assert (raised.value.code, raised.value.user_message) == (
        "charge_already_refunded",
        f"Charge {intent.latest_charge} has already been refunded.",
    )


def test_an_intent_without_a_successful_charge_has_nothing_to_refund(stripe_client) -> None:
    intent = stripe_client.v1.payment_intents.create({"amount": 1000, "currency": "usd"})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"payment_intent": intent.id})

    assert raised.value.param == "payment_intent"
    assert stripe_client.v1.refunds.list().data == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "One of the following params should be provided for this request: payment_intent or charge."),
        ({"charge": "ch_missing"}, "No such charge: 'ch_missing'"),
        ({"payment_intent": "pi_missing"}, "No such payment_intent: 'pi_missing'"),
        ({"charge": "ch_x", "payment_intent": "pi_x"}, "You may only specify one of these parameters: charge, payment_intent."),
    ],
)
def test_bad_input(stripe_client, params, message) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create(params)

    assert raised.value.user_message == message


def test_retrieve_and_update_metadata(stripe_client) -> None:
    refund = stripe_client.v1.refunds.create({"charge": _paid(stripe_client).latest_charge, "metadata": {"a": "1"}})

    updated = stripe_client.v1.refunds.update(refund.id, {"metadata": {"b": "2"}})

    assert updated.metadata.to_dict() == {"a": "1", "b": "2"}
    assert stripe_client.v1.refunds.retrieve(refund.id).metadata.to_dict() == {"a": "1", "b": "2"}
