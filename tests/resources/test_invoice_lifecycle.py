"""A customer's own invoices: drafts of pending items, then finalize, pay, void, mark uncollectible, send."""

from __future__ import annotations

import pytest
import stripe


def _customer(client: stripe.StripeClient, card: str | None = "pm_card_visa") -> stripe.Customer:
    params = {"payment_method": card, "invoice_settings": {"default_payment_method": card}} if card else {}
    return client.v1.customers.create({"name": "Jenny Rosen", **params})


def _draft(client: stripe.StripeClient, customer: stripe.Customer, *amounts: int, **params) -> stripe.Invoice:
    for amount in amounts:
        client.v1.invoice_items.create({"customer": customer.id, "amount": amount, "currency": "usd"})
    return client.v1.invoices.create({"customer": customer.id, "pending_invoice_items_behavior": "include", **params})


def test_a_draft_takes_the_pending_items(stripe_client, events, sdk_fields) -> None:
    customer = _customer(stripe_client)
    first = stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 1500, "currency": "usd", "description": "Setup"})
    stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 500, "currency": "usd"})
    events.new()

    draft = stripe_client.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include", "description": "Onboarding", "metadata": {"k": "v"}}
    )

    assert set(draft.to_dict()) == sdk_fields(stripe.Invoice) - {"payments", "confirmation_secret"}
    assert (draft.status, draft.billing_reason, draft.parent, draft.auto_advance) == ("draft", "manual", None, False)
    assert (draft.subtotal, draft.total, draft.amount_due, draft.currency) == (2000, 2000, 2000, "usd")
    assert (draft.description, draft.metadata.to_dict(), draft.number) == ("Onboarding", {"k": "v"}, None)
    lines = draft.lines.data
    assert [(line.amount, line.description) for line in lines] == [(1500, "Setup"), (500, None)]
    assert lines[0].parent.type == "invoice_item_details"
    assert lines[0].parent.invoice_item_details.invoice_item == first.id
    assert stripe_client.v1.invoice_items.retrieve(first.id).invoice == draft.id
    assert stripe_client.v1.invoice_items.list({"customer": customer.id, "pending": True}).data == []
    assert events.new() == ["invoice.created"]


def test_pending_items_stay_pending_unless_included(stripe_client) -> None:
    customer = _customer(stripe_client)
    stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 700, "currency": "usd"})

    draft = stripe_client.v1.invoices.create({"customer": customer.id})

    assert (draft.lines.data, draft.total) == ([], 0)
    assert len(stripe_client.v1.invoice_items.list({"pending": True}).data) == 1


def test_finalize_then_pay_charges_the_default_card(stripe_client, events) -> None:
    customer = _customer(stripe_client)
    draft = _draft(stripe_client, customer, 2000)
    events.new()

    finalized = stripe_client.v1.invoices.finalize_invoice(draft.id)

    assert (finalized.status, finalized.number, finalized.amount_remaining) == ("open", f"{customer.invoice_prefix}-0001", 2000)
    assert finalized.attempt_count == 0
    assert events.new() == ["invoice.finalized", "payment_intent.created"]

    paid = stripe_client.v1.invoices.pay(draft.id)

    assert (paid.status, paid.amount_paid, paid.amount_remaining, paid.attempt_count) == ("paid", 2000, 0, 1)
    assert events.new() == [
        "payment_intent.succeeded", "charge.succeeded", "invoice.paid", "invoice.payment_succeeded", "invoice_payment.paid",
    ]


def test_paying_a_draft_finalizes_it_first(stripe_client) -> None:
    customer = _customer(stripe_client)

    paid = stripe_client.v1.invoices.pay(_draft(stripe_client, customer, 900).id)

    assert (paid.status, paid.amount_paid) == ("paid", 900)
    assert paid.status_transitions.finalized_at == paid.status_transitions.paid_at


def test_pay_with_a_given_card_and_out_of_band(stripe_client, events) -> None:
    customer = _customer(stripe_client, card=None)
    amex = stripe_client.v1.payment_methods.attach("pm_card_amex", {"customer": customer.id})
    by_card = stripe_client.v1.invoices.pay(_draft(stripe_client, customer, 1000).id, {"payment_method": amex.id})
    assert (by_card.status, by_card.amount_paid) == ("paid", 1000)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.pay(_draft(stripe_client, customer, 300).id)
    assert raised.value.user_message.startswith("This customer has no attached payment source or default payment method.")

    events.new()
    invoice = _draft(stripe_client, customer, 400)
    outside = stripe_client.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})

    assert (outside.status, outside.amount_paid, outside.amount_paid_off_stripe, outside.attempted) == ("paid", 0, 400, False)
    assert events.new() == ["invoiceitem.created", "invoice.created", "invoice.finalized", "invoice.paid"]


