"""Coupons and promotion codes redeemed into discounts on subscriptions and their invoices."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import pytest
import stripe

HOUR = 3600


def at(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp())


def error_of(excinfo: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = excinfo.value.json_body["error"]
    return {k: body.get(k) for k in ("type", "code", "param", "message")}


def amounts(invoice: stripe.Invoice) -> dict[str, int]:
    keys = ("subtotal", "total_excluding_tax", "total", "amount_due")
    return {key: getattr(invoice, key) for key in keys}


def test_a_percent_off_coupon_discounts_the_first_invoice(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    customer = catalog.customer()
    price = catalog.licensed_price(1999)
    subscription = catalog.subscribe(
        customer, price, discounts=[{"coupon": coupon.id}], expand=["latest_invoice", "discounts"]
    )
    [discount] = subscription.discounts
    assert discount.to_dict() == {
        "id": discount.id,
        "object": "discount",
        "checkout_session": None,
        "customer": customer.id,
        "customer_account": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon.id, "type": "coupon"},
        "start": subscription.created,
        "subscription": subscription.id,
        "subscription_item": None,
    }
    invoice = subscription.latest_invoice
    assert invoice.discounts == [discount.id]
    # 25 % of 19.99 = 4.9975 -> 5.00.
    assert [d.to_dict() for d in invoice.lines.data[0].discount_amounts] == [{"amount": 500, "discount": discount.id}]
    assert [d.to_dict() for d in invoice.total_discount_amounts] == [{"amount": 500, "discount": discount.id}]
    assert amounts(invoice) == {"subtotal": 1999, "total_excluding_tax": 1499, "total": 1499, "amount_due": 1499}
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


class Clocked:
    """A customer on a test clock at 2026-01-01 with a monthly subscription to a 20.00 price."""

    def __init__(self, client: stripe.StripeClient, catalog: Any, **params: Any) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": at(2026, 1)})
        self.customer = catalog.customer(test_clock=self.clock.id)
        self.price = catalog.licensed_price(2000)
        self.subscription = catalog.subscribe(self.customer, self.price, **params)

    def advance_to_month(self, month: int) -> None:
        """Advance a month at a time to two hours into the first of `month` (2026): each renewal's
        invoice is finalized and paid by then."""
        current = datetime.fromtimestamp(self.client.v1.test_helpers.test_clocks.retrieve(self.clock.id).frozen_time, timezone.utc)
        for step in range(current.month + 1, month + 1):
            self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": at(2026, step) + 2 * HOUR})

    def totals(self) -> list[tuple[str, int, int]]:
        """Each invoice of the subscription, oldest first: (billing reason, subtotal, total)."""
        listed = reversed(self.client.v1.invoices.list({"subscription": self.subscription.id}).data)
        return [(invoice.billing_reason, invoice.subtotal, invoice.total) for invoice in listed]

    def refreshed(self) -> stripe.Subscription:
        return self.client.v1.subscriptions.retrieve(self.subscription.id)


def test_a_repeating_coupon_discounts_three_months_then_ends(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25, "duration": "repeating", "duration_in_months": 3})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    [discount_id] = flow.subscription.discounts
    discount = stripe_client.v1.subscriptions.retrieve(flow.subscription.id, {"expand": ["discounts"]}).discounts[0]
    # Three calendar months from the start: 2026-04-01.
    assert (discount.start, discount.end) == (at(2026, 1), at(2026, 4))
    created = events.new()
    assert created[created.index("customer.subscription.created") :] == [
        "customer.subscription.created",
        "customer.discount.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
    ]

    flow.advance_to_month(3)
    # January, February and March: 25 % off 20.00.
    assert flow.totals() == [
        ("subscription_create", 2000, 1500),
        ("subscription_cycle", 2000, 1500),
        ("subscription_cycle", 2000, 1500),
    ]
    assert not [t for t in events.new() if t.startswith("customer.discount.")]

    flow.advance_to_month(4)
    april = events.new_events()
    # The renewal is announced three days before (without the discount, which ends with the period);
    # on April 1st the discount ends, then the subscription renews at full price.
    assert [event.type for event in april] == [
        "test_helpers.test_clock.advancing",
        "invoice.upcoming",
        "customer.discount.deleted",
        "customer.subscription.updated",  # its discounts
        "customer.subscription.updated",  # its new period
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "test_helpers.test_clock.ready",
    ]
    upcoming, ended, without = april[1].data.object, april[2].data.object, april[3].data
    assert (upcoming.total, upcoming.discounts) == (2000, [])
    assert (ended.id, ended.end, ended.subscription) == (discount_id, at(2026, 4), flow.subscription.id)
    assert (without.object.discounts, without.previous_attributes.to_dict()) == ([], {"discounts": [discount_id]})
    assert april[10].data.object.total == 2000

    flow.advance_to_month(5)
    # April and May are full price; nothing more about the discount.
    assert flow.totals()[3:] == [("subscription_cycle", 2000, 2000), ("subscription_cycle", 2000, 2000)]
    assert not [t for t in events.new() if t.startswith("customer.discount.")]


def test_a_once_coupon_discounts_only_the_first_invoice(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 750, "currency": "usd", "duration": "once"})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    # Spent on the first invoice: the subscription keeps no discount.
    assert flow.subscription.discounts == flow.refreshed().discounts == []
    types = events.new()
    assert types.index("customer.discount.created") < types.index("invoice.created")
    assert "customer.discount.deleted" in types
    flow.advance_to_month(2)
    assert flow.totals() == [("subscription_create", 2000, 1250), ("subscription_cycle", 2000, 2000)]
    first = stripe_client.v1.invoices.list({"subscription": flow.subscription.id}).data[-1]
    [discount_id] = first.discounts
    assert [d.to_dict() for d in first.total_discount_amounts] == [{"amount": 750, "discount": discount_id}]


def test_a_forever_coupon_discounts_every_invoice_even_once_deleted(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 12.5, "duration": "forever"})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}])
    # Deleting the coupon keeps the discounts made of it.
    stripe_client.v1.coupons.delete(coupon.id)
    flow.advance_to_month(3)
    # 12.5 % of 20.00 = 2.50.
    assert [total for _, _, total in flow.totals()] == [1750, 1750, 1750]
    assert len(flow.refreshed().discounts) == 1


def two_lines_with_tax(client: stripe.StripeClient, catalog: Any, coupon: stripe.Coupon) -> stripe.Invoice:
    """A subscription to a 10.00 and a 30.00 price under a 10 % exclusive tax, with `coupon`."""
    rate = client.v1.tax_rates.create({"display_name": "VAT", "percentage": 10, "inclusive": False})
    customer = catalog.customer()
    subscription = catalog.subscribe(
        customer,
        catalog.licensed_price(1000),
        catalog.licensed_price(3000),
        default_tax_rates=[rate.id],
        discounts=[{"coupon": coupon.id}],
        expand=["latest_invoice"],
    )
    return subscription.latest_invoice


def test_an_amount_off_is_spread_over_the_lines_and_taxed_after(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 500, "currency": "usd"})
    invoice = two_lines_with_tax(stripe_client, catalog, coupon)
    [discount_id] = invoice.discounts
    # 5.00 off 40.00, in proportion: 1.25 off 10.00 and 3.75 off 30.00; 10 % tax on what is left:
    # 8.75 -> 0.875 -> 0.88, and 26.25 -> 2.625 -> 2.63.
    by_amount = {line.amount: line for line in invoice.lines.data}
    assert [d.to_dict() for d in by_amount[1000].discount_amounts] == [{"amount": 125, "discount": discount_id}]
    assert [d.to_dict() for d in by_amount[3000].discount_amounts] == [{"amount": 375, "discount": discount_id}]
    assert by_amount[1000].discounts == [] and by_amount[3000].discounts == []
    assert [(t.amount, t.taxable_amount) for t in by_amount[1000].taxes] == [(88, 875)]
    assert [(t.amount, t.taxable_amount) for t in by_amount[3000].taxes] == [(263, 2625)]
    assert [(t.amount, t.taxable_amount) for t in invoice.total_taxes] == [(351, 3500)]
    assert amounts(invoice) == {"subtotal": 4000, "total_excluding_tax": 3500, "total": 3851, "amount_due": 3851}
    assert invoice.subtotal_excluding_tax == 4000


def test_a_percent_off_takes_its_share_of_each_line(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 10})
    invoice = two_lines_with_tax(stripe_client, catalog, coupon)
    [discount_id] = invoice.discounts
    by_amount = {line.amount: line for line in invoice.lines.data}
    # 10 % of 10.00 and 30.00; 10 % tax on 9.00 and 27.00.
    assert [d.amount for d in by_amount[1000].discount_amounts] == [100]
    assert [d.amount for d in by_amount[3000].discount_amounts] == [300]
    assert [d.to_dict() for d in invoice.total_discount_amounts] == [{"amount": 400, "discount": discount_id}]
    assert amounts(invoice) == {"subtotal": 4000, "total_excluding_tax": 3600, "total": 3960, "amount_due": 3960}


def test_an_amount_off_larger_than_the_invoice_leaves_nothing_due(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 5000, "currency": "usd"})
    subscription = catalog.subscribe(
        catalog.customer(), catalog.licensed_price(1200), discounts=[{"coupon": coupon.id}], expand=["latest_invoice"]
    )
    invoice = subscription.latest_invoice
    assert [d.amount for d in invoice.total_discount_amounts] == [1200]
    assert (invoice.total, invoice.amount_due, invoice.status) == (0, 0, "paid")


def test_an_item_discount_and_a_coupon_limited_to_a_product(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    seats, support = catalog.licensed_price(1000), catalog.licensed_price(3000)
    half = stripe_client.v1.coupons.create({"percent_off": 50, "duration": "forever"})
    support_only = stripe_client.v1.coupons.create(
        {"amount_off": 1000, "currency": "usd", "duration": "forever", "applies_to": {"products": [support.product]}}
    )
    customer = catalog.customer()
    subscription = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": seats.id, "discounts": [{"coupon": half.id}]}, {"price": support.id}],
            "discounts": [{"coupon": support_only.id}],
            "expand": ["latest_invoice", "items.data.discounts"],
        }
    )
    [item_discount] = subscription["items"].data[0].discounts
    assert (item_discount.subscription, item_discount.subscription_item) == (subscription.id, subscription["items"].data[0].id)
    [invoice_discount] = subscription.discounts
    invoice = subscription.latest_invoice
    assert invoice.discounts == [invoice_discount]
    seats_line, support_line = invoice.lines.data
    # The item's own 50 % on its line; the 10.00 off only on the support product's line.
    assert seats_line.discounts == [item_discount.id]
    assert [d.to_dict() for d in seats_line.discount_amounts] == [{"amount": 500, "discount": item_discount.id}]
    assert [d.to_dict() for d in support_line.discount_amounts] == [{"amount": 1000, "discount": invoice_discount}]
    # An item's discount is inside the subtotal; the invoice's comes off it.
    assert amounts(invoice) == {"subtotal": 3500, "total_excluding_tax": 2500, "total": 2500, "amount_due": 2500}
    assert [d.amount for d in invoice.total_discount_amounts] == [500, 1000]


def test_a_promotion_code_is_redeemed_and_counted(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20, "duration": "forever"})
    code = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING20"})
    subscription = catalog.subscribe(
        catalog.customer(), catalog.licensed_price(1500), discounts=[{"promotion_code": code.id}],
        expand=["latest_invoice", "discounts"],
    )
    [discount] = subscription.discounts
    assert (discount.promotion_code, discount.source.coupon) == (code.id, coupon.id)
    assert subscription.latest_invoice.total == 1200
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def nothing_redeemed(client: stripe.StripeClient, customer: stripe.Customer, coupon: stripe.Coupon, times: int = 0) -> None:
    """Nothing changed after a refusal: no subscription, no discount event, no redemption counted."""
    assert client.v1.subscriptions.list({"customer": customer.id, "status": "all"}).data == []
    assert [e.type for e in client.v1.events.list({"type": "customer.discount.created"}).data][times:] == []
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == times


def test_a_promotion_code_of_another_customer_is_refused(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    owner, other = catalog.customer(), catalog.customer()
    code = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, "customer": owner.id})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        catalog.subscribe(other, catalog.licensed_price(1500), discounts=[{"promotion_code": code.id}])
    assert refused.value.http_status == 400
    assert error_of(refused) == {
        "type": "invalid_request_error",
        "code": None,
        "param": "discounts[0][promotion_code]",
        "message": "This promotion code cannot be redeemed because it is restricted to a different customer.",
    }
    nothing_redeemed(stripe_client, other, coupon)
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 0


def test_a_coupon_past_its_max_redemptions_is_refused(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20, "max_redemptions": 1})
    price = catalog.licensed_price(1500)
    catalog.subscribe(catalog.customer(), price, discounts=[{"coupon": coupon.id}])
    used = stripe_client.v1.coupons.retrieve(coupon.id)
    assert (used.times_redeemed, used.valid) == (1, False)
    late = catalog.customer()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        catalog.subscribe(late, price, discounts=[{"coupon": coupon.id}])
    assert error_of(refused) == {
        "type": "invalid_request_error",
        "code": "coupon_expired",
        "param": "discounts[0][coupon]",
        "message": f"Coupon expired: {coupon.id}",
    }
    nothing_redeemed(stripe_client, late, coupon, times=1)


@pytest.mark.parametrize(
    ("restriction", "message", "code"),
    [
        ({"active": False}, "This promotion code cannot be redeemed because it is inactive.", None),
        ({"max_redemptions": 1}, "This promotion code cannot be redeemed because it has been used the maximum number of times.", None),
        (
            {"restrictions": {"minimum_amount": 5000, "minimum_amount_currency": "usd"}},
            "This promotion code cannot be redeemed because the associated purchase does not meet the minimum amount requirement.",
            None,
        ),
        (
            {"restrictions": {"first_time_transaction": True}},
            "This promotion code cannot be redeemed because the associated customer has prior transactions.",
            "promotion_code_customer_not_first_time",
        ),
    ],
)
def test_a_promotion_code_s_restrictions_are_enforced(
    stripe_client: stripe.StripeClient, catalog: Any, restriction: dict[str, Any], message: str, code: str | None
) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    promotion = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, **restriction})
    customer = catalog.customer()
    price = catalog.licensed_price(1500)
    # A first subscription: the customer's first payment (and the code's one redemption when limited).
    first = {"discounts": [{"promotion_code": promotion.id}]} if "max_redemptions" in restriction else {}
    catalog.subscribe(customer, price, **first)
    before = stripe_client.v1.subscriptions.list({"customer": customer.id}).data
    with pytest.raises(stripe.InvalidRequestError) as refused:
        catalog.subscribe(customer, catalog.licensed_price(1500), discounts=[{"promotion_code": promotion.id}])
    assert error_of(refused) == {
        "type": "invalid_request_error",
        "code": code,
        "param": "discounts[0][promotion_code]",
        "message": message,
    }
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == before
    assert stripe_client.v1.promotion_codes.retrieve(promotion.id).times_redeemed == len(first)


def test_an_unknown_coupon_or_promotion_code_is_refused(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    customer = catalog.customer()
    price = catalog.licensed_price(1500)
    for key, noun in (("coupon", "coupon"), ("promotion_code", "promotion code")):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            catalog.subscribe(customer, price, discounts=[{key: "nope"}])
        assert error_of(refused) == {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": f"discounts[0][{key}]",
            "message": f"No such {noun}: 'nope'",
        }
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_discounts_are_replaced_kept_and_removed_on_update(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    first = stripe_client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    second = stripe_client.v1.coupons.create({"amount_off": 100, "currency": "usd", "duration": "forever"})
    subscription = catalog.subscribe(catalog.customer(), catalog.licensed_price(2000), discounts=[{"coupon": first.id}])
    [kept] = subscription.discounts
    events.new()
    updated = stripe_client.v1.subscriptions.update(
        subscription.id, {"discounts": [{"discount": kept}, {"coupon": second.id}]}
    )
    assert updated.discounts[0] == kept and len(updated.discounts) == 2
    assert events.new() == ["customer.discount.created", "customer.subscription.updated"]
    # The renewal takes both: 10 % of 20.00, then 1.00 off.
    preview = catalog.preview(subscription)
    assert preview.discounts == updated.discounts
    assert [d.amount for d in preview.total_discount_amounts] == [200, 100]
    assert preview.total == 1700
    # [] leaves them; "" removes them.
    assert stripe_client.v1.subscriptions.update(subscription.id, {"discounts": []}).discounts == updated.discounts
    assert stripe_client.v1.subscriptions.update(subscription.id, {"discounts": ""}).discounts == []
    assert events.new() == ["customer.discount.deleted", "customer.discount.deleted", "customer.subscription.updated"]
    assert catalog.preview(subscription).total == 2000


def test_a_discount_of_another_subscription_cannot_be_kept(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    customer, price = catalog.customer(), catalog.licensed_price(2000)
    theirs = catalog.subscribe(customer, price, discounts=[{"coupon": coupon.id}])
    mine = catalog.subscribe(customer, catalog.licensed_price(2000))
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.subscriptions.update(mine.id, {"discounts": [{"discount": theirs.discounts[0]}]})
    assert error_of(refused)["param"] == "discounts[0][discount]"
    assert stripe_client.v1.subscriptions.retrieve(mine.id).discounts == []


def test_deleting_a_subscription_s_discount(stripe_client: stripe.StripeClient, catalog: Any, events: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    subscription = catalog.subscribe(catalog.customer(), catalog.licensed_price(2000), discounts=[{"coupon": coupon.id}])
    [discount_id] = subscription.discounts
    events.new()
    deleted = stripe_client.v1.subscriptions.delete_discount(subscription.id)
    assert deleted.to_dict() == {
        "id": discount_id,
        "object": "discount",
        "checkout_session": None,
        "customer": subscription.customer,
        "customer_account": None,
        "deleted": True,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon.id, "type": "coupon"},
        "start": subscription.created,
        "subscription": subscription.id,
        "subscription_item": None,
    }
    assert events.new() == ["customer.discount.deleted", "customer.subscription.updated"]
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).discounts == []
    # The invoice that took it still shows it.
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).total == 1800
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.subscriptions.delete_discount(subscription.id)
    assert again.value.http_status == 404
    assert error_of(again) == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": None,
        "message": f"No active discount for subscription: {subscription.id}",
    }


def test_a_customer_without_a_discount_has_none_to_delete(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    customer = catalog.customer()
    assert customer.discount is None
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.customers.delete_discount(customer.id)
    assert refused.value.http_status == 404
    assert error_of(refused)["message"] == f"No active discount for customer: {customer.id}"


def test_a_preview_shows_the_discounts_that_would_apply(stripe_client: stripe.StripeClient, catalog: Any) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25})
    code = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}})
    customer = catalog.customer()
    price = catalog.licensed_price(2000)
    preview = stripe_client.v1.invoices.create_preview(
        {
            "customer": customer.id,
            "subscription_details": {"items": [{"price": price.id}]},
            "discounts": [{"promotion_code": code.id}],
        }
    )
    [discount_id] = preview.discounts
    assert discount_id.startswith("di_")
    assert (preview.subtotal, preview.total) == (2000, 1500)
    assert [d.to_dict() for d in preview.lines.data[0].discount_amounts] == [{"amount": 500, "discount": discount_id}]
    # A preview redeems nothing.
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 0
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


def test_an_invoice_and_its_items_take_discounts(stripe_client: stripe.StripeClient, catalog: Any, events: Any) -> None:
    customer = catalog.customer()
    item_coupon = stripe_client.v1.coupons.create({"amount_off": 300, "currency": "usd"})
    invoice_coupon = stripe_client.v1.coupons.create({"percent_off": 50})
    item = stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 1000, "currency": "usd", "discounts": [{"coupon": item_coupon.id}]}
    )
    stripe_client.v1.invoice_items.create({"customer": customer.id, "amount": 2000, "currency": "usd"})
    [item_discount] = item.discounts
    invoice = stripe_client.v1.invoices.create(
        {"customer": customer.id, "pending_invoice_items_behavior": "include", "discounts": [{"coupon": invoice_coupon.id}]}
    )
    [invoice_discount] = invoice.discounts
    discounted, plain = sorted(invoice.lines.data, key=lambda line: line.amount)
    # 3.00 off the 10.00 item first, then half of what is left of each line.
    assert [(d.amount, d.discount) for d in discounted.discount_amounts] == [(300, item_discount), (350, invoice_discount)]
    assert [(d.amount, d.discount) for d in plain.discount_amounts] == [(1000, invoice_discount)]
    assert amounts(invoice) == {"subtotal": 2700, "total_excluding_tax": 1350, "total": 1350, "amount_due": 1350}
    assert "customer.discount.created" not in events.new()
    # A draft's discounts change: "" removes its own.
    updated = stripe_client.v1.invoices.update(invoice.id, {"discounts": ""})
    assert (updated.discounts, updated.total) == ([], 2700)
    finalized = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    assert finalized.amount_due == 2700


def test_a_once_coupon_waits_through_a_trial_for_the_first_paid_invoice(
    stripe_client: stripe.StripeClient, catalog: Any
) -> None:
    coupon = stripe_client.v1.coupons.create({"amount_off": 500, "currency": "usd", "duration": "once"})
    flow = Clocked(stripe_client, catalog, discounts=[{"coupon": coupon.id}], trial_period_days=7)
    # The trial's free invoice takes nothing off: the discount stays for the first paid one.
    assert len(flow.refreshed().discounts) == 1
    clocks = stripe_client.v1.test_helpers.test_clocks
    clocks.advance(flow.clock.id, {"frozen_time": at(2026, 1, 8) + 2 * HOUR})
    clocks.advance(flow.clock.id, {"frozen_time": at(2026, 2, 8) + 2 * HOUR})
    assert flow.totals() == [
        ("subscription_create", 0, 0),
        ("subscription_cycle", 2000, 1500),
        ("subscription_cycle", 2000, 2000),
    ]
    assert flow.refreshed().discounts == []


def test_items_take_discounts_on_update_and_through_their_own_endpoint(
    stripe_client: stripe.StripeClient, catalog: Any, events: Any
) -> None:
    tenth = stripe_client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    off = stripe_client.v1.coupons.create({"amount_off": 200, "currency": "usd", "duration": "forever"})
    seats, support = catalog.licensed_price(1000), catalog.licensed_price(3000)
    subscription = catalog.subscribe(catalog.customer(), seats)
    [item] = subscription["items"].data
    events.new()
    updated = stripe_client.v1.subscriptions.update(
        subscription.id,
        {
            "items": [{"id": item.id, "discounts": [{"coupon": tenth.id}]}, {"price": support.id, "discounts": [{"coupon": off.id}]}],
            "proration_behavior": "none",
        },
    )
    first, added = updated["items"].data
    [seats_discount], [support_discount] = first.discounts, added.discounts
    # Discounts of items are not news; the subscription's update carries them.
    assert events.new() == ["customer.subscription.updated"]
    preview = catalog.preview(subscription)
    by_amount = {line.amount: line for line in preview.lines.data}
    assert [d.to_dict() for d in by_amount[1000].discount_amounts] == [{"amount": 100, "discount": seats_discount}]
    assert [d.to_dict() for d in by_amount[3000].discount_amounts] == [{"amount": 200, "discount": support_discount}]
    assert (preview.subtotal, preview.total) == (3700, 3700)

    # /v1/subscription_items: "" removes an item's discounts, a list replaces them.
    cleared = stripe_client.v1.subscription_items.update(first.id, {"discounts": ""})
    assert cleared.discounts == []
    replaced = stripe_client.v1.subscription_items.update(
        added.id, {"discounts": [{"discount": support_discount}, {"coupon": tenth.id}]}
    )
    assert replaced.discounts[0] == support_discount and len(replaced.discounts) == 2
    # 2.00 off 30.00 first, then 10 % of the 28.00 left.
    preview = catalog.preview(subscription)
    assert [d.amount for d in {line.amount: line for line in preview.lines.data}[3000].discount_amounts] == [200, 280]
    third = catalog.licensed_price(500)
    made = stripe_client.v1.subscription_items.create(
        {"subscription": subscription.id, "price": third.id, "discounts": [{"coupon": off.id}], "proration_behavior": "none"}
    )
    [made_discount] = made.discounts
    assert stripe_client.v1.coupons.retrieve(off.id).times_redeemed == 2
    assert made_discount.startswith("di_")


def test_a_coupon_past_redeem_by_and_a_promotion_code_past_expires_at_are_refused(
    stripe_client: stripe.StripeClient, catalog: Any
) -> None:
    # A clock a year ahead of the account's time.
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": int(time.time()) + 365 * 86_400})
    customer = catalog.customer(test_clock=clock.id)
    created = stripe_client.v1.customers.retrieve(customer.id).created
    # Both still valid by the account's own time, but past on the customer's clock once it moves.
    coupon = stripe_client.v1.coupons.create({"percent_off": 10, "redeem_by": created + 86_400})
    code = stripe_client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": stripe_client.v1.coupons.create({"percent_off": 10}).id},
         "expires_at": created + 86_400}
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": created + 2 * 86_400})
    price = catalog.licensed_price(1000)
    with pytest.raises(stripe.InvalidRequestError) as late_coupon:
        catalog.subscribe(customer, price, discounts=[{"coupon": coupon.id}])
    assert (error_of(late_coupon)["code"], error_of(late_coupon)["message"]) == ("coupon_expired", f"Coupon expired: {coupon.id}")
    with pytest.raises(stripe.InvalidRequestError) as late_code:
        catalog.subscribe(customer, price, discounts=[{"promotion_code": code.id}])
    assert error_of(late_code) == {
        "type": "invalid_request_error",
        "code": "coupon_expired",
        "param": "discounts[0][promotion_code]",
        "message": "This promotion code cannot be redeemed because it has expired.",
    }
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_an_amount_off_in_another_currency_and_a_coupon_given_twice_are_refused(
    stripe_client: stripe.StripeClient, catalog: Any
) -> None:
    euros = stripe_client.v1.coupons.create({"amount_off": 100, "currency": "eur"})
    tenth = stripe_client.v1.coupons.create({"percent_off": 10})
    customer, price = catalog.customer(), catalog.licensed_price(1000)
    with pytest.raises(stripe.InvalidRequestError) as other_currency:
        catalog.subscribe(customer, price, discounts=[{"coupon": euros.id}])
    assert error_of(other_currency)["param"] == "discounts[0][coupon]"
    assert error_of(other_currency)["message"] == "This coupon's currency (eur) does not match the currency of this subscription (usd)."
    with pytest.raises(stripe.InvalidRequestError) as twice:
        catalog.subscribe(customer, price, discounts=[{"coupon": tenth.id}, {"coupon": tenth.id}])
    assert error_of(twice)["param"] == "discounts[1][coupon]"
    with pytest.raises(stripe.InvalidRequestError) as both:
        catalog.subscribe(customer, price, discounts=[{"coupon": tenth.id, "promotion_code": "promo_x"}])
    assert error_of(both)["message"] == "You may only specify one of these parameters: coupon, promotion_code."
    assert stripe_client.v1.coupons.retrieve(tenth.id).times_redeemed == 0
    assert stripe_client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_a_discount_that_ended_while_paused_ends_when_the_clock_next_moves(
    stripe_client: stripe.StripeClient, catalog: Any
) -> None:
    clocks = stripe_client.v1.test_helpers.test_clocks
    clock = clocks.create({"frozen_time": at(2026, 1)})
    customer = stripe_client.v1.customers.create({"test_clock": clock.id})  # no card: the trial ends paused
    coupon = stripe_client.v1.coupons.create({"percent_off": 50, "duration": "repeating", "duration_in_months": 1})
    subscription = stripe_client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": catalog.licensed_price(2000).id}],
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
            "discounts": [{"coupon": coupon.id}],
        }
    )
    clocks.advance(clock.id, {"frozen_time": at(2026, 2, 15)})
    paused = stripe_client.v1.subscriptions.retrieve(subscription.id)
    # Paused since January 8th: its discount, past its end (February 1st), is still on it.
    assert (paused.status, len(paused.discounts)) == ("paused", 1)
    stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    resumed = stripe_client.v1.subscriptions.resume(subscription.id, {"expand": ["latest_invoice"]})
    assert resumed.latest_invoice.total == 2000  # the ended discount takes nothing off
    clocks.advance(clock.id, {"frozen_time": at(2026, 2, 16)})
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).discounts == []
    [ended] = stripe_client.v1.events.list({"type": "customer.discount.deleted"}).data
    assert ended.created == at(2026, 2, 15)
    assert clocks.retrieve(clock.id).frozen_time == at(2026, 2, 16)
