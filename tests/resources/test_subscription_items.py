"""`/v1/subscription_items`: list, create, retrieve, update, delete."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import stripe

from mockstripe.clock import FrozenClock


def _utc(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=timezone.utc).timestamp())


def test_list_in_the_order_items_were_added(catalog, stripe_client) -> None:
    prices = [catalog.licensed_price(100 * n) for n in range(1, 4)]
    subscription = catalog.subscribe(catalog.customer(), *prices)
    ids = [item.id for item in subscription["items"].data]

    everything = stripe_client.v1.subscription_items.list({"subscription": subscription.id})
    page = stripe_client.v1.subscription_items.list({"subscription": subscription.id, "limit": 2})
    rest = stripe_client.v1.subscription_items.list(
        {"subscription": subscription.id, "limit": 2, "starting_after": page.data[-1].id}
    )

    assert [item.id for item in everything.data] == ids
    assert (everything.url, everything.has_more) == ("/v1/subscription_items", False)
    assert ([i.id for i in page.data], page.has_more) == (ids[:2], True)
    assert ([i.id for i in rest.data], rest.has_more) == (ids[2:], False)
    assert everything.data[0].to_dict() == subscription["items"].data[0].to_dict()


def test_list_needs_a_subscription(raw) -> None:
    missing = raw.get("/v1/subscription_items")
    unknown = raw.get("/v1/subscription_items?subscription=sub_missing")

    assert (missing.status, missing.error["code"], missing.error["param"]) == (400, "parameter_missing", "subscription")
    assert (unknown.status, unknown.error["code"], unknown.error["param"]) == (400, "resource_missing", "subscription")


def test_create(catalog, stripe_client, sdk_fields) -> None:
    subscription = catalog.subscribe(catalog.customer(), catalog.metered_price())
    seats = catalog.licensed_price(900)

    item = stripe_client.v1.subscription_items.create(
        {"subscription": subscription.id, "price": seats.id, "quantity": 3, "metadata": {"role": "seat"}}
    )

    assert item.id.startswith("si_")
    assert (item.object, item.subscription, item.quantity) == ("subscription_item", subscription.id, 3)
    assert (item.price.id, item.plan.id, item.metadata.to_dict()) == (seats.id, seats.id, {"role": "seat"})
    first = subscription["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (first.current_period_start, first.current_period_end)
    assert set(item.to_dict()) == sdk_fields(stripe.SubscriptionItem)
    listed = stripe_client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert [i.id for i in listed] == [first.id, item.id]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"quantity": "2"}, "quantity"),
        ({"price": "{same}"}, "price"),
        ({"price": "{eur}"}, "price"),
        ({"price": "price_missing"}, "price"),
        ({"subscription": "sub_missing"}, "subscription"),
        ({"tax_rates[0]": "txr_missing"}, "tax_rates[0]"),
    ],
)
def test_create_refusals(catalog, stripe_client, raw, body, param) -> None:
    metered = catalog.metered_price()
    subscription = catalog.subscribe(catalog.customer(), metered)
    other = catalog.metered_price()
    eur = catalog.licensed_price(100, currency="eur")
    base = {"subscription": subscription.id, "price": other.id}
    filled = {k: v.format(same=metered.id, eur=eur.id) for k, v in {**base, **body}.items()}

    reply = raw.post("/v1/subscription_items", filled)

    assert reply.status == 400
    assert reply.error["param"] == param
    assert len(stripe_client.v1.subscriptions.retrieve(subscription.id)["items"].data) == 1


def test_retrieve_and_update(catalog, stripe_client, raw) -> None:
    seats, bigger = catalog.licensed_price(1000), catalog.licensed_price(2000)
    subscription = catalog.subscribe(catalog.customer(), seats)
    item = subscription["items"].data[0]

    assert stripe_client.v1.subscription_items.retrieve(item.id).to_dict() == item.to_dict()
    updated = stripe_client.v1.subscription_items.update(
        item.id, {"quantity": 7, "metadata": {"a": "1"}, "price": bigger.id}
    )

    assert (updated.quantity, updated.metadata.to_dict(), updated.price.id, updated.plan.amount) == (
        7, {"a": "1"}, bigger.id, 2000,
    )
    assert stripe_client.v1.subscriptions.retrieve(subscription.id)["items"].data[0].to_dict() == updated.to_dict()
    assert raw.get("/v1/subscription_items/si_missing").status == 404


def test_metered_items_take_no_quantity(catalog, raw) -> None:
    subscription = catalog.subscribe(catalog.customer(), catalog.metered_price())
    item = subscription["items"].data[0]

    reply = raw.post(f"/v1/subscription_items/{item.id}", {"quantity": "2"})

    assert reply.status == 400
    assert (reply.error["param"], reply.error["message"]) == ("quantity", "You cannot set the quantity for metered plans.")


def test_delete(catalog, stripe_client, raw) -> None:
    subscription = catalog.subscribe(catalog.customer(), catalog.metered_price(), catalog.licensed_price(100))
    usage_item, seats_item = subscription["items"].data

    deleted = stripe_client.v1.subscription_items.delete(usage_item.id)

    assert deleted.to_dict() == {"id": usage_item.id, "object": "subscription_item", "deleted": True}
    remaining = stripe_client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert [i.id for i in remaining] == [seats_item.id]
    assert raw.get(f"/v1/subscription_items/{usage_item.id}").status == 404
    last = raw.delete(f"/v1/subscription_items/{seats_item.id}")
    assert last.status == 400
    assert last.error["message"].startswith("A subscription must have at least one active plan.")


def test_items_of_a_canceled_subscription_are_frozen(catalog, stripe_client, raw) -> None:
    subscription = catalog.subscribe(catalog.customer(), catalog.licensed_price(100))
    stripe_client.v1.subscriptions.cancel(subscription.id)

    reply = raw.post("/v1/subscription_items", {"subscription": subscription.id, "price": catalog.licensed_price(5).id})

    assert reply.status == 400


async def test_periods_follow_the_anchor_to_month_ends(in_process, catalog_async) -> None:
    """An anchor on Jan 31 (2024, a leap year): the first period ends Feb 29, the next Mar 31."""
    in_process.account.clock = FrozenClock(_utc(2024, 1, 31, 9))
    subscription = await catalog_async.subscribe_to_seats(quantity=1)

    item = subscription["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (_utc(2024, 1, 31, 9), _utc(2024, 2, 29, 9))
    preview = await in_process.client.v1.invoices.create_preview_async({"subscription": subscription.id})
    assert (preview.lines.data[0].period.start, preview.lines.data[0].period.end) == (
        _utc(2024, 2, 29, 9),
        _utc(2024, 3, 31, 9),
    )


async def test_a_later_anchor_on_a_month_end(in_process, catalog_async) -> None:
    in_process.account.clock = FrozenClock(_utc(2023, 1, 20))
    subscription = await catalog_async.subscribe_to_seats(quantity=1, billing_cycle_anchor=_utc(2023, 1, 31))

    item = subscription["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (_utc(2023, 1, 20), _utc(2023, 1, 31))
    preview = await in_process.client.v1.invoices.create_preview_async({"subscription": subscription.id})
    assert (preview.lines.data[0].period.start, preview.lines.data[0].period.end) == (
        _utc(2023, 1, 31),
        _utc(2023, 2, 28),
    )
