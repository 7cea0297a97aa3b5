"""Subscriptions charge the customer's card: payment_behavior, declined first payments, failed
renewals retried on a test clock, recovery with a new card, and the events of each."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import stripe

HOUR, DAY = 3600, 86_400
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())
P2 = int(datetime(2024, 3, 15, tzinfo=timezone.utc).timestamp())
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider adding a default "
    "payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority."
)
PAID_EVENTS = [
    "payment_intent.created",
    "payment_intent.succeeded",
    "charge.succeeded",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice_payment.paid",
]
FAILED_EVENTS = ["charge.failed", "payment_intent.payment_failed", "invoice.payment_failed"]


def _customer(client: stripe.StripeClient, card: str | None = "pm_card_visa", **params) -> stripe.Customer:
    if card is not None:
        params.update(payment_method=card, invoice_settings={"default_payment_method": card})
    return client.v1.customers.create({"name": "Jenny Rosen", **params})


def _subscribe(client: stripe.StripeClient, customer: stripe.Customer, catalog, **params) -> stripe.Subscription:
    price = catalog.licensed_price(1000)
    return client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}], **params})


def _invoice(client: stripe.StripeClient, invoice_id: str) -> stripe.Invoice:
    return client.v1.invoices.retrieve(invoice_id, {"expand": ["payments"]})


def _intent_of(client: stripe.StripeClient, invoice: stripe.Invoice) -> stripe.PaymentIntent:
    [payment] = invoice.payments.data
    return client.v1.payment_intents.retrieve(payment.payment.payment_intent)


def test_a_card_on_file_pays_the_first_invoice(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client)
    events.new()

    subscription = _subscribe(stripe_client, customer, catalog)

    assert subscription.status == "active"
    invoice = _invoice(stripe_client, subscription.latest_invoice)
    assert (invoice.status, invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == ("paid", 1000, 1000, 0)
    assert (invoice.attempted, invoice.attempt_count, invoice.next_payment_attempt) == (True, 1, None)
    [payment] = invoice.payments.data
    assert (payment.status, payment.amount_paid, payment.amount_requested, payment.invoice) == ("paid", 1000, 1000, invoice.id)
    intent = _intent_of(stripe_client, invoice)
    assert (intent.status, intent.amount, intent.customer, intent.description) == (
        "succeeded", 1000, customer.id, "Subscription creation",
    )
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount, charge.paid, charge.payment_method) == (1000, True, customer.invoice_settings.default_payment_method)
    assert events.new() == [
        "product.created",
        "price.created",
        "customer.updated",  # the subscription sets the customer's currency
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        *PAID_EVENTS,
    ]


def test_no_payment_method_and_an_amount_due_is_a_400(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client, card=None)
    price = catalog.licensed_price(1000)
    events.new()

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})

    assert (raised.value.http_status, raised.value.user_message) == (400, NO_PAYMENT_METHOD)
    assert stripe_client.v1.subscriptions.list({"status": "all"}).data == []
    assert stripe_client.v1.invoices.list().data == []
    assert stripe_client.v1.customers.retrieve(customer.id).currency is None
    assert events.new() == []


def test_a_free_first_invoice_needs_no_payment_method(stripe_client, catalog) -> None:
    customer = _customer(stripe_client, card=None)
    price = catalog.metered_price()

    subscription = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}], "billing_mode": {"type": "classic"}}
    )

    assert subscription.status == "active"
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).status == "paid"


def test_default_incomplete_waits_for_the_customer_to_confirm(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client, card=None)
    events.new()

    subscription = _subscribe(stripe_client, customer, catalog, payment_behavior="default_incomplete")

    assert subscription.status == "incomplete"
    invoice = _invoice(stripe_client, subscription.latest_invoice)
    assert (invoice.status, invoice.attempt_count, invoice.amount_remaining) == ("open", 0, 1000)
    intent = _intent_of(stripe_client, invoice)
    assert (intent.status, intent.amount) == ("requires_payment_method", 1000)
    assert events.new()[-4:] == ["customer.subscription.created", "invoice.created", "invoice.finalized", "payment_intent.created"]

    stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert events.new() == [*PAID_EVENTS[1:], "customer.subscription.updated"]


def test_a_declined_first_payment_leaves_it_incomplete(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")
    events.new()

    subscription = _subscribe(stripe_client, customer, catalog)

    assert subscription.status == "incomplete"
    invoice = _invoice(stripe_client, subscription.latest_invoice)
    assert (invoice.status, invoice.attempted, invoice.attempt_count, invoice.next_payment_attempt) == ("open", True, 1, None)
    assert (invoice.amount_paid, invoice.amount_remaining) == (0, 1000)
    intent = _intent_of(stripe_client, invoice)
    assert (intent.status, intent.last_payment_error.decline_code) == ("requires_payment_method", "generic_decline")
    assert events.new()[-7:] == [
        "customer.subscription.created", "invoice.created", "invoice.finalized", "payment_intent.created", *FAILED_EVENTS,
    ]


def test_error_if_incomplete_refuses_a_declining_card_and_keeps_nothing(stripe_client, catalog) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")

    with pytest.raises(stripe.CardError) as raised:
        _subscribe(stripe_client, customer, catalog, payment_behavior="error_if_incomplete")

    assert (raised.value.http_status, raised.value.code, raised.value.error.decline_code) == (402, "card_declined", "generic_decline")
    assert stripe_client.v1.subscriptions.list({"status": "all"}).data == []
    assert stripe_client.v1.invoices.list().data == []
    assert stripe_client.v1.payment_intents.list().data == []


def test_pending_if_incomplete_is_for_updates(stripe_client, catalog) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _subscribe(stripe_client, _customer(stripe_client), catalog, payment_behavior="pending_if_incomplete")

    assert raised.value.param == "payment_behavior"


def test_3d_secure_on_session_leaves_it_incomplete_until_confirmed(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client, card="pm_card_authenticationRequired")
    events.new()

    subscription = _subscribe(stripe_client, customer, catalog)

    assert subscription.status == "incomplete"
    invoice = _invoice(stripe_client, subscription.latest_invoice)
    intent = _intent_of(stripe_client, invoice)
    assert (invoice.status, intent.status) == ("open", "requires_action")
    assert events.new()[-3:] == ["payment_intent.created", "payment_intent.requires_action", "invoice.payment_action_required"]

    stripe_client.v1.payment_intents.confirm(intent.id)

    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_a_new_card_and_pay_recover_an_incomplete_subscription(stripe_client, catalog, events) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")
    subscription = _subscribe(stripe_client, customer, catalog)
    visa = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    stripe_client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": visa.id}})
    events.new()

    paid = stripe_client.v1.invoices.pay(subscription.latest_invoice)

    assert (paid.status, paid.attempt_count, paid.amount_paid) == ("paid", 2, 1000)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert events.new() == [*PAID_EVENTS[1:], "customer.subscription.updated"]


def test_pay_with_a_declining_card_is_a_402_and_counts_an_attempt(stripe_client, catalog) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")
    subscription = _subscribe(stripe_client, customer, catalog)

    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.invoices.pay(subscription.latest_invoice)

    assert raised.value.error.payment_intent.status == "requires_payment_method"
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).attempt_count == 2


def test_subscription_default_payment_method_comes_first(stripe_client, catalog) -> None:
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail")
    visa = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})

    subscription = _subscribe(stripe_client, customer, catalog, default_payment_method=visa.id)

    assert (subscription.status, subscription.default_payment_method) == ("active", visa.id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _subscribe(stripe_client, customer, catalog, default_payment_method="pm_card_visa")
    assert raised.value.param == "default_payment_method"


class Clocked:
    """A clock at T0, a customer on it paying by `card`, and a $10 monthly subscription."""

    def __init__(self, client: stripe.StripeClient, catalog, card: str = "pm_card_visa") -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        self.customer = _customer(client, card=card, test_clock=self.clock.id)
        self.subscription = _subscribe(client, self.customer, catalog)

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def switch_card(self, card: str) -> str:
        attached = self.client.v1.payment_methods.attach(card, {"customer": self.customer.id})
        self.client.v1.customers.update(self.customer.id, {"invoice_settings": {"default_payment_method": attached.id}})
        return attached.id

    def renewal(self) -> stripe.Invoice:
        invoice_id = self.client.v1.subscriptions.retrieve(self.subscription.id).latest_invoice
        return self.client.v1.invoices.retrieve(invoice_id)

    def status(self) -> str:
        return self.client.v1.subscriptions.retrieve(self.subscription.id).status


def test_an_incomplete_subscription_expires_after_23_hours(stripe_client, catalog, events) -> None:
    clocked = Clocked(stripe_client, catalog, card="pm_card_chargeCustomerFail")
    assert clocked.status() == "incomplete"
    events.new()

    clocked.advance(T0 + 23 * HOUR - 1)
    assert clocked.status() == "incomplete"
    clocked.advance(T0 + 23 * HOUR)

    subscription = stripe_client.v1.subscriptions.retrieve(clocked.subscription.id)
    assert (subscription.status, subscription.ended_at) == ("incomplete_expired", T0 + 23 * HOUR)
    assert subscription.canceled_at == T0 + 23 * HOUR
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.status, invoice.status_transitions.voided_at) == ("void", T0 + 23 * HOUR)
    kinds = [t for t in events.new() if not t.startswith("test_helpers")]
    assert kinds == ["payment_intent.canceled", "invoice.voided", "customer.subscription.updated"]


def test_a_failed_renewal_goes_past_due_retries_then_cancels(stripe_client, catalog, events) -> None:
    clocked = Clocked(stripe_client, catalog)
    clocked.switch_card("pm_card_chargeCustomerFail")
    first_attempt = P1 + HOUR
    events.new()

    clocked.advance(first_attempt)

    renewal = clocked.renewal()
    assert (renewal.billing_reason, renewal.status, renewal.amount_remaining) == ("subscription_cycle", "open", 1000)
    assert (renewal.attempt_count, renewal.next_payment_attempt) == (1, first_attempt + 3 * DAY)
    assert clocked.status() == "past_due"
    billing = [t for t in events.new() if not t.startswith(("test_helpers", "invoice.upcoming"))]
    assert billing == [
        "customer.subscription.updated",  # the new period
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        *FAILED_EVENTS,
        "customer.subscription.updated",  # past_due
    ]

    clocked.advance(first_attempt + 3 * DAY)
    assert (clocked.renewal().attempt_count, clocked.renewal().next_payment_attempt) == (2, first_attempt + 8 * DAY)
    assert [t for t in events.new() if not t.startswith("test_helpers")] == FAILED_EVENTS
    clocked.advance(first_attempt + 8 * DAY)
    assert clocked.renewal().next_payment_attempt == first_attempt + 15 * DAY
    assert clocked.status() == "past_due"
    events.new()

    clocked.advance(first_attempt + 15 * DAY)

    subscription = stripe_client.v1.subscriptions.retrieve(clocked.subscription.id)
    assert (subscription.status, subscription.cancellation_details.reason) == ("canceled", "payment_failed")
    renewal = clocked.renewal()
    assert (renewal.status, renewal.attempt_count, renewal.next_payment_attempt) == ("open", 4, None)
    assert [t for t in events.new() if not t.startswith("test_helpers")] == [*FAILED_EVENTS, "customer.subscription.deleted"]


def test_after_the_last_retry_the_subscription_can_go_unpaid(stripe_client, catalog, raw) -> None:
    raw.post("/_mock/billing_settings", "retry_days[]=1&after_retries=unpaid")
    clocked = Clocked(stripe_client, catalog)
    clocked.switch_card("pm_card_chargeCustomerFail")

    clocked.advance(P1 + HOUR)
    assert (clocked.status(), clocked.renewal().next_payment_attempt) == ("past_due", P1 + HOUR + DAY)
    clocked.advance(P1 + HOUR + DAY)

    assert clocked.status() == "unpaid"
    assert (clocked.renewal().attempt_count, clocked.renewal().next_payment_attempt) == (2, None)


def test_a_new_card_is_charged_at_the_next_retry(stripe_client, catalog, events) -> None:
    clocked = Clocked(stripe_client, catalog)
    clocked.switch_card("pm_card_chargeCustomerFail")
    clocked.advance(P1 + HOUR)
    clocked.switch_card("pm_card_mastercard")
    events.new()

    clocked.advance(P1 + HOUR + 3 * DAY)

    renewal = clocked.renewal()
    assert (renewal.status, renewal.attempt_count, renewal.amount_paid) == ("paid", 2, 1000)
    assert renewal.status_transitions.paid_at == P1 + HOUR + 3 * DAY
    assert clocked.status() == "active"
    assert [t for t in events.new() if not t.startswith("test_helpers")] == [
        *PAID_EVENTS[1:], "customer.subscription.updated",
    ]


def test_a_failed_usage_invoice_is_retried_on_the_clock(stripe_client, catalog) -> None:
    """The guide's metered flow on a clock, its usage invoice charged to a card that declines."""
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = _customer(stripe_client, card="pm_card_chargeCustomerFail", test_clock=clock.id)
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    subscription = stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert subscription.status == "active"  # nothing is due at the start of usage billing
    catalog.use(meter, customer, 250_000, timestamp=T0 + 10)

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": P1 + HOUR + 3 * DAY})

    [invoice] = stripe_client.v1.invoices.list({"subscription": subscription.id}).data
    assert (invoice.amount_due, invoice.status, invoice.attempt_count) == (10_000, "open", 2)
    assert invoice.next_payment_attempt == P1 + HOUR + 8 * DAY
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    intents = stripe_client.v1.payment_intents.list({"customer": customer.id}).data
    assert [(i.amount, i.status) for i in intents] == [(10_000, "requires_payment_method")]
    charges = stripe_client.v1.charges.list({"customer": customer.id}).data
    assert [(c.status, c.created) for c in charges] == [("failed", P1 + HOUR + 3 * DAY), ("failed", P1 + HOUR)]


