"""`/v1/subscriptions`: create, retrieve, update, cancel, list."""

from __future__ import annotations

import calendar
import math
from datetime import datetime, timezone

import pytest
import stripe

MONTH_AT_MOST = 31 * 86_400


class TestCreate:
    def test_the_guide_subscription(self, catalog, stripe_client, sdk_fields) -> None:
        price = catalog.metered_price()
        customer = catalog.customer()

        subscription = stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})

        assert subscription.id.startswith("sub_1") and len(subscription.id) == 28
        assert subscription.object == "subscription"
        assert (subscription.status, subscription.customer, subscription.currency) == ("active", customer.id, "usd")
        assert subscription.billing_mode.type == "flexible"
        assert subscription.latest_invoice is None
        assert subscription.collection_method == "charge_automatically"
        assert subscription.billing_cycle_anchor == subscription.start_date == subscription.created
        assert (subscription.cancel_at_period_end, subscription.canceled_at, subscription.ended_at) == (False, None, None)
        assert set(subscription.to_dict()) == sdk_fields(stripe.Subscription)
        assert not {"current_period_start", "current_period_end"} & set(subscription.to_dict())

        items = subscription["items"]
        assert (items.object, items.has_more) == ("list", False)
        assert items.url == f"/v1/subscription_items?subscription={subscription.id}"
        [item] = items.data
        assert item.id.startswith("si_")
        assert (item.object, item.subscription, item.quantity) == ("subscription_item", subscription.id, None)
        assert item.price.id == price.id and item.price.object == "price"
        assert item.price.recurring.meter == price.recurring.meter
        assert item.current_period_start == subscription.start_date
        assert 28 * 86_400 <= item.current_period_end - item.current_period_start <= MONTH_AT_MOST
        assert set(item.to_dict()) == sdk_fields(stripe.SubscriptionItem)

        assert stripe_client.v1.invoices.list({"customer": customer.id}).data == []
        assert stripe_client.v1.customers.retrieve(customer.id).currency == "usd"

    def test_the_plan_mirrors_the_price(self, catalog) -> None:
        price = catalog.metered_price()
        subscription = catalog.subscribe(catalog.customer(), price)

        plan = subscription["items"].data[0].plan

        assert (plan.id, plan.object, plan.amount, str(plan.amount_decimal)) == (price.id, "plan", 4, "4")
        assert (plan.interval, plan.interval_count, plan.usage_type) == ("month", 1, "metered")
        assert (plan.meter, plan.product, plan.billing_scheme) == (price.recurring.meter, price.product, "per_unit")
        assert plan.transform_usage.to_dict() == {"divide_by": 100, "round": "up"}

    def test_licensed_items_default_to_a_quantity_of_one(self, catalog) -> None:
        seats, extras = catalog.licensed_price(1000), catalog.licensed_price(200)
        subscription = catalog.client.v1.subscriptions.create(
            {"customer": catalog.customer().id, "items": [{"price": seats.id}, {"price": extras.id, "quantity": 4}]}
        )

        assert [item.quantity for item in subscription["items"].data] == [1, 4]

    def test_item_metadata(self, catalog) -> None:
        subscription = catalog.client.v1.subscriptions.create(
            {
                "customer": catalog.customer().id,
                "items": [{"price": catalog.metered_price().id, "metadata": {"team": "a"}}],
                "metadata": {"order": "42"},
                "description": "Alpaca plan",
            }
        )

        assert subscription["items"].data[0].metadata.to_dict() == {"team": "a"}
        assert subscription.metadata.to_dict() == {"order": "42"}
        assert subscription.description == "Alpaca plan"

    def test_expand(self, catalog) -> None:
        price = catalog.metered_price()
        customer = catalog.customer()

        subscription = catalog.subscribe(
            customer,
            price,
            billing_mode={"type": "classic"},
            expand=["latest_invoice", "customer", "items.data.price.product"],
        )

        assert subscription.customer.id == customer.id
        assert subscription.latest_invoice.object == "invoice"
        assert subscription.latest_invoice.billing_reason == "subscription_create"
        product = subscription["items"].data[0].price.product
        assert (product.object, product.id, product.name) == ("product", price.product, "Alpaca AI tokens")

    def test_billing_cycle_anchor_starts_a_short_first_period(self, catalog) -> None:
        price = catalog.metered_price()
        customer = catalog.customer()
        probe = catalog.subscribe(customer, price)
        anchor = probe.start_date + 10 * 86_400

        subscription = catalog.subscribe(customer, price, billing_cycle_anchor=anchor)

        item = subscription["items"].data[0]
        assert subscription.billing_cycle_anchor == anchor
        assert (item.current_period_start, item.current_period_end) == (subscription.start_date, anchor)

    def test_billing_cycle_anchor_within_one_period(self, catalog, raw) -> None:
        price = catalog.metered_price()
        customer = catalog.customer()
        now = catalog.subscribe(customer, price).start_date

        too_late = raw.post(
            "/v1/subscriptions",
            {"customer": customer.id, "items[0][price]": price.id, "billing_cycle_anchor": now + 40 * 86_400},
        )
        past = raw.post(
            "/v1/subscriptions",
            {"customer": customer.id, "items[0][price]": price.id, "billing_cycle_anchor": now - 86_400},
        )

        assert too_late.status == past.status == 400
        assert too_late.error["param"] == past.error["param"] == "billing_cycle_anchor"
        assert too_late.error["message"].startswith("billing_cycle_anchor cannot be later than next natural billing date (")

    def test_send_invoice(self, catalog) -> None:
        subscription = catalog.subscribe(
            catalog.customer(), catalog.licensed_price(1000), collection_method="send_invoice", days_until_due=30
        )

        invoice = catalog.client.v1.invoices.retrieve(subscription.latest_invoice)
        assert (subscription.collection_method, subscription.days_until_due) == ("send_invoice", 30)
        assert (invoice.status, invoice.amount_due, invoice.amount_remaining) == ("open", 1000, 1000)
        assert invoice.due_date == invoice.created + 30 * 86_400

    def test_days_until_due_goes_with_send_invoice(self, catalog, raw) -> None:
        customer, price = catalog.customer(), catalog.metered_price()
        base = {"customer": customer.id, "items[0][price]": price.id}

        without_send_invoice = raw.post("/v1/subscriptions", {**base, "days_until_due": 30})
        without_days = raw.post("/v1/subscriptions", {**base, "collection_method": "send_invoice"})

        assert without_send_invoice.status == 400 and without_send_invoice.error["param"] == "days_until_due"
        assert without_days.status == 400 and without_days.error["code"] == "parameter_missing"


