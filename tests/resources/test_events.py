"""Events: what each change records, `GET /v1/events` with its filters, and the order of events an
action sends (the usage-based billing guide's flow, a test clock advance)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import stripe

from mockstripe.clock import FrozenClock
from mockstripe.domain.events import RETENTION

HOUR = 3600
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())


def events_of(client: stripe.StripeClient, **params: object) -> list[stripe.Event]:
    """The account's events, oldest first."""
    listed = client.v1.events.list({"limit": 100, **params}).data
    return list(reversed(listed))


def types_of(client: stripe.StripeClient, **params: object) -> list[str]:
    return [event.type for event in events_of(client, **params)]


def test_a_created_customer_records_customer_created_with_the_request_that_made_it(stripe_client) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny", "metadata": {"plan": "pro"}})

    [event] = events_of(stripe_client)

    assert event.id.startswith("evt_1") and event.object == "event"
    assert event.type == "customer.created"
    assert event.data.object.to_dict() == customer.to_dict()
    assert "previous_attributes" not in event.data
    assert event.request.id == customer.last_response.request_id
    # The SDK sends an idempotency key with every POST.
    assert event.request.idempotency_key == customer.last_response.headers["Idempotency-Key"]
    assert event.livemode is False and event.pending_webhooks == 0
    assert event.api_version == customer.last_response.headers["Stripe-Version"]
    assert event.created == customer.created


def test_an_update_records_the_old_values_of_exactly_what_changed(stripe_client) -> None:
    customer = stripe_client.v1.customers.create(
        {"name": "Jenny", "email": "jenny@example.com", "metadata": {"a": "1", "b": "2"}}
    )
    stripe_client.v1.customers.update(customer.id, {"name": "Jen", "email": "jenny@example.com", "metadata": {"b": "3"}})

    event = events_of(stripe_client)[-1]

    assert event.type == "customer.updated"
    assert event.data.object.name == "Jen" and event.data.object.metadata.to_dict() == {"a": "1", "b": "3"}
    # The email was sent unchanged; of the metadata only the changed key appears.
    assert event.data.previous_attributes.to_dict() == {"name": "Jenny", "metadata": {"b": "2"}}


def test_an_update_that_changes_nothing_records_no_event(stripe_client) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny"})
    stripe_client.v1.customers.update(customer.id, {"name": "Jenny"})

    assert types_of(stripe_client) == ["customer.created"]


def test_the_snapshot_does_not_follow_later_changes(stripe_client) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny"})
    stripe_client.v1.customers.update(customer.id, {"name": "Jen"})

    created = events_of(stripe_client, type="customer.created")[0]

    assert created.data.object.name == "Jenny"


def test_a_deletion_records_the_object_as_it_was(stripe_client) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny"})
    stripe_client.v1.customers.delete(customer.id)

    deleted = events_of(stripe_client)[-1]

    assert deleted.type == "customer.deleted"
    assert deleted.data.object.id == customer.id and deleted.data.object.name == "Jenny"


def test_an_idempotent_replay_records_no_second_event(stripe_client, raw) -> None:
    first = raw.post("/v1/customers", {"name": "Jenny"}, headers={"Idempotency-Key": "key-1"})
    replay = raw.post("/v1/customers", {"name": "Jenny"}, headers={"Idempotency-Key": "key-1"})

    assert replay.headers["Idempotent-Replayed"] == "true"
    [event] = events_of(stripe_client)
    assert (event.request.id, event.request.idempotency_key) == (first.headers["Request-Id"], "key-1")


def test_a_writes_answer_is_the_object_its_last_event_recorded(raw) -> None:
    created = raw.post("/v1/customers", {"name": "Jenny", "metadata[plan]": "pro"})
    updated = raw.post(f"/v1/customers/{created.body['id']}", {"email": "jenny@example.com", "metadata[plan]": ""})
    expanded = raw.post(f"/v1/customers/{created.body['id']}", {"name": "J", "expand[]": "test_clock"})

    events = raw.get("/v1/events").body["data"]
    assert [event["data"]["object"] for event in reversed(events)] == [created.body, updated.body, expanded.body]
    assert updated.body["metadata"] == {} and updated.body["email"] == "jenny@example.com"
    assert raw.get(f"/v1/customers/{created.body['id']}").body == expanded.body