def test_paying_a_paid_or_void_invoice_is_refused(stripe_client) -> None:
    customer = _customer(stripe_client)
    paid = stripe_client.v1.invoices.pay(_draft(stripe_client, customer, 1000).id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.pay(paid.id)
    assert raised.value.user_message == "Invoice is already paid"

    voided = stripe_client.v1.invoices.void_invoice(stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, customer, 1000).id).id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.pay(voided.id)
    assert raised.value.user_message == "This invoice has been voided and cannot be paid."
    assert stripe_client.v1.charges.list({"customer": customer.id}).data[0].amount == 1000
    assert len(stripe_client.v1.charges.list({"customer": customer.id}).data) == 1


def test_finalizing_twice_is_refused(stripe_client) -> None:
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, _customer(stripe_client), 1000).id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.finalize_invoice(invoice.id)

    assert (raised.value.code, raised.value.user_message) == (
        "invoice_not_editable",
        "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
    )


def test_void_drops_the_payment_in_progress(stripe_client, events) -> None:
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, _customer(stripe_client), 1000).id)
    events.new()

    voided = stripe_client.v1.invoices.void_invoice(invoice.id)

    assert (voided.status, voided.status_transitions.voided_at is not None) == ("void", True)
    [payment] = stripe_client.v1.invoice_payments.list({"invoice": invoice.id}).data
    assert payment.status == "canceled"
    assert stripe_client.v1.payment_intents.retrieve(payment.payment.payment_intent).status == "canceled"
    assert events.new() == ["payment_intent.canceled", "invoice.voided"]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.void_invoice(invoice.id)


def test_mark_uncollectible_then_pay_later(stripe_client, events) -> None:
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, _customer(stripe_client), 1000).id)
    events.new()

    marked = stripe_client.v1.invoices.mark_uncollectible(invoice.id)

    assert (marked.status, marked.status_transitions.marked_uncollectible_at is not None) == ("uncollectible", True)
    assert events.new() == ["invoice.marked_uncollectible"]
    assert stripe_client.v1.invoices.pay(invoice.id).status == "paid"


def test_send_invoice_opens_with_a_due_date_and_sends(stripe_client, events) -> None:
    customer = _customer(stripe_client, card=None)
    draft = _draft(stripe_client, customer, 5000, collection_method="send_invoice", days_until_due=30)
    assert draft.due_date == draft.created + 30 * 86_400

    finalized = stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert (finalized.status, finalized.amount_remaining, finalized.next_payment_attempt) == ("open", 5000, None)
    events.new()

    sent = stripe_client.v1.invoices.send_invoice(draft.id)

    assert sent.status == "open"
    assert events.new() == ["invoice.sent"]
    assert stripe_client.v1.payment_intents.list({"customer": customer.id}).data == []


def test_send_is_for_send_invoice_only(stripe_client) -> None:
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, _customer(stripe_client), 1000).id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.send_invoice(invoice.id)

    assert raised.value.user_message == "You can only manually send an invoice if its collection method is 'send_invoice'."