class TestCreateErrors:
    def test_quantity_is_refused_on_metered_items(self, catalog, raw) -> None:
        customer, price = catalog.customer(), catalog.metered_price()

        reply = raw.post(
            "/v1/subscriptions", {"customer": customer.id, "items[0][price]": price.id, "items[0][quantity]": "1"}
        )

        assert reply.status == 400
        assert reply.error["type"] == "invalid_request_error"
        assert reply.error["param"] == "items[0][quantity]"
        assert reply.error["message"] == "You cannot set the quantity for metered plans."

    def test_items_share_one_currency(self, catalog, raw) -> None:
        customer = catalog.customer()
        usd, eur = catalog.metered_price(), catalog.licensed_price(500, currency="eur")

        reply = raw.post(
            "/v1/subscriptions", {"customer": customer.id, "items[0][price]": usd.id, "items[1][price]": eur.id}
        )

        assert reply.status == 400
        assert reply.error["param"] == "items[1][price]"
        assert reply.error["message"] == (
            "The price specified only supports `eur`. This doesn't match the expected currency: `usd`."
        )
        assert catalog.client.v1.subscriptions.list({"customer": customer.id}).data == []

    def test_a_customer_keeps_its_currency(self, catalog, raw) -> None:
        customer = catalog.customer()
        catalog.subscribe(customer, catalog.metered_price())
        eur = catalog.licensed_price(500, currency="eur")

        reply = raw.post("/v1/subscriptions", {"customer": customer.id, "items[0][price]": eur.id})

        assert reply.status == 400
        assert reply.error["message"].startswith("You cannot combine currencies on a single customer.")
        assert reply.error["message"].endswith("with currency usd.")

    @pytest.mark.parametrize(
        ("body", "param", "code"),
        [
            ({"items[0][price]": "{price}"}, "customer", "parameter_missing"),
            ({"customer": "{customer}"}, "items", "parameter_missing"),
            ({"customer": "cus_missing", "items[0][price]": "{price}"}, "customer", "resource_missing"),
            ({"customer": "{customer}", "items[0][price]": "price_missing"}, "items[0][price]", "resource_missing"),
            ({"customer": "{customer}", "items[0][quantity]": "1"}, "items[0][price]", "parameter_missing"),
            ({"customer": "{customer}", "items[0][price]": "{price}", "trial_period_days": "731"}, "trial_period_days", None),
            ({"customer": "{customer}", "items[0][price]": "{price}", "billing_mode[type]": "x"}, "billing_mode[type]", None),
            ({"customer": "{customer}", "items[0][price]": "{price}", "bogus": "1"}, "bogus", "parameter_unknown"),
        ],
    )
    def test_params(self, catalog, raw, body, param, code) -> None:
        customer, price = catalog.customer(), catalog.metered_price()
        filled = {k: v.format(customer=customer.id, price=price.id) for k, v in body.items()}

        reply = raw.post("/v1/subscriptions", filled)

        assert reply.status == 400
        assert (reply.error["param"], reply.error.get("code")) == (param, code)

    def test_at_most_twenty_items(self, catalog, raw) -> None:
        customer = catalog.customer()
        body = {"customer": customer.id, **{f"items[{i}][price]": f"price_{i}" for i in range(21)}}

        reply = raw.post("/v1/subscriptions", body)

        assert reply.status == 400
        assert reply.error["param"] == "items"

    def test_one_time_and_inactive_prices_are_refused(self, catalog, stripe_client, raw) -> None:
        customer = catalog.customer()
        one_time = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 100, "product_data": {"name": "x"}})
        inactive = catalog.licensed_price(100, active=False)

        for price, words in ((one_time, "`type=one_time`"), (inactive, "inactive")):
            reply = raw.post("/v1/subscriptions", {"customer": customer.id, "items[0][price]": price.id})
            assert reply.status == 400
            assert reply.error["param"] == "items[0][price]"
            assert words in reply.error["message"]

    def test_the_same_price_twice(self, catalog, raw) -> None:
        customer, price = catalog.customer(), catalog.metered_price()

        reply = raw.post(
            "/v1/subscriptions", {"customer": customer.id, "items[0][price]": price.id, "items[1][price]": price.id}
        )

        assert reply.status == 400
        assert reply.error["param"] == "items[1][price]"


