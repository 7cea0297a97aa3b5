"""Tax rates on subscriptions: the subscription's `default_tax_rates` and each item's own `tax_rates`
(which override them) tax its invoices, renewals and prorations. Amounts worked by hand: a $30 Pro
and a $10 Basic monthly from Jan 1 2025; a change on Jan 16 leaves 16 of January's 31 days."""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from tests.resources.conftest import ClockedCustomer

JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_16 = int(datetime(2025, 1, 16, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
HOUR = 3600


class Taxed(ClockedCustomer):
    def __init__(self, client: stripe.StripeClient, catalog) -> None:
        super().__init__(client, catalog, JAN_1)
        self.pro = catalog.licensed_price(3000, product_data={"name": "Pro"})
        self.basic = catalog.licensed_price(1000, product_data={"name": "Basic"})
        self.vat = client.v1.tax_rates.create({"display_name": "VAT", "percentage": 10, "inclusive": False})
        self.sales = client.v1.tax_rates.create({"display_name": "Sales tax", "percentage": 8, "inclusive": False})

    def latest_invoice(self, subscription_id: str) -> stripe.Invoice:
        latest = self.client.v1.subscriptions.retrieve(subscription_id).latest_invoice
        return self.client.v1.invoices.retrieve(latest)


def _taxes(invoice: stripe.Invoice) -> list[tuple[int, list[tuple[int, str]]]]:
    return [
        (line.amount, [(tax.amount, tax.tax_rate_details.tax_rate) for tax in line.taxes]) for line in invoice.lines.data
    ]


def test_default_tax_rates_set_on_update_tax_the_renewal(stripe_client, catalog) -> None:
    taxed = Taxed(stripe_client, catalog)
    subscription = catalog.subscribe(taxed.customer, taxed.pro)

    updated = stripe_client.v1.subscriptions.update(subscription.id, {"default_tax_rates": [taxed.vat.id]})

    assert [rate.id for rate in updated.default_tax_rates] == [taxed.vat.id]
    taxed.advance(FEB_1 + HOUR)
    renewal = taxed.latest_invoice(subscription.id)
    assert (renewal.billing_reason, renewal.subtotal, renewal.total, renewal.amount_paid) == (
        "subscription_cycle", 3000, 3300, 3300,
    )
    assert _taxes(renewal) == [(3000, [(300, taxed.vat.id)])]

    cleared = stripe_client.v1.subscriptions.update(subscription.id, {"default_tax_rates": ""})
    assert cleared.default_tax_rates == []


def test_an_items_tax_rates_override_the_defaults(stripe_client, catalog) -> None:
    taxed = Taxed(stripe_client, catalog)

    subscription = stripe_client.v1.subscriptions.create(
        {
            "customer": taxed.customer.id,
            "default_tax_rates": [taxed.vat.id],
            "items": [{"price": taxed.pro.id, "tax_rates": [taxed.sales.id]}, {"price": taxed.basic.id}],
        }
    )

    assert [[rate.id for rate in item.tax_rates] for item in subscription["items"].data] == [[taxed.sales.id], []]
    first = taxed.latest_invoice(subscription.id)
    # Pro at 8%: $2.40; Basic at the default 10%: $1.00.
    assert _taxes(first) == [(3000, [(240, taxed.sales.id)]), (1000, [(100, taxed.vat.id)])]
    assert (first.total, first.amount_paid) == (4340, 4340)
    assert [(tax.amount, tax.tax_rate_details.tax_rate) for tax in first.total_taxes] == [
        (240, taxed.sales.id), (100, taxed.vat.id),
    ]

    # The item endpoint changes an item's rates; the renewal follows.
    pro_item = subscription["items"].data[0]
    stripe_client.v1.subscription_items.update(pro_item.id, {"tax_rates": [taxed.vat.id, taxed.sales.id], "proration_behavior": "none"})
    taxed.advance(FEB_1 + HOUR)
    renewal = taxed.latest_invoice(subscription.id)
    assert _taxes(renewal) == [(3000, [(300, taxed.vat.id), (240, taxed.sales.id)]), (1000, [(100, taxed.vat.id)])]
    assert renewal.total == 4640


def test_prorations_carry_their_items_tax_rates(stripe_client, catalog) -> None:
    taxed = Taxed(stripe_client, catalog)
    subscription = stripe_client.v1.subscriptions.create(
        {"customer": taxed.customer.id, "items": [{"price": taxed.basic.id, "tax_rates": [taxed.vat.id]}]}
    )
    taxed.advance(JAN_16)

    # Basic to Pro on Jan 16: $10 x 16/31 = $5.16 credited, $30 x 16/31 = $15.48 charged; VAT on each.
    updated = stripe_client.v1.subscriptions.update(
        subscription.id,
        {
            "items": [{"id": subscription["items"].data[0].id, "price": taxed.pro.id, "tax_rates": [taxed.vat.id]}],
            "proration_behavior": "always_invoice",
        },
    )

    invoice = stripe_client.v1.invoices.retrieve(updated.latest_invoice)
    assert _taxes(invoice) == [(-516, [(-52, taxed.vat.id)]), (1548, [(155, taxed.vat.id)])]
    assert (invoice.subtotal, invoice.total, invoice.amount_paid) == (1032, 1135, 1135)
    items = stripe_client.v1.invoice_items.list({"customer": taxed.customer.id}).data
    assert {rate.id for item in items for rate in item.tax_rates} == {taxed.vat.id}


def test_a_schedule_phase_carries_its_tax_rates(stripe_client, catalog) -> None:
    taxed = Taxed(stripe_client, catalog)

    schedule = stripe_client.v1.subscription_schedules.create(
        {
            "customer": taxed.customer.id,
            "start_date": "now",
            "phases": [
                {
                    "items": [{"price": taxed.pro.id, "tax_rates": [taxed.sales.id]}, {"price": taxed.basic.id}],
                    "default_tax_rates": [taxed.vat.id],
                }
            ],
        }
    )

    phase = schedule.phases[0]
    assert [rate.id for rate in phase.default_tax_rates] == [taxed.vat.id]
    assert [[rate.id for rate in item.tax_rates] for item in phase["items"]] == [[taxed.sales.id], []]
    first = taxed.latest_invoice(schedule.subscription)
    assert _taxes(first) == [(3000, [(240, taxed.sales.id)]), (1000, [(100, taxed.vat.id)])]
