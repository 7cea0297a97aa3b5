"""Tax rates on subscription invoices: each line's `taxes`, the invoice's `total_taxes` and totals."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def vat(client: stripe.StripeClient, percentage: float, inclusive: bool) -> stripe.TaxRate:
    return client.v1.tax_rates.create({"display_name": "VAT", "percentage": percentage, "inclusive": inclusive})


def tax_entry(rate: stripe.TaxRate, amount: int, taxable_amount: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "tax_behavior": "inclusive" if rate.inclusive else "exclusive",
        "tax_rate_details": {"tax_rate": rate.id},
        "taxability_reason": "not_available",
        "taxable_amount": taxable_amount,
        "type": "tax_rate_details",
    }


def amounts(invoice: stripe.Invoice) -> dict[str, int]:
    keys = ("subtotal", "subtotal_excluding_tax", "total_excluding_tax", "total", "amount_due")
    return {key: getattr(invoice, key) for key in keys}


def test_an_exclusive_rate_is_added_on_top(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    rate = vat(stripe_client, 19, inclusive=False)
    customer = catalog.customer()
    price = catalog.licensed_price(1000)
    subscription = catalog.subscribe(customer, price, default_tax_rates=[rate.id], expand=["latest_invoice"])
    assert [r.id for r in subscription.default_tax_rates] == [rate.id]
    invoice = subscription.latest_invoice
    assert [tax.to_dict() for tax in invoice.lines.data[0].taxes] == [tax_entry(rate, 190, 1000)]
    assert [tax.to_dict() for tax in invoice.total_taxes] == [tax_entry(rate, 190, 1000)]
    # 10.00 plus 19 % = 11.90.
    assert amounts(invoice) == {
        "subtotal": 1000,
        "subtotal_excluding_tax": 1000,
        "total_excluding_tax": 1000,
        "total": 1190,
        "amount_due": 1190,
    }


def test_inclusive_and_exclusive_rates_together(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    inclusive = vat(stripe_client, 10, inclusive=True)
    exclusive = vat(stripe_client, 5, inclusive=False)
    customer = catalog.customer()
    seats = catalog.licensed_price(1100)
    support = catalog.licensed_price(999)
    subscription = catalog.subscribe(
        customer, seats, support, default_tax_rates=[inclusive.id, exclusive.id], expand=["latest_invoice"]
    )
    invoice = subscription.latest_invoice
    by_amount = {line.amount: [tax.to_dict() for tax in line.taxes] for line in invoice.lines.data}
    # 11.00 holds 10 % inclusive: 10.00 before tax, 1.00 tax; 5 % of 10.00 on top.
    assert by_amount[1100] == [tax_entry(inclusive, 100, 1000), tax_entry(exclusive, 50, 1000)]
    # 9.99 / 1.10 = 9.0818 -> 9.08 before tax, 0.91 tax; 5 % of 9.08 = 0.454 -> 0.45.
    assert by_amount[999] == [tax_entry(inclusive, 91, 908), tax_entry(exclusive, 45, 908)]
    assert [tax.to_dict() for tax in invoice.total_taxes] == [
        tax_entry(inclusive, 191, 1908),
        tax_entry(exclusive, 95, 1908),
    ]
    assert amounts(invoice) == {
        "subtotal": 2099,
        "subtotal_excluding_tax": 1908,
        "total_excluding_tax": 1908,
        "total": 2194,
        "amount_due": 2194,
    }


def test_an_unknown_tax_rate_is_refused_and_nothing_is_made(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    customer = catalog.customer()
    price = catalog.licensed_price(1000)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        catalog.subscribe(customer, price, default_tax_rates=["txr_missing"])
    error = excinfo.value.json_body["error"]
    assert (error["code"], error["param"], error["message"]) == (
        "resource_missing",
        "default_tax_rates[0]",
        "No such tax rate: 'txr_missing'",
    )
    assert stripe_client.v1.subscriptions.list().data == []


def test_automatic_tax_stays_unsupported(catalog: Any) -> None:
    customer = catalog.customer()
    price = catalog.licensed_price(1000)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        catalog.subscribe(customer, price, automatic_tax={"enabled": True})
    error = excinfo.value.json_body["error"]
    assert excinfo.value.http_status == 400
    assert error["param"] == "automatic_tax"
    assert "not supported by mockstripe" in error["message"]


def test_invoice_items_carry_their_own_tax_rates(stripe_client: stripe.StripeClient) -> None:
    exclusive = vat(stripe_client, 19, inclusive=False)
    inclusive = vat(stripe_client, 7, inclusive=True)
    customer = stripe_client.v1.customers.create({"name": "Jenny Rosen"})
    taxed = stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 1550, "currency": "usd", "tax_rates": [exclusive.id]}
    )
    assert [rate.id for rate in taxed.tax_rates] == [exclusive.id]
    stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 1070, "currency": "usd", "tax_rates": [inclusive.id]})
    stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 500, "currency": "usd"})
    draft = stripe_client.v1.invoices.create({"customer": customer.id, "pending_invoice_items_behavior": "include"})
    # 19 % of 15.50 = 2.945 -> 2.95; 10.70 holds 7 %: 10.00 before tax, 0.70 tax; 5.00 untaxed.
    assert [[tax.to_dict() for tax in line.taxes] for line in draft.lines.data] == [
        [tax_entry(exclusive, 295, 1550)],
        [tax_entry(inclusive, 70, 1000)],
        [],
    ]
    assert [tax.to_dict() for tax in draft.total_taxes] == [tax_entry(exclusive, 295, 1550), tax_entry(inclusive, 70, 1000)]
    assert amounts(draft) == {
        "subtotal": 3120,
        "subtotal_excluding_tax": 3050,
        "total_excluding_tax": 3050,
        "total": 3415,
        "amount_due": 3415,
    }


def test_a_renewal_with_metered_usage_is_taxed_on_the_clock(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    start = 1_704_067_200  # 2024-01-01
    renewal = 1_706_745_600  # 2024-02-01
    rate = vat(stripe_client, 20, inclusive=False)
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": start})
    customer = catalog.customer(
        test_clock=clock.id, payment_method="pm_card_visa", invoice_settings={"default_payment_method": "pm_card_visa"}
    )
    meter = catalog.meter()
    subscription = catalog.subscribe(
        customer, catalog.licensed_price(1000), catalog.metered_price(meter), default_tax_rates=[rate.id]
    )
    # 12,345 tokens at 4 cents per started 100: 124 packages, 4.96.
    catalog.use(meter, customer, 12_345, timestamp=start + 60)
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": renewal + 3600})
    invoices = stripe_client.v1.invoices.list({"subscription": subscription.id}).data
    renewed = invoices[0]
    assert renewed.billing_reason == "subscription_cycle" and renewed.status == "paid"
    taxes = sorted((line.amount, [tax.to_dict() for tax in line.taxes]) for line in renewed.lines.data)
    # 20 % of 4.96 = 0.992 -> 0.99; of 10.00, 2.00.
    assert taxes == [(496, [tax_entry(rate, 99, 496)]), (1000, [tax_entry(rate, 200, 1000)])]
    assert [tax.to_dict() for tax in renewed.total_taxes] == [tax_entry(rate, 299, 1496)]
    assert (renewed.subtotal, renewed.total_excluding_tax, renewed.total, renewed.amount_paid) == (1496, 1496, 1795, 1795)