def test_events_belong_to_their_account(stripe_client, mockstripe_url) -> None:
    stripe_client.v1.customers.create({"name": "Jenny"})
    other = stripe.StripeClient("sk_test_another_account_for_events", base_addresses={"api": mockstripe_url})
    event = events_of(stripe_client)[0]

    assert other.v1.events.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as raised:
        other.v1.events.retrieve(event.id)
    assert raised.value.http_status == 404
    assert raised.value.error.message == f"No such event: '{event.id}'"
    assert raised.value.error.param == "id"


def test_list_filters_by_type_with_a_wildcard_by_types_and_by_created(stripe_client, catalog) -> None:
    catalog.licensed_price()  # product.created, price.created
    customer = stripe_client.v1.customers.create({"name": "John Doe"})
    stripe_client.v1.customers.update(customer.id, {"name": "Jen"})

    assert types_of(stripe_client, type="customer.*") == ["customer.created", "customer.updated"]
    assert types_of(stripe_client, type="price.created") == ["price.created"]
    assert types_of(stripe_client, types=["product.created", "customer.updated"]) == [
        "product.created",
        "customer.updated",
    ]
    created = events_of(stripe_client)[0].created
    assert len(events_of(stripe_client, created={"gte": created})) == 4
    assert events_of(stripe_client, created={"lt": created}) == []


