"""Test clocks (`/v1/test_helpers/test_clocks`) and the frozen time their customers live in."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import stripe

from mockstripe.resources.test_clocks import DELETES_AFTER

DAY = 86_400
T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
FEB_15 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())
MAR_15 = int(datetime(2024, 3, 15, tzinfo=timezone.utc).timestamp())


def new_clock(client: stripe.StripeClient, frozen_time: int = T0, **params) -> stripe.test_helpers.TestClock:
    return client.v1.test_helpers.test_clocks.create({"frozen_time": frozen_time, **params})


# The object and its endpoints.


def test_create_returns_a_ready_clock_at_its_frozen_time(stripe_client, sdk_fields) -> None:
    before = int(time.time())
    clock = new_clock(stripe_client, name="Annual renewals")
    assert clock.id.startswith("clock_")
    assert (clock.object, clock.frozen_time, clock.name) == ("test_helpers.test_clock", T0, "Annual renewals")
    assert (clock.status, clock.status_details.to_dict(), clock.livemode) == ("ready", {}, False)
    # Created in real time, not in its own frozen time.
    assert before <= clock.created <= int(time.time())
    assert clock.deletes_after == clock.created + DELETES_AFTER
    assert set(clock.to_dict()) == sdk_fields(stripe.test_helpers.TestClock)
    assert new_clock(stripe_client).name is None


def test_retrieve_and_list_newest_first(stripe_client) -> None:
    clocks = stripe_client.v1.test_helpers.test_clocks
    first, second = new_clock(stripe_client), new_clock(stripe_client, T0 + DAY)
    assert clocks.retrieve(first.id).frozen_time == T0
    page = clocks.list({"limit": 1})
    assert ([c.id for c in page.data], page.has_more) == ([second.id], True)
    assert [c.id for c in clocks.list({"starting_after": second.id}).data] == [first.id]
    assert page.url == "/v1/test_helpers/test_clocks"


def test_unknown_clock_is_a_404(raw) -> None:
    reply = raw.get("/v1/test_helpers/test_clocks/clock_nope")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (404, "resource_missing", "id")
    assert reply.error["message"] == "No such test clock: 'clock_nope'"


def test_frozen_time_is_required(raw) -> None:
    reply = raw.post("/v1/test_helpers/test_clocks", "name=x")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "parameter_missing", "frozen_time")


def test_attaching_an_existing_customer_is_refused_clearly(raw) -> None:
    customer = raw.post("/v1/customers", "").body["id"]
    reply = raw.post("/v1/test_helpers/test_clocks", f"frozen_time={T0}&customer={customer}")
    assert (reply.status, reply.error["param"]) == (400, "customer")
    assert "not supported by mockstripe" in reply.error["message"]
    assert raw.get("/v1/test_helpers/test_clocks").body["data"] == []


def test_advance_moves_the_clock_and_leaves_it_ready(stripe_client) -> None:
    clocks = stripe_client.v1.test_helpers.test_clocks
    clock = new_clock(stripe_client)
    advanced = clocks.advance(clock.id, {"frozen_time": T0 + 3600})
    assert (advanced.id, advanced.frozen_time, advanced.status) == (clock.id, T0 + 3600, "ready")
    again = clocks.retrieve(clock.id)
    assert (again.frozen_time, again.status, again.created) == (T0 + 3600, "ready", clock.created)


@pytest.mark.parametrize("target", [T0, T0 - 1])
def test_advance_must_move_forward(raw, target) -> None:
    clock = raw.post("/v1/test_helpers/test_clocks", f"frozen_time={T0}").body
    reply = raw.post(f"/v1/test_helpers/test_clocks/{clock['id']}/advance", f"frozen_time={target}")
    assert (reply.status, reply.error["type"], reply.error["param"]) == (400, "invalid_request_error", "frozen_time")
    assert str(T0) in reply.error["message"]
    assert raw.get(f"/v1/test_helpers/test_clocks/{clock['id']}").body["frozen_time"] == T0


def test_advance_without_subscriptions_reaches_two_years_at_most(raw) -> None:
    clock = raw.post("/v1/test_helpers/test_clocks", f"frozen_time={T0}").body["id"]
    two_years = int(datetime(2026, 1, 15, tzinfo=timezone.utc).timestamp())
    too_far = raw.post(f"/v1/test_helpers/test_clocks/{clock}/advance", f"frozen_time={two_years + 1}")
    assert (too_far.status, too_far.error["param"]) == (400, "frozen_time")
    assert str(two_years) in too_far.error["message"]
    assert raw.post(f"/v1/test_helpers/test_clocks/{clock}/advance", f"frozen_time={two_years}").status == 200


def test_advance_reaches_two_intervals_of_the_shortest_subscription_at_most(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    catalog.subscribe(customer, catalog.licensed_price(recurring={"interval": "month"}))
    catalog.subscribe(customer, catalog.licensed_price(recurring={"interval": "week"}))
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 14 * DAY + 1})
    assert refused.value.param == "frozen_time"
    assert str(T0 + 14 * DAY) in refused.value.user_message
    advanced = stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 14 * DAY})
    assert advanced.frozen_time == T0 + 14 * DAY


def test_delete_takes_the_clock_with_its_customers_and_their_objects(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    subscription = catalog.subscribe(customer, catalog.licensed_price())
    bystander = catalog.customer()

    deleted = stripe_client.v1.test_helpers.test_clocks.delete(clock.id)

    assert deleted.to_dict() == {"id": clock.id, "object": "test_helpers.test_clock", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as gone:
        stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert gone.value.http_status == 404
    assert stripe_client.v1.customers.retrieve(customer.id).deleted is True
    for fetch in (
        lambda: stripe_client.v1.subscriptions.retrieve(subscription.id),
        lambda: stripe_client.v1.subscription_items.retrieve(subscription["items"].data[0].id),
        lambda: stripe_client.v1.invoices.retrieve(subscription.latest_invoice),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            fetch()
        assert missing.value.http_status == 404
    assert [c.id for c in stripe_client.v1.customers.list().data] == [bystander.id]


# Customers and their objects live in the clock's time.


def test_a_customer_on_a_clock_is_created_at_its_frozen_time(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    assert (customer.test_clock, customer.created) == (clock.id, T0)
    expanded = stripe_client.v1.customers.retrieve(customer.id, {"expand": ["test_clock"]})
    assert (expanded.test_clock.id, expanded.test_clock.frozen_time) == (clock.id, T0)
    bystander = catalog.customer()
    assert bystander.test_clock is None and bystander.created > T0 + 365 * DAY


def test_customers_list_by_test_clock(stripe_client, catalog) -> None:
    clock, other = new_clock(stripe_client), new_clock(stripe_client)
    mine = catalog.customer(test_clock=clock.id)
    catalog.customer(test_clock=other.id)
    catalog.customer()
    assert [c.id for c in stripe_client.v1.customers.list({"test_clock": clock.id}).data] == [mine.id]


def test_an_unknown_clock_is_refused_for_a_customer(raw) -> None:
    reply = raw.post("/v1/customers", "test_clock=clock_nope")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "resource_missing", "test_clock")
    assert reply.error["message"] == "No such test clock: 'clock_nope'"


def test_subscriptions_and_invoices_follow_the_clock(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    subscription = catalog.subscribe(customer, catalog.licensed_price())
    [item] = subscription["items"].data
    assert (subscription.test_clock, subscription.created, subscription.start_date) == (clock.id, T0, T0)
    assert (subscription.billing_cycle_anchor, item.created) == (T0, T0)
    assert (item.current_period_start, item.current_period_end) == (T0, FEB_15)
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.test_clock, invoice.created, invoice.status_transitions.finalized_at) == (clock.id, T0, T0)
    assert stripe_client.v1.subscriptions.list({"test_clock": clock.id}).data[0].id == subscription.id
    expanded = stripe_client.v1.subscriptions.retrieve(subscription.id, {"expand": ["test_clock", "latest_invoice.test_clock"]})
    assert expanded.test_clock.frozen_time == expanded.latest_invoice.test_clock.frozen_time == T0

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + DAY})
    canceled = stripe_client.v1.subscriptions.cancel(subscription.id)
    assert (canceled.canceled_at, canceled.ended_at) == (T0 + DAY, T0 + DAY)


def test_billing_cycle_anchor_is_checked_against_the_clock(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    price = catalog.licensed_price()
    with pytest.raises(stripe.InvalidRequestError) as past:
        catalog.subscribe(customer, price, billing_cycle_anchor=T0 - 1)
    assert past.value.param == "billing_cycle_anchor"
    anchored = catalog.subscribe(customer, price, billing_cycle_anchor=T0 + 5 * DAY)
    assert anchored["items"].data[0].current_period_end == T0 + 5 * DAY


def test_preview_of_a_new_subscription_starts_at_the_frozen_time(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    preview = stripe_client.v1.invoices.create_preview(
        {"customer": customer.id, "subscription_details": {"items": [{"price": catalog.licensed_price().id}]}}
    )
    assert preview.created == T0
    assert (preview.lines.data[0].period.start, preview.lines.data[0].period.end) == (T0, FEB_15)


# Meter events of a clock's customer are in the clock's time.


def test_meter_events_default_to_the_frozen_time_v1_and_v2(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    payload = {"stripe_customer_id": customer.id, "value": "1"}
    v1 = stripe_client.v1.billing.meter_events.create({"event_name": meter.event_name, "payload": payload})
    assert (v1.timestamp, v1.created) == (T0, T0)
    v2 = stripe_client.v2.billing.meter_events.create({"event_name": meter.event_name, "payload": payload})
    assert v2.timestamp == v2.created == "2024-01-15T00:00:00.000Z"


def test_streamed_events_of_a_clock_customer_are_judged_by_its_clock(stripe_client, catalog, mockstripe_url) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    subscription = catalog.subscribe(customer, catalog.metered_price(meter))
    session = stripe_client.v2.billing.meter_event_session.create()
    stream = stripe.StripeClient(
        session.authentication_token, base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}
    )
    payload = {"stripe_customer_id": customer.id, "value": "250"}
    stream.v2.billing.meter_event_stream.create(
        {
            "events": [
                {"event_name": meter.event_name, "payload": payload},
                {"event_name": meter.event_name, "payload": payload, "timestamp": "2024-01-15T00:04:00.000Z"},
            ]
        }
    )
    # Both count: at the frozen time, and 4 minutes ahead of it (the account's clock would drop both).
    assert catalog.preview(subscription).lines.data[0].quantity == 500


def test_the_timestamp_window_is_relative_to_the_clock(stripe_client, catalog) -> None:
    clock = new_clock(stripe_client)
    customer = catalog.customer(test_clock=clock.id)
    meter = catalog.meter()
    price = catalog.metered_price(meter)
    subscription = catalog.subscribe(customer, price)
    catalog.use(meter, customer, 25, timestamp=T0 + 5 * 60)  # as late as 5 minutes ahead of the clock
    with pytest.raises(stripe.InvalidRequestError) as future:
        catalog.use(meter, customer, 25, timestamp=T0 + 5 * 60 + 1)
    assert future.value.param == "timestamp"
    with pytest.raises(stripe.InvalidRequestError) as past:
        catalog.use(meter, customer, 25, timestamp=T0 - 35 * DAY - 1)
    assert str(T0 - 35 * DAY) in past.value.user_message
    catalog.use(meter, customer, 25, timestamp=T0 - 35 * DAY)  # accepted, though before the period
    assert catalog.preview(subscription).amount_due == 4