def test_pending_items_come_along_on_the_renewal(stripe_client, catalog) -> None:
    clocked = Clocked(stripe_client, catalog)
    item = stripe_client.v1.invoice_items.create(
        {"customer": clocked.customer.id, "amount": 250, "currency": "usd", "description": "Extra seat"}
    )

    clocked.advance(P1 + HOUR)

    renewal = clocked.renewal()
    assert [line.amount for line in renewal.lines.data] == [1000, 250]
    assert (renewal.total, renewal.amount_paid, renewal.status) == (1250, 1250, "paid")
    assert stripe_client.v1.invoice_items.retrieve(item.id).invoice == renewal.id


def test_payment_events_of_a_clocked_customer_show_the_clock_time(stripe_client, catalog, events) -> None:
    clocked = Clocked(stripe_client, catalog)
    clocked.switch_card("pm_card_chargeCustomerFail")
    events.new()

    clocked.advance(P1 + HOUR)

    failed = [e for e in events.new_events() if e.type in FAILED_EVENTS]
    assert [(e.type, e.created) for e in failed] == [(t, P1 + HOUR) for t in FAILED_EVENTS]


def test_the_first_invoice_confirmation_secret_is_its_intents(stripe_client, catalog) -> None:
    customer = _customer(stripe_client, card=None)

    subscription = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": catalog.licensed_price(1000).id}],
            "payment_behavior": "default_incomplete",
            "expand": ["latest_invoice.confirmation_secret"],
        }
    )

    secret = subscription.latest_invoice.confirmation_secret
    intent = _intent_of(stripe_client, _invoice(stripe_client, subscription.latest_invoice.id))
    assert (secret.type, secret.client_secret) == ("payment_intent", intent.client_secret)


def test_update_the_subscription_default_payment_method(stripe_client, catalog) -> None:
    customer = _customer(stripe_client)
    subscription = _subscribe(stripe_client, customer, catalog)
    amex = stripe_client.v1.payment_methods.attach("pm_card_amex", {"customer": customer.id})

    updated = stripe_client.v1.subscriptions.update(subscription.id, {"default_payment_method": amex.id})

    assert updated.default_payment_method == amex.id
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.subscriptions.update(subscription.id, {"default_payment_method": "pm_card_visa"})
    assert raised.value.param == "default_payment_method"
    assert stripe_client.v1.subscriptions.update(subscription.id, {"default_payment_method": ""}).default_payment_method is None
