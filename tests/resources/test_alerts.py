"""Billing alerts: create, retrieve, list, (de)activate, archive, and `billing.alert.triggered`."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from mockstripe.clock import FrozenClock

T0 = 1_717_243_200  # 2024-06-01T12:00:00Z


def alert_params(meter: Any, gte: int = 1000, customer: Any = None) -> dict[str, Any]:
    threshold: dict[str, Any] = {"gte": gte, "meter": meter.id, "recurrence": "one_time"}
    if customer is not None:
        threshold["filters"] = [{"type": "customer", "customer": customer.id}]
    return {"alert_type": "usage_threshold", "title": "API usage", "usage_threshold": threshold}


def triggered(client: stripe.StripeClient) -> list[stripe.Event]:
    """The `billing.alert.triggered` events so far, oldest first."""
    return list(reversed(client.v1.events.list({"type": "billing.alert.triggered"}).data))


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_create_retrieve_and_list(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    alert = client.v1.billing.alerts.create(alert_params(meter, customer=customer))
    assert alert.id.startswith("alrt_61") and len(alert.id) == len("alrt_61") + 30
    assert alert.to_dict() == {
        "id": alert.id,
        "object": "billing.alert",
        "alert_type": "usage_threshold",
        "livemode": False,
        "status": "active",
        "title": "API usage",
        "usage_threshold": {
            "filters": [{"customer": customer.id, "type": "customer"}],
            "gte": 1000,
            "meter": meter.id,
            "recurrence": "one_time",
        },
    }
    assert client.v1.billing.alerts.retrieve(alert.id).to_dict() == alert.to_dict()
    expanded = client.v1.billing.alerts.retrieve(alert.id, {"expand": ["usage_threshold.meter"]})
    assert expanded.usage_threshold.meter.id == meter.id
    everyone = client.v1.billing.alerts.create(alert_params(meter, gte=5))
    assert everyone.usage_threshold.filters is None
    other_meter = catalog.meter()
    client.v1.billing.alerts.create(alert_params(other_meter))
    listed = client.v1.billing.alerts.list({"meter": meter.id})
    assert [a.id for a in listed.data] == [everyone.id, alert.id]
    assert len(client.v1.billing.alerts.list().data) == 3


def test_deactivate_activate_and_archive(catalog) -> None:
    client = catalog.client
    alert = client.v1.billing.alerts.create(alert_params(catalog.meter()))
    assert client.v1.billing.alerts.deactivate(alert.id).status == "inactive"
    assert client.v1.billing.alerts.deactivate(alert.id).status == "inactive"
    assert client.v1.billing.alerts.activate(alert.id).status == "active"
    archived = client.v1.billing.alerts.archive(alert.id)
    assert archived.status == "archived"
    assert client.v1.billing.alerts.list().data == []
    assert client.v1.billing.alerts.retrieve(alert.id).status == "archived"
    error = invalid_request(lambda: client.v1.billing.alerts.activate(alert.id))
    assert error.http_status == 400
    assert "archived" in error.user_message
    # An alert's own changes send no events.
    assert client.v1.events.list({"type": "billing.alert.*"}).data == []


def test_bad_alerts_are_refused(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    error = invalid_request(lambda: client.v1.billing.alerts.create(alert_params(meter, gte=0)))
    assert (error.param, error.code) == ("usage_threshold[gte]", "parameter_invalid_integer")
    unknown = {**alert_params(meter), "usage_threshold": {**alert_params(meter)["usage_threshold"], "meter": "mtr_x"}}
    error = invalid_request(lambda: client.v1.billing.alerts.create(unknown))
    assert (error.param, error.code) == ("usage_threshold[meter]", "resource_missing")
    assert error.user_message == "No such billing meter: 'mtr_x'"
    two = alert_params(meter, customer=customer)
    two["usage_threshold"]["filters"] *= 2
    error = invalid_request(lambda: client.v1.billing.alerts.create(two))
    assert error.param == "usage_threshold[filters]"
    error = invalid_request(
        lambda: client.v1.billing.alerts.create({"alert_type": "usage_threshold", "title": "No threshold"})
    )
    assert (error.param, error.code) == ("usage_threshold", "parameter_missing")
    client.v1.billing.meters.deactivate(meter.id)
    error = invalid_request(lambda: client.v1.billing.alerts.create(alert_params(meter)))
    assert error.param == "usage_threshold[meter]"
    assert client.v1.billing.alerts.list().data == []


def test_triggers_once_on_the_event_that_crosses_the_threshold(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    catalog.subscribe(customer, catalog.metered_price(meter))
    alert = client.v1.billing.alerts.create(alert_params(meter, customer=customer))
    catalog.use(meter, customer, 600)
    catalog.use(meter, customer, 399)
    assert triggered(client) == []
    catalog.use(meter, customer, 2)
    catalog.use(meter, customer, 500)
    (event,) = triggered(client)
    assert event.request.id is None
    assert event.data.object.to_dict() == {
        "object": "billing.alert_triggered",
        "alert": alert.to_dict(),
        "created": event.data.object.created,
        "customer": customer.id,
        "livemode": False,
        "value": 1001,
    }
    assert event.created == event.data.object.created


def test_other_customers_and_meters_do_not_count(catalog) -> None:
    client = catalog.client
    meter, other_meter = catalog.meter(), catalog.meter()
    watched, other = catalog.customer(), catalog.customer()
    client.v1.billing.alerts.create(alert_params(meter, gte=10, customer=watched))
    catalog.use(meter, other, 50)
    catalog.use(other_meter, watched, 50)
    catalog.use(meter, watched, 9)
    assert triggered(client) == []
    catalog.use(meter, watched, 1)
    assert [e.data.object.value for e in triggered(client)] == [10]


def test_an_alert_without_a_filter_triggers_once_for_each_customer(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    first, second = catalog.customer(), catalog.customer()
    client.v1.billing.alerts.create(alert_params(meter, gte=100))
    catalog.use(meter, first, 150)
    catalog.use(meter, first, 150)
    catalog.use(meter, second, 99)
    catalog.use(meter, second, 1)
    assert [(e.data.object.customer, e.data.object.value) for e in triggered(client)] == [
        (first.id, 150),
        (second.id, 100),
    ]


def test_an_inactive_alert_waits_and_triggers_again_once_reactivated(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    alert = client.v1.billing.alerts.create(alert_params(meter, gte=100, customer=customer))
    catalog.use(meter, customer, 100)
    client.v1.billing.alerts.deactivate(alert.id)
    catalog.use(meter, customer, 100)
    assert len(triggered(client)) == 1
    client.v1.billing.alerts.activate(alert.id)
    catalog.use(meter, customer, 1)
    assert [e.data.object.value for e in triggered(client)] == [100, 201]
    client.v1.billing.alerts.archive(alert.id)
    catalog.use(meter, customer, 1000)
    assert len(triggered(client)) == 2


def test_streamed_events_and_adjustments_count(catalog, mockstripe_url: str) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    client.v1.billing.alerts.create(alert_params(meter, gte=1000, customer=customer))
    session = client.v2.billing.meter_event_session.create()
    stream = stripe.StripeClient(
        session.authentication_token, base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}
    )

    def event(value: int, identifier: str) -> dict[str, Any]:
        payload = {"stripe_customer_id": customer.id, "value": str(value)}
        return {"event_name": meter.event_name, "payload": payload, "identifier": identifier}

    stream.v2.billing.meter_event_stream.create({"events": [event(600, "a"), event(300, "b")]})
    client.v2.billing.meter_event_adjustments.create(
        {"event_name": meter.event_name, "type": "cancel", "cancel": {"identifier": "a"}}
    )
    client.v2.billing.meter_events.create(event(600, "c"))
    assert triggered(client) == []
    stream.v2.billing.meter_event_stream.create({"events": [event(50, "d"), event(50, "e"), event(50, "f")]})
    assert [e.data.object.value for e in triggered(client)] == [1050]


def test_cancelling_a_negative_event_can_reach_the_threshold(catalog) -> None:
    client = catalog.client
    meter = catalog.meter()
    customer = catalog.customer()
    client.v1.billing.alerts.create(alert_params(meter, gte=100, customer=customer))
    catalog.use(meter, customer, -100, identifier="correction")
    catalog.use(meter, customer, 150)
    assert triggered(client) == []
    client.v1.billing.meter_event_adjustments.create(
        {"event_name": meter.event_name, "type": "cancel", "cancel": {"identifier": "correction"}}
    )
    assert [e.data.object.value for e in triggered(client)] == [150]


async def test_usage_counts_in_the_current_billing_period_only(in_process) -> None:
    in_process.account.clock = FrozenClock(T0)
    client = in_process.client
    meter = await client.v1.billing.meters.create_async(
        {"display_name": "Tokens", "event_name": "tokens", "default_aggregation": {"formula": "sum"}}
    )
    price = await client.v1.prices.create_async(
        {
            "currency": "usd",
            "unit_amount": 1,
            "recurring": {"usage_type": "metered", "interval": "day", "meter": meter.id},
            "product_data": {"name": "Tokens"},
        }
    )
    customer = await client.v1.customers.create_async({"name": "Jenny"})

    async def use(value: int, timestamp: int) -> None:
        payload = {"stripe_customer_id": customer.id, "value": str(value)}
        await client.v1.billing.meter_events.create_async(
            {"event_name": "tokens", "payload": payload, "timestamp": timestamp}
        )

    await use(80, T0 - 3600)  # before the subscription's first period
    await client.v1.subscriptions.create_async({"customer": customer.id, "items": [{"price": price.id}]})
    await client.v1.billing.alerts.create_async(alert_params(meter, gte=100, customer=customer))
    await use(60, T0)
    in_process.account.clock = FrozenClock(T0 + 86_400 + 60)  # the next daily period
    await use(60, T0 + 86_400 + 60)
    events = (await client.v1.events.list_async({"type": "billing.alert.triggered"})).data
    assert events == []
    await use(40, T0 + 86_400 + 60)
    (event,) = (await client.v1.events.list_async({"type": "billing.alert.triggered"})).data
    assert (event.data.object.value, event.data.object.created) == (100, T0 + 86_400 + 60)