def test_send_invoice_needs_a_due_date(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.create({"customer": _customer(stripe_client).id, "collection_method": "send_invoice"})

    assert raised.value.param == "days_until_due"
    assert stripe_client.v1.invoices.list().data == []


def test_update_a_draft_and_only_some_fields_after(stripe_client) -> None:
    customer = _customer(stripe_client)
    draft = _draft(stripe_client, customer, 1000)

    updated = stripe_client.v1.invoices.update(
        draft.id, {"description": "Updated", "collection_method": "send_invoice", "days_until_due": 7}
    )

    assert (updated.description, updated.collection_method, updated.due_date) == ("Updated", "send_invoice", draft.created + 7 * 86_400)
    stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert stripe_client.v1.invoices.update(draft.id, {"metadata": {"a": "b"}}).metadata.to_dict() == {"a": "b"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.update(draft.id, {"days_until_due": 3})
    assert raised.value.code == "invoice_not_editable"


def test_delete_a_draft_returns_its_items_to_pending(stripe_client, events) -> None:
    customer = _customer(stripe_client)
    draft = _draft(stripe_client, customer, 1000)
    events.new()

    deleted = stripe_client.v1.invoices.delete(draft.id)

    assert deleted.to_dict() == {"id": draft.id, "object": "invoice", "deleted": True}
    assert [i.invoice for i in stripe_client.v1.invoice_items.list({"customer": customer.id}).data] == [None]
    assert events.new() == ["invoice.deleted"]
    finalized = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, customer).id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.delete(finalized.id)
    assert raised.value.user_message == "You can only delete draft invoices."


def test_a_declining_card_on_pay(stripe_client, events) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, customer, 1000).id)
    events.new()

    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.invoices.pay(invoice.id)

    assert (raised.value.http_status, raised.value.code) == (402, "card_declined")
    failed = stripe_client.v1.invoices.retrieve(invoice.id)
    assert (failed.status, failed.attempt_count, failed.attempted, failed.next_payment_attempt) == ("open", 1, True, None)
    assert events.new() == ["charge.failed", "payment_intent.payment_failed", "invoice.payment_failed"]


def test_an_item_added_to_a_draft_invoice(stripe_client) -> None:
    customer = _customer(stripe_client)
    draft = _draft(stripe_client, customer, 1000)

    item = stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 250, "currency": "usd", "invoice": draft.id}
    )

    assert item.invoice == draft.id
    updated = stripe_client.v1.invoices.retrieve(draft.id)
    assert (updated.total, [line.amount for line in updated.lines.data]) == (1250, [1000, 250])
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoice_items.update(item.id, {"amount": 1})
    assert stripe_client.v1.invoice_items.update(item.id, {"metadata": {"a": "b"}}).metadata.to_dict() == {"a": "b"}
    paid = stripe_client.v1.invoices.pay(draft.id)
    assert paid.amount_paid == 1250
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoice_items.delete(item.id)
    assert raised.value.user_message.startswith(f"This invoice item is on the invoice {draft.id}")


def test_items_go_only_on_a_draft_of_their_customer(stripe_client) -> None:
    alice, bob = _customer(stripe_client), _customer(stripe_client)
    finalized = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, alice, 1000).id)
    bobs = _draft(stripe_client, bob)

    for invoice in (finalized.id, bobs.id):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            stripe_client.v1.invoice_items.create({"customer": alice.id, "amount": 1, "currency": "usd", "invoice": invoice})
        assert raised.value.param == "invoice"
    assert stripe_client.v1.invoice_items.list({"customer": alice.id, "pending": True}).data == []


def test_invoice_payments_list_and_retrieve(stripe_client, sdk_fields) -> None:
    customer = _customer(stripe_client)
    paid = stripe_client.v1.invoices.pay(_draft(stripe_client, customer, 1000).id)
    other = stripe_client.v1.invoices.finalize_invoice(_draft(stripe_client, customer, 2000).id)

    [payment] = stripe_client.v1.invoice_payments.list({"invoice": paid.id}).data
    assert set(payment.to_dict()) == sdk_fields(stripe.InvoicePayment) - {"deleted"}
    assert payment.id.startswith("inpay_")
    assert (payment.status, payment.amount_paid, payment.amount_requested, payment.currency) == ("paid", 1000, 1000, "usd")
    assert payment.status_transitions.paid_at == paid.status_transitions.paid_at
    assert stripe_client.v1.invoice_payments.retrieve(payment.id).id == payment.id
    opened = stripe_client.v1.invoice_payments.list({"status": "open"}).data
    assert [p.invoice for p in opened] == [other.id]
    expanded = stripe_client.v1.invoice_payments.retrieve(payment.id, {"expand": ["payment.payment_intent"]})
    assert expanded.payment.payment_intent.status == "succeeded"


def test_an_auto_advancing_draft_finalizes_and_charges_on_the_clock(stripe_client) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": 1_704_067_200})
    customer = stripe_client.v1.customers.create(
        {"test_clock": clock.id, "payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    draft = _draft(stripe_client, customer, 1500, auto_advance=True)
    assert draft.automatically_finalizes_at == 1_704_067_200 + 3600

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": 1_704_067_200 + 3600})

    invoice = stripe_client.v1.invoices.retrieve(draft.id)
    assert (invoice.status, invoice.amount_paid, invoice.status_transitions.paid_at) == ("paid", 1500, 1_704_067_200 + 3600)
