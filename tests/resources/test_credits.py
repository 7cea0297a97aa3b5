"""Billing credits: grants, balance transactions and summaries, and credits applied to invoices."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

HOUR = 3600
DAY = 86_400
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())


class Flow:
    """A clock at T0, a customer on it, the guide's metered price (4¢ per 100 tokens) and a
    subscription to it."""

    def __init__(self, client: stripe.StripeClient, catalog) -> None:
        self.client, self.catalog = client, catalog
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.meter = catalog.meter()
        self.price = catalog.metered_price(self.meter)
        self.subscription = catalog.subscribe(self.customer, self.price)

    def grant(self, dollars: int, **params: Any) -> stripe.billing.CreditGrant:
        return self.client.v1.billing.credit_grants.create(
            {
                "customer": self.customer.id,
                "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": dollars * 100}},
                "applicability_config": {"scope": {"price_type": "metered"}},
                **params,
            }
        )

    def use_dollars(self, dollars: int) -> None:
        """Usage worth `dollars` at 4¢ per 100 tokens."""
        self.catalog.use(self.meter, self.customer, dollars * 2500, timestamp=T0 + 10)

    def bill_first_period(self) -> stripe.Invoice:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": P1 + HOUR + 1})
        [invoice] = self.client.v1.invoices.list({"subscription": self.subscription.id}).data
        return invoice

    def available(self, **grant: Any) -> int:
        balance_filter = {"type": "credit_grant", "credit_grant": grant["id"]} if grant else {
            "type": "applicability_scope",
            "applicability_scope": {"price_type": "metered"},
        }
        summary = self.client.v1.billing.credit_balance_summary.retrieve(
            {"customer": self.customer.id, "filter": balance_filter}
        )
        return sum(b.available_balance.monetary.value for b in summary.balances)


@pytest.fixture
def flow(stripe_client, catalog) -> Flow:
    return Flow(stripe_client, catalog)


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def event_types(client: stripe.StripeClient, prefix: str) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list({"type": f"{prefix}*"}).data)]


def test_a_grant_and_its_transaction(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10, category="promotional", name="Welcome credit", metadata={"campaign": "launch"})
    assert grant.id.startswith("credgr_test_61")
    assert grant.to_dict() == {
        "id": grant.id,
        "object": "billing.credit_grant",
        "amount": {"monetary": {"currency": "usd", "value": 1000}, "type": "monetary"},
        "applicability_config": {"scope": {"price_type": "metered", "prices": None}},
        "category": "promotional",
        "created": T0,
        "customer": flow.customer.id,
        "customer_account": None,
        "effective_at": T0,
        "expires_at": None,
        "livemode": False,
        "metadata": {"campaign": "launch"},
        "name": "Welcome credit",
        "priority": 50,
        "test_clock": flow.clock.id,
        "updated": T0,
        "voided_at": None,
    }
    assert client.v1.billing.credit_grants.retrieve(grant.id).to_dict() == grant.to_dict()
    assert [g.id for g in client.v1.billing.credit_grants.list({"customer": flow.customer.id}).data] == [grant.id]
    (transaction,) = client.v1.billing.credit_balance_transactions.list({"customer": flow.customer.id}).data
    assert transaction.to_dict() == {
        "id": transaction.id,
        "object": "billing.credit_balance_transaction",
        "created": T0,
        "credit": {
            "amount": {"monetary": {"currency": "usd", "value": 1000}, "type": "monetary"},
            "credits_application_invoice_voided": None,
            "type": "credits_granted",
        },
        "credit_grant": grant.id,
        "debit": None,
        "effective_at": T0,
        "livemode": False,
        "test_clock": flow.clock.id,
        "type": "credit",
    }
    assert client.v1.billing.credit_balance_transactions.retrieve(transaction.id).id == transaction.id
    assert flow.available(id=grant.id) == 1000
    assert flow.available() == 1000
    assert event_types(client, "billing.credit") == [
        "billing.credit_grant.created",
        "billing.credit_balance_transaction.created",
    ]


def test_bad_grants_are_refused(flow: Flow) -> None:
    error = invalid_request(lambda: flow.grant(-5))
    assert (error.param, error.code) == ("amount[monetary][value]", "parameter_invalid_integer")
    error = invalid_request(
        lambda: flow.grant(5, amount={"type": "monetary", "monetary": {"currency": "eur", "value": 500}})
    )
    assert error.param == "amount[monetary][currency]"
    both = {"scope": {"price_type": "metered", "prices": [{"id": flow.price.id}]}}
    error = invalid_request(lambda: flow.grant(5, applicability_config=both))
    assert error.param == "applicability_config[scope][price_type]"
    error = invalid_request(lambda: flow.grant(5, effective_at=T0 + DAY, expires_at=T0 + DAY))
    assert error.param == "expires_at"
    error = invalid_request(lambda: flow.grant(5, customer="cus_nope"))
    assert (error.param, error.code) == ("customer", "resource_missing")
    assert flow.client.v1.billing.credit_grants.list().data == []


def test_update_expire_and_void(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10)
    updated = client.v1.billing.credit_grants.update(grant.id, {"expires_at": T0 + 30 * DAY, "metadata": {"a": "b"}})
    assert (updated.expires_at, updated.metadata.to_dict(), updated.updated) == (T0 + 30 * DAY, {"a": "b"}, T0)
    (event,) = client.v1.events.list({"type": "billing.credit_grant.updated"}).data
    assert event.data.previous_attributes.to_dict() == {"expires_at": None, "metadata": {"a": None}}
    expired = client.v1.billing.credit_grants.expire(grant.id)
    assert expired.expires_at == T0
    assert flow.available(id=grant.id) == 0
    other = flow.grant(3)
    voided = client.v1.billing.credit_grants.void_grant(other.id)
    assert voided.voided_at == T0
    debits = [
        (t.debit.type, t.debit.amount.monetary.value, t.credit_grant)
        for t in client.v1.billing.credit_balance_transactions.list({"customer": flow.customer.id}).data
        if t.type == "debit"
    ]
    assert debits == [("credits_voided", 300, other.id), ("credits_expired", 1000, grant.id)]
    error = invalid_request(lambda: client.v1.billing.credit_grants.void_grant(other.id))
    assert "voided" in error.user_message


def test_a_promotional_grant_pays_most_of_a_usage_invoice(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10, category="promotional")
    flow.use_dollars(12)
    preview = flow.catalog.preview(flow.subscription)
    assert (preview.subtotal, preview.total, preview.amount_due) == (1200, 200, 200)
    assert [c.to_dict() for c in preview.total_pretax_credit_amounts] == [
        {"amount": 1000, "credit_balance_transaction": None, "discount": None, "type": "credit_balance_transaction"}
    ]
    assert flow.available(id=grant.id) == 1000  # a preview takes nothing

    invoice = flow.bill_first_period()

    assert (invoice.status, invoice.subtotal, invoice.total, invoice.amount_due, invoice.amount_paid) == (
        "paid", 1200, 200, 200, 200,
    )
    (credit,) = invoice.total_pretax_credit_amounts
    (line,) = invoice.lines.data
    assert line.amount == 1200
    assert [c.to_dict() for c in line.pretax_credit_amounts] == [credit.to_dict()]
    assert (credit.amount, credit.type, credit.discount) == (1000, "credit_balance_transaction", None)
    transaction = client.v1.billing.credit_balance_transactions.retrieve(credit.credit_balance_transaction)
    assert (transaction.type, transaction.effective_at, transaction.created) == ("debit", P1 + HOUR, P1 + HOUR)
    assert transaction.debit.to_dict() == {
        "amount": {"monetary": {"currency": "usd", "value": 1000}, "type": "monetary"},
        "credits_applied": {"invoice": invoice.id, "invoice_line_item": line.id},
        "type": "credits_applied",
    }
    assert flow.available(id=grant.id) == 0
    assert client.v1.customers.retrieve(flow.customer.id).balance == 0
    error = invalid_request(lambda: client.v1.billing.credit_grants.void_grant(grant.id))
    assert "applied" in error.user_message


def test_grants_are_drawn_by_priority_then_earliest_expiry(flow: Flow) -> None:
    late = flow.grant(5)  # priority 50
    later = flow.grant(5, priority=10, expires_at=P1 + 10 * DAY)
    sooner = flow.grant(3, priority=10, expires_at=P1 + 5 * DAY)
    flow.use_dollars(12)

    invoice = flow.bill_first_period()

    taken = [
        (flow.client.v1.billing.credit_balance_transactions.retrieve(c.credit_balance_transaction).credit_grant, c.amount)
        for c in invoice.total_pretax_credit_amounts
    ]
    assert taken == [(sooner.id, 300), (later.id, 500), (late.id, 400)]
    assert (invoice.total, invoice.amount_due, invoice.status) == (0, 0, "paid")
    assert [flow.available(id=g.id) for g in (late, later, sooner)] == [100, 0, 0]


def test_only_grants_in_effect_at_finalization_apply(flow: Flow) -> None:
    flow.grant(2, expires_at=P1)  # over when the invoice finalizes
    flow.grant(3, effective_at=P1 + 2 * HOUR)  # not yet in effect
    scoped = flow.grant(4, applicability_config={"scope": {"prices": [{"id": flow.price.id}]}})
    other_price = flow.catalog.metered_price(flow.catalog.meter())
    flow.grant(5, applicability_config={"scope": {"prices": [{"id": other_price.id}]}})
    flow.use_dollars(12)

    invoice = flow.bill_first_period()

    assert [c.amount for c in invoice.total_pretax_credit_amounts] == [400]
    assert (invoice.total, invoice.amount_due) == (800, 800)
    assert flow.available(id=scoped.id) == 0


def test_credits_go_before_the_customer_balance(flow: Flow) -> None:
    flow.client.v1.customers.update(flow.customer.id, {"balance": -300})
    flow.grant(10)
    flow.use_dollars(12)

    invoice = flow.bill_first_period()

    assert (invoice.total, invoice.starting_balance, invoice.amount_due, invoice.ending_balance) == (200, -300, 0, -100)
    assert flow.client.v1.customers.retrieve(flow.customer.id).balance == -100


def test_applying_credits_sends_a_transaction_event_before_the_invoice_finalizes(flow: Flow) -> None:
    flow.grant(10)
    flow.use_dollars(12)
    flow.bill_first_period()
    types = [
        e.type
        for e in reversed(flow.client.v1.events.list({"limit": 100}).data)
        if e.type.startswith(("invoice.", "billing.credit_balance_transaction."))
    ]
    assert types == [
        "billing.credit_balance_transaction.created",  # the grant
        "invoice.upcoming",
        "invoice.created",
        "billing.credit_balance_transaction.created",  # the credits applied
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    (finalized,) = flow.client.v1.events.list({"type": "invoice.finalized"}).data
    assert finalized.data.object.total_pretax_credit_amounts[0].amount == 1000
    assert finalized.data.object.amount_due == 200


def open_invoice_with_credits(flow: Flow) -> stripe.Invoice:
    """The first period's invoice, $12 of usage less the customer's credits, left open (sent to be
    paid in 30 days)."""
    flow.client.v1.subscriptions.update(flow.subscription.id, {"collection_method": "send_invoice", "days_until_due": 30})
    flow.use_dollars(12)
    invoice = flow.bill_first_period()
    assert invoice.status == "open"
    return invoice


def test_voiding_an_invoice_gives_its_credits_back(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10)
    invoice = open_invoice_with_credits(flow)
    assert (invoice.total, invoice.amount_due) == (200, 200)
    assert flow.available(id=grant.id) == 0
    (line,) = invoice.lines.data
    error = invalid_request(lambda: client.v1.billing.credit_grants.void_grant(grant.id))
    assert "applied" in error.user_message

    voided = client.v1.invoices.void_invoice(invoice.id)

    assert voided.status == "void"
    assert voided.total_pretax_credit_amounts[0].amount == 1000  # the invoice still shows what it took
    given_back, applied, granted = client.v1.billing.credit_balance_transactions.list({"customer": flow.customer.id}).data
    assert (granted.credit.type, applied.debit.type) == ("credits_granted", "credits_applied")
    assert given_back.to_dict() == {
        "id": given_back.id,
        "object": "billing.credit_balance_transaction",
        "created": P1 + HOUR + 1,
        "credit": {
            "amount": {"monetary": {"currency": "usd", "value": 1000}, "type": "monetary"},
            "credits_application_invoice_voided": {"invoice": invoice.id, "invoice_line_item": line.id},
            "type": "credits_application_invoice_voided",
        },
        "credit_grant": grant.id,
        "debit": None,
        "effective_at": P1 + HOUR + 1,
        "livemode": False,
        "test_clock": flow.clock.id,
        "type": "credit",
    }
    assert flow.available(id=grant.id) == 1000
    assert flow.available() == 1000
    types = [
        e.type
        for e in reversed(client.v1.events.list({"limit": 5}).data)
        if e.type.startswith(("invoice.", "billing."))
    ]
    assert types[-2:] == ["invoice.voided", "billing.credit_balance_transaction.created"]
    # Its credits applied nowhere now, the grant can be voided.
    assert client.v1.billing.credit_grants.void_grant(grant.id).voided_at == P1 + HOUR + 1
    assert flow.available(id=grant.id) == 0


def test_credits_given_back_after_their_grant_expired_expire_at_once(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10, expires_at=P1 + 2 * HOUR)
    invoice = open_invoice_with_credits(flow)
    client.v1.test_helpers.test_clocks.advance(flow.clock.id, {"frozen_time": P1 + 3 * HOUR})

    client.v1.invoices.void_invoice(invoice.id)

    newest = client.v1.billing.credit_balance_transactions.list({"credit_grant": grant.id, "limit": 2}).data
    assert [(t.type, (t.credit or t.debit).type, (t.credit or t.debit).amount.monetary.value) for t in newest] == [
        ("debit", "credits_expired", 1000),
        ("credit", "credits_application_invoice_voided", 1000),
    ]
    assert flow.available(id=grant.id) == 0


def test_an_uncollectible_invoice_keeps_its_credits_until_voided(flow: Flow) -> None:
    client = flow.client
    grant = flow.grant(10)
    invoice = open_invoice_with_credits(flow)
    client.v1.invoices.mark_uncollectible(invoice.id)
    assert flow.available(id=grant.id) == 0
    assert len(client.v1.billing.credit_balance_transactions.list({"credit_grant": grant.id}).data) == 2
    client.v1.invoices.void_invoice(invoice.id)
    assert flow.available(id=grant.id) == 1000