def test_type_and_types_together_are_refused(stripe_client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.events.list({"type": "customer.created", "types": ["customer.updated"]})

    assert raised.value.http_status == 400
    assert raised.value.error.message == "You may only specify one of these parameters: type, types."


def test_lists_page_newest_first(stripe_client) -> None:
    for name in ("a", "b", "c"):
        stripe_client.v1.customers.create({"name": name})
    first = stripe_client.v1.events.list({"limit": 2})
    rest = stripe_client.v1.events.list({"limit": 2, "starting_after": first.data[-1].id})

    assert [e.data.object.name for e in first.data] == ["c", "b"] and first.has_more
    assert [e.data.object.name for e in rest.data] == ["a"] and not rest.has_more


async def test_events_are_kept_thirty_days(in_process) -> None:
    clock = in_process.account.clock = FrozenClock(T0)
    client = in_process.client
    await client.v1.customers.create_async({"name": "Old"})
    clock.frozen_time += RETENTION - 1
    await client.v1.customers.create_async({"name": "New"})
    assert len((await client.v1.events.list_async()).data) == 2

    clock.frozen_time += 1
    await client.v1.customers.create_async({"name": "Newer"})

    listed = (await client.v1.events.list_async()).data
    assert [e.data.object.name for e in listed] == ["Newer", "New"]


def test_the_guides_flow_sends_its_events_in_order(stripe_client, catalog) -> None:
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    # The guide's customer has no card: its first invoice is $0.
    customer = stripe_client.v1.customers.create({"name": "John Doe"})
    subscription = catalog.subscribe(customer, price, billing_mode={"type": "classic"})

    assert types_of(stripe_client) == [
        "billing.meter.created",
        "product.created",
        "price.created",
        "customer.created",
        # The subscription sets the customer's currency.
        "customer.updated",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    events = events_of(stripe_client)
    created = events[5].data.object
    assert created.id == subscription.id and created.latest_invoice == subscription.latest_invoice
    assert events[6].data.object.status == "draft"
    assert events[7].data.object.status == "open"
    assert events[8].data.object.status == "paid"
    assert {e.request.id for e in events[4:]} == {subscription.last_response.request_id}


def test_meter_deactivation_and_reactivation(stripe_client, catalog) -> None:
    meter = catalog.meter()
    stripe_client.v1.billing.meters.update(meter.id, {"display_name": "Tokens"})
    stripe_client.v1.billing.meters.deactivate(meter.id)
    stripe_client.v1.billing.meters.reactivate(meter.id)

    events = events_of(stripe_client)
    assert [e.type for e in events] == [
        "billing.meter.created",
        "billing.meter.updated",
        "billing.meter.deactivated",
        "billing.meter.reactivated",
    ]
    assert events[1].data.previous_attributes.display_name == "Alpaca AI tokens"
    assert events[2].data.object.status == "inactive"


def test_item_changes_are_subscription_updates_with_the_items_as_they_were(stripe_client, catalog) -> None:
    customer = catalog.customer()
    seat = catalog.licensed_price()
    subscription = catalog.subscribe(customer, seat, quantity=None)
    item = subscription["items"].data[0]
    stripe_client.v1.subscription_items.update(item.id, {"quantity": 3, "proration_behavior": "none"})

    event = events_of(stripe_client)[-1]

    assert event.type == "customer.subscription.updated"
    assert event.data.object["items"].data[0].quantity == 3
    assert event.data.previous_attributes["items"].data[0].quantity == 1


def test_cancelling_sends_customer_subscription_deleted(stripe_client, catalog) -> None:
    subscription = catalog.subscribe(catalog.customer(), catalog.licensed_price())
    stripe_client.v1.subscriptions.cancel(subscription.id)

    event = events_of(stripe_client)[-1]

    assert event.type == "customer.subscription.deleted"
    assert event.data.object.status == "canceled"


def test_a_test_clock_advance_sends_what_it_billed_in_order_as_the_servers_doing(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    subscription = catalog.subscribe(customer, catalog.metered_price(meter))
    catalog.use(meter, customer, 25, timestamp=T0 + 10)
    before = len(events_of(stripe_client))

    advanced = stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": P1 + HOUR + 1})

    events = events_of(stripe_client)[before:]
    assert [e.type for e in events] == [
        "test_helpers.test_clock.advancing",
        "invoice.upcoming",
        "customer.subscription.updated",
        "invoice.created",
        # 4 cents is below the minimum charge: it goes to the customer's balance.
        "customer.updated",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "test_helpers.test_clock.ready",
    ]
    advancing, upcoming, renewed, created, balance, finalized, *_, ready = events
    assert balance.data.object.balance == 4 and balance.data.previous_attributes.balance == 0
    assert advancing.request.id == advanced.last_response.request_id
    assert advancing.data.object.status == "advancing"
    assert advancing.data.object.status_details.advancing.target_frozen_time == P1 + HOUR + 1
    assert all(e.request.id is None for e in events[1:])
    assert upcoming.created == P1 - 3 * 86_400 and upcoming.data.object.amount_due == 4
    assert renewed.created == P1
    assert renewed.data.previous_attributes["items"].data[0].current_period_end == P1
    assert renewed.data.previous_attributes.latest_invoice is None
    assert renewed.data.object.latest_invoice == created.data.object.id
    assert created.created == P1
    assert created.data.object.parent.subscription_details.subscription == subscription.id
    assert finalized.created == P1 + HOUR and finalized.data.object.amount_due == 4
    assert ready.data.object.status == "ready" and ready.data.object.frozen_time == P1 + HOUR + 1


def test_deleting_a_test_clock_deletes_what_lives_in_it(stripe_client, catalog) -> None:
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = catalog.customer(test_clock=clock.id)
    catalog.subscribe(customer, catalog.licensed_price())
    before = len(events_of(stripe_client))

    stripe_client.v1.test_helpers.test_clocks.delete(clock.id)

    assert types_of(stripe_client)[before:] == [
        "customer.deleted",
        "customer.subscription.deleted",
        "invoice.deleted",
        "test_helpers.test_clock.deleted",
    ]