class TestFirstInvoice:
    def test_classic_bills_a_zero_line_and_is_paid(self, catalog, stripe_client) -> None:
        price = catalog.metered_price()
        customer = catalog.customer()

        subscription = catalog.subscribe(customer, price, billing_mode={"type": "classic"})

        assert subscription.billing_mode.type == "classic"
        invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
        assert invoice.id.startswith("in_1")
        assert (invoice.billing_reason, invoice.status, invoice.customer) == ("subscription_create", "paid", customer.id)
        assert (invoice.total, invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == (0, 0, 0, 0)
        assert invoice.number == f"{customer.invoice_prefix}-0001"
        assert invoice.status_transitions.finalized_at == invoice.status_transitions.paid_at == subscription.created
        assert invoice.parent.subscription_details.subscription == subscription.id
        [line] = invoice.lines.data
        assert line.id.startswith("il_1")
        assert (line.amount, line.quantity, line.invoice) == (0, 0, invoice.id)
        assert line.parent.subscription_item_details.subscription_item == subscription["items"].data[0].id
        assert stripe_client.v1.customers.retrieve(customer.id).next_invoice_sequence == 2

    def test_invoice_numbers_follow_the_customer_sequence(self, catalog, stripe_client) -> None:
        customer = catalog.customer()
        first = catalog.subscribe(customer, catalog.metered_price(), billing_mode={"type": "classic"})
        second = catalog.subscribe(customer, catalog.metered_price(), billing_mode={"type": "classic"})

        numbers = [stripe_client.v1.invoices.retrieve(s.latest_invoice).number for s in (first, second)]

        assert numbers == [f"{customer.invoice_prefix}-0001", f"{customer.invoice_prefix}-0002"]

    def test_flexible_metered_only_creates_none(self, catalog, stripe_client) -> None:
        customer = catalog.customer()
        subscription = catalog.subscribe(customer, catalog.metered_price(), billing_mode={"type": "flexible"})

        assert subscription.latest_invoice is None
        assert stripe_client.v1.invoices.list({"customer": customer.id}).data == []
        assert stripe_client.v1.customers.retrieve(customer.id).next_invoice_sequence == 1

    @pytest.mark.parametrize("mode", ["classic", "flexible"])
    def test_licensed_items_are_billed_in_advance(self, catalog, stripe_client, mode) -> None:
        seats, usage = catalog.licensed_price(1500), catalog.metered_price()
        customer = catalog.customer()
        subscription = stripe_client.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": seats.id, "quantity": 2}, {"price": usage.id}],
                "billing_mode": {"type": mode},
            }
        )

        invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
        item = subscription["items"].data[0]
        amounts = [line.amount for line in invoice.lines.data]
        assert amounts == ([3000, 0] if mode == "classic" else [3000])
        seats_line = invoice.lines.data[0]
        assert (seats_line.period.start, seats_line.period.end) == (item.current_period_start, item.current_period_end)
        # No payment methods here: an amount due is collected as if the charge succeeded.
        assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == ("paid", 3000, 0)
        assert subscription.status == "active"

    def test_customer_credit_pays_first(self, catalog, stripe_client) -> None:
        customer = catalog.customer(balance=-1000)
        subscription = catalog.subscribe(customer, catalog.licensed_price(600))

        invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)

        assert (invoice.starting_balance, invoice.ending_balance, invoice.amount_due) == (-1000, -400, 0)
        assert invoice.status == "paid"
        assert stripe_client.v1.customers.retrieve(customer.id).balance == -400

    def test_a_later_anchor_prorates_the_first_period(self, catalog, stripe_client) -> None:
        price = catalog.licensed_price(3000)
        customer = catalog.customer()
        now = catalog.subscribe(customer, catalog.metered_price()).start_date
        anchor = now + 10 * 86_400

        subscription = catalog.subscribe(customer, price, billing_cycle_anchor=anchor)

        [line] = stripe_client.v1.invoices.retrieve(subscription.latest_invoice).lines.data
        # The wall clock may tick between the two subscriptions: prorate from this one's start.
        start = subscription.start_date
        whole_period = anchor - _month_before(anchor)
        assert line.amount == math.floor(3000 * (anchor - start) / whole_period + 0.5)
        assert line.parent.subscription_item_details.proration is True
        assert (line.period.start, line.period.end) == (start, anchor)


def _month_before(t: int) -> int:
    """The same day and time a calendar month earlier, clamped to the end of a shorter month."""
    moment = datetime.fromtimestamp(t, timezone.utc)
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class TestRetrieveUpdateCancel:
    def test_retrieve(self, catalog, stripe_client, raw) -> None:
        subscription = catalog.subscribe(catalog.customer(), catalog.metered_price())

        assert stripe_client.v1.subscriptions.retrieve(subscription.id).to_dict() == subscription.to_dict()
        missing = raw.get("/v1/subscriptions/sub_missing")
        assert missing.status == 404
        assert missing.error["message"] == "No such subscription: 'sub_missing'"

    def test_update_plain_fields(self, catalog, stripe_client) -> None:
        subscription = catalog.subscribe(catalog.customer(), catalog.metered_price(), metadata={"a": "1"})

        updated = stripe_client.v1.subscriptions.update(
            subscription.id,
            {
                "metadata": {"b": "2"},
                "description": "renamed",
                "cancel_at_period_end": True,
                "collection_method": "send_invoice",
                "days_until_due": 14,
            },
        )

        assert updated.metadata.to_dict() == {"a": "1", "b": "2"}
        assert (updated.description, updated.cancel_at_period_end) == ("renamed", True)
        assert (updated.collection_method, updated.days_until_due) == ("send_invoice", 14)
        assert stripe_client.v1.subscriptions.retrieve(subscription.id).to_dict() == updated.to_dict()

    def test_update_items(self, catalog, stripe_client) -> None:
        usage, seats, extra = catalog.metered_price(), catalog.licensed_price(1000), catalog.licensed_price(300)
        subscription = catalog.subscribe(catalog.customer(), usage, seats)
        usage_item, seats_item = subscription["items"].data

        updated = stripe_client.v1.subscriptions.update(
            subscription.id,
            {
                "items": [
                    {"id": usage_item.id, "deleted": True},
                    {"id": seats_item.id, "quantity": 5, "metadata": {"k": "v"}},
                    {"price": extra.id, "quantity": 2},
                ]
            },
        )

        kept, added = updated["items"].data
        assert (kept.id, kept.quantity, kept.metadata.to_dict()) == (seats_item.id, 5, {"k": "v"})
        assert (added.price.id, added.quantity, added.subscription) == (extra.id, 2, subscription.id)
        assert stripe_client.v1.subscription_items.retrieve(added.id).quantity == 2
        with pytest.raises(stripe.InvalidRequestError):
            stripe_client.v1.subscription_items.retrieve(usage_item.id)

    def test_update_rejects_before_changing_anything(self, catalog, stripe_client, raw) -> None:
        usage = catalog.metered_price()
        subscription = catalog.subscribe(catalog.customer(), usage)
        item = subscription["items"].data[0]

        quantity = raw.post(
            f"/v1/subscriptions/{subscription.id}",
            {"description": "x", "items[0][id]": item.id, "items[0][quantity]": "3"},
        )
        last = raw.post(f"/v1/subscriptions/{subscription.id}", {"items[0][id]": item.id, "items[0][deleted]": "true"})

        assert quantity.status == 400 and quantity.error["param"] == "items[0][quantity]"
        assert last.status == 400
        assert stripe_client.v1.subscriptions.retrieve(subscription.id).to_dict() == subscription.to_dict()

    def test_cancel(self, catalog, stripe_client, raw) -> None:
        subscription = catalog.subscribe(catalog.customer(), catalog.metered_price())

        canceled = stripe_client.v1.subscriptions.cancel(
            subscription.id, {"cancellation_details": {"comment": "too pricey", "feedback": "too_expensive"}}
        )

        assert (canceled.id, canceled.object, canceled.status) == (subscription.id, "subscription", "canceled")
        assert canceled.canceled_at == canceled.ended_at
        assert canceled.canceled_at >= subscription.created
        assert canceled.cancellation_details.to_dict() == {
            "comment": "too pricey",
            "feedback": "too_expensive",
            "feedback_option": None,
            "reason": "cancellation_requested",
        }
        assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
        again = raw.delete(f"/v1/subscriptions/{subscription.id}")
        assert again.status == 400
        frozen = raw.post(f"/v1/subscriptions/{subscription.id}", {"description": "x"})
        assert frozen.status == 400
        assert stripe_client.v1.subscriptions.update(subscription.id, {"metadata": {"a": "b"}}).metadata.a == "b"


class TestList:
    def test_filters(self, catalog, stripe_client) -> None:
        usage, seats = catalog.metered_price(), catalog.licensed_price(1000)
        alice, bob = catalog.customer(), catalog.customer()
        a1 = catalog.subscribe(alice, usage)
        a2 = catalog.subscribe(alice, seats)
        b1 = catalog.subscribe(bob, usage)
        stripe_client.v1.subscriptions.cancel(a1.id)

        def ids(**params):
            return [s.id for s in stripe_client.v1.subscriptions.list(params).data]

        assert ids() == [b1.id, a2.id]
        assert ids(status="all") == [b1.id, a2.id, a1.id]
        assert ids(status="canceled") == [a1.id]
        assert ids(status="ended") == [a1.id]
        assert ids(customer=alice.id) == [a2.id]
        assert ids(customer=alice.id, status="all") == [a2.id, a1.id]
        assert ids(price=usage.id, status="all") == [b1.id, a1.id]
        assert ids(price=seats.id) == [a2.id]

    def test_pagination(self, catalog, stripe_client) -> None:
        customer, price = catalog.customer(), catalog.metered_price()
        made = [catalog.subscribe(customer, price).id for _ in range(3)]

        page = stripe_client.v1.subscriptions.list({"limit": 2})
        rest = stripe_client.v1.subscriptions.list({"limit": 2, "starting_after": page.data[-1].id})

        assert ([s.id for s in page.data], page.has_more, page.url) == (made[:0:-1], True, "/v1/subscriptions")
        assert ([s.id for s in rest.data], rest.has_more) == ([made[0]], False)


def test_deleting_the_customer_cancels_its_subscriptions(catalog, stripe_client) -> None:
    customer = catalog.customer()
    subscription = catalog.subscribe(customer, catalog.metered_price())
    other = catalog.subscribe(catalog.customer(), catalog.metered_price())

    stripe_client.v1.customers.delete(customer.id)

    canceled = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert canceled.status == "canceled"
    assert canceled.ended_at is not None and canceled.canceled_at == canceled.ended_at
    assert stripe_client.v1.subscriptions.retrieve(other.id).status == "active"
