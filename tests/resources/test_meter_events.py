"""Meter events and adjustments (v1): validation, dedupe, dropped events, strict mode, cancels."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

DAY = 86400
EVENT_FIELDS = {"object", "created", "event_name", "identifier", "livemode", "payload", "timestamp"}


def make_meter(client: stripe.StripeClient, formula: str = "sum", **extra: Any) -> stripe.billing.Meter:
    return client.v1.billing.meters.create(
        {
            "display_name": "Alpaca AI tokens",
            "event_name": "alpaca_ai_tokens",
            "default_aggregation": {"formula": formula},
            **extra,
        }
    )


def usage(client: stripe.StripeClient, meter_id: str, customer: str) -> float:
    """The meter's aggregate for the customer over the whole accepted event window."""
    end = (int(time.time()) // 60 + 10) * 60
    summaries = client.v1.billing.meters.event_summaries.list(
        meter_id, {"customer": customer, "start_time": end - 40 * DAY, "end_time": end}
    )
    (summary,) = summaries.data
    return summary.aggregated_value


def send(client: stripe.StripeClient, customer: str | None, value: str | None = None, **params: Any):
    payload = {} if customer is None else {"stripe_customer_id": customer}
    if value is not None:
        payload["value"] = value
    return client.v1.billing.meter_events.create({"event_name": "alpaca_ai_tokens", "payload": payload, **params})


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


@pytest.fixture
def strict_client(strict_url: str, stripe_api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(stripe_api_key, base_addresses={"api": strict_url})


def test_the_guides_event(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create({"name": "John Doe"}).id
    before = int(time.time())
    event = stripe_client.v1.billing.meter_events.create(
        {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer, "value": "25"}}
    )
    after = int(time.time())
    assert set(event.to_dict()) == EVENT_FIELDS
    assert event.object == "billing.meter_event"
    assert event.event_name == "alpaca_ai_tokens"
    assert event.livemode is False
    assert event.payload.to_dict() == {"stripe_customer_id": customer, "value": "25"}
    assert before <= event.created <= after and event.timestamp == event.created
    assert isinstance(event.identifier, str) and event.identifier
    assert usage(stripe_client, meter.id, customer) == 25.0


def test_generated_identifiers_are_unique(stripe_client: stripe.StripeClient) -> None:
    make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    identifiers = {send(stripe_client, customer, "1").identifier for _ in range(5)}
    assert len(identifiers) == 5
    # A generated identifier is taken like any other.
    error = invalid_request(lambda: send(stripe_client, customer, "1", identifier=identifiers.pop()))
    assert error.user_message.startswith("An event already exists with identifier ")


def test_explicit_timestamp_identifier_and_expand(stripe_client: stripe.StripeClient) -> None:
    make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    timestamp = int(time.time()) - 3 * DAY
    event = send(stripe_client, customer, "7", timestamp=timestamp, identifier="evt-1")
    assert (event.timestamp, event.identifier) == (timestamp, "evt-1")
    error = invalid_request(lambda: send(stripe_client, customer, "7", expand=["payload"]))
    assert error.user_message == "This property cannot be expanded (payload)."


@pytest.mark.parametrize(
    "params, message, param, code",
    [
        ({"payload": {"value": "1"}}, "Missing required param: event_name.", "event_name", "parameter_missing"),
        ({"event_name": "alpaca_ai_tokens"}, "Missing required param: payload.", "payload", "parameter_missing"),
        ({"event_name": "e" * 101, "payload": {"value": "1"}},
         "Invalid string: eeeeeeeeeeeeeeeeeeee...; must be at most 100 characters", "event_name", None),
        ({"event_name": "alpaca_ai_tokens", "payload": {"value": "1"}, "identifier": "i" * 101},
         "Invalid string: iiiiiiiiiiiiiiiiiiii...; must be at most 100 characters", "identifier", None),
        ({"event_name": "alpaca_ai_tokens", "payload": {"value": "1"}, "metadata": {"a": "b"}},
         "Received unknown parameter: metadata", "metadata", "parameter_unknown"),
    ],
)
def test_parameter_errors(stripe_client: stripe.StripeClient, params, message, param, code) -> None:
    error = invalid_request(lambda: stripe_client.v1.billing.meter_events.create(params))
    assert (error.http_status, error.user_message, error.param, error.code) == (400, message, param, code)


def test_payload_has_no_metadata_limits(stripe_client: stripe.StripeClient, raw) -> None:
    make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    payload = {f"k{i}": "v" * 600 for i in range(60)} | {"a" * 50: "", "stripe_customer_id": customer, "value": "2"}
    event = stripe_client.v1.billing.meter_events.create({"event_name": "alpaca_ai_tokens", "payload": payload})
    assert event.payload.to_dict() == payload
    reply = raw.post("/v1/billing/meter_events", "event_name=alpaca_ai_tokens&payload[a][b]=1")
    assert reply.status == 400 and reply.error["param"] == "payload[a]"


def test_timestamp_window(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    now = int(time.time())
    send(stripe_client, customer, "1", timestamp=now - 35 * DAY + 60)
    send(stripe_client, customer, "2", timestamp=now + 4 * 60)

    before = int(time.time())
    error = invalid_request(lambda: send(stripe_client, customer, "4", timestamp=now - 35 * DAY - 60))
    after = int(time.time())
    assert (error.http_status, error.param) == (400, "timestamp")
    expected = [
        "The event timestamp cannot be more than 35 days in past. Expected a timestamp greater than or equal "
        f"to {t - 35 * DAY}."
        for t in range(before, after + 1)
    ]
    assert error.user_message in expected

    before = int(time.time())
    error = invalid_request(lambda: send(stripe_client, customer, "8", timestamp=now + 10 * 60))
    after = int(time.time())
    assert (error.http_status, error.param) == (400, "timestamp")
    expected = [
        "The event timestamp cannot be more than 5 minutes in the future. Expected a timestamp less than or "
        f"equal to {t + 5 * 60}."
        for t in range(before, after + 1)
    ]
    assert error.user_message in expected
    assert usage(stripe_client, meter.id, customer) == 3.0


def test_duplicate_identifier(stripe_client: stripe.StripeClient, raw) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, "5", identifier="req-42")
    error = invalid_request(lambda: send(stripe_client, customer, "5", identifier="req-42"))
    assert (error.http_status, error.param) == (400, "identifier")
    assert error.user_message == "An event already exists with identifier req-42."
    reply = raw.post(
        "/v1/billing/meter_events",
        f"event_name=alpaca_ai_tokens&payload[stripe_customer_id]={customer}&payload[value]=5&identifier=req-42",
    )
    assert reply.status == 400 and reply.headers["Stripe-Should-Retry"] == "false"
    assert usage(stripe_client, meter.id, customer) == 5.0


def test_values_may_be_negative_and_decimal(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    for value in ("25", "2.5", "-10", "0.25", "123456789012345"):
        send(stripe_client, customer, value)
    assert usage(stripe_client, meter.id, customer) == 123456789012345 + 17.75


@pytest.mark.parametrize("value", ["1234567890123456", "-12345678901234.56", "0.1234567890123456"])
def test_values_have_at_most_15_digits(stripe_client: stripe.StripeClient, value: str) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    error = invalid_request(lambda: send(stripe_client, customer, value))
    assert (error.http_status, error.param) == (400, "payload[value]")
    assert error.user_message == f"The value in the event payload can have at most 15 digits. Received {value}."
    assert usage(stripe_client, meter.id, customer) == 0.0


def test_count_meters_need_no_value(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client, "count")
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer)
    send(stripe_client, customer, "100")
    send(stripe_client, customer, "not a number")
    assert usage(stripe_client, meter.id, customer) == 3.0


def test_custom_payload_keys(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(
        stripe_client,
        customer_mapping={"event_payload_key": "customer", "type": "by_id"},
        value_settings={"event_payload_key": "tokens"},
    )
    customer = stripe_client.v1.customers.create().id
    stripe_client.v1.billing.meter_events.create(
        {"event_name": "alpaca_ai_tokens", "payload": {"customer": customer, "tokens": "12"}}
    )
    assert usage(stripe_client, meter.id, customer) == 12.0


DROPPED = [
    # (what the event does wrong, payload maker, code, message maker, param)
    ("no meter", "other_event", lambda c: {"stripe_customer_id": c, "value": "1"}, "no_meter",
     lambda c, m: "No active meter was found for event_name other_event.", "event_name"),
    ("inactive meter", "old_tokens", lambda c: {"stripe_customer_id": c, "value": "1"}, "archived_meter",
     lambda c, m: f"The meter {m} for event_name old_tokens is inactive.", "event_name"),
    ("unknown customer", "alpaca_ai_tokens", lambda c: {"stripe_customer_id": "cus_nobody", "value": "1"},
     "meter_event_customer_not_found", lambda c, m: "No such customer: 'cus_nobody'",
     "payload[stripe_customer_id]"),
    ("no customer key", "alpaca_ai_tokens", lambda c: {"customer": c, "value": "1"},
     "meter_event_no_customer_defined",
     lambda c, m: "Customer mapping key stripe_customer_id not found in payload.", "payload[stripe_customer_id]"),
    ("no value", "alpaca_ai_tokens", lambda c: {"stripe_customer_id": c}, "meter_event_invalid_value",
     lambda c, m: "Value key value not found in payload.", "payload[value]"),
    ("non-numeric value", "alpaca_ai_tokens", lambda c: {"stripe_customer_id": c, "value": "1e3"},
     "meter_event_invalid_value",
     lambda c, m: "The value in the event payload must be a number. Received 1e3.", "payload[value]"),
]


def dropped_setup(client: stripe.StripeClient) -> tuple[str, str, str]:
    """The guide's meter, an inactive `old_tokens` meter and a customer."""
    meter = make_meter(client)
    old = client.v1.billing.meters.create(
        {"display_name": "Old", "event_name": "old_tokens", "default_aggregation": {"formula": "sum"}}
    )
    client.v1.billing.meters.deactivate(old.id)
    return meter.id, old.id, client.v1.customers.create().id


@pytest.mark.parametrize("case", DROPPED, ids=[case[0] for case in DROPPED])
def test_dropped_events_are_accepted_recorded_and_not_counted(
    stripe_client: stripe.StripeClient, raw, lenient: None, case
) -> None:
    _, event_name, payload, code, message, _ = case
    meter, old, customer = dropped_setup(stripe_client)
    timestamp = int(time.time()) - 60
    event = stripe_client.v1.billing.meter_events.create(
        {"event_name": event_name, "payload": payload(customer), "timestamp": timestamp, "identifier": "dropped-1"}
    )
    assert event.identifier == "dropped-1"
    reply = raw.get("/_mock/meter_event_errors")
    assert reply.status == 200
    assert reply.body["object"] == "list" and reply.body["url"] == "/_mock/meter_event_errors"
    (error,) = reply.body["data"]
    assert error == {
        "object": "mock.meter_event_error",
        "code": code,
        "message": message(customer, old),
        "event_name": event_name,
        "identifier": "dropped-1",
        "timestamp": timestamp,
        "created": error["created"],
        "payload": payload(customer),
        "payload_truncated": False,
    }
    assert usage(stripe_client, meter, customer) == 0.0
    assert usage(stripe_client, old, customer) == 0.0
    # The identifier is taken all the same.
    duplicate = invalid_request(
        lambda: stripe_client.v1.billing.meter_events.create(
            {"event_name": event_name, "payload": payload(customer), "identifier": "dropped-1"}
        )
    )
    assert duplicate.user_message == "An event already exists with identifier dropped-1."


def test_dropped_events_are_listed_newest_first_per_account(
    stripe_client: stripe.StripeClient, raw, lenient: None, mockstripe_url: str
) -> None:
    make_meter(stripe_client)
    for i in range(3):
        stripe_client.v1.billing.meter_events.create(
            {"event_name": f"unknown_{i}", "payload": {"value": "1"}, "identifier": f"u{i}"}
        )
    listed = raw.get("/_mock/meter_event_errors").body
    assert [e["identifier"] for e in listed["data"]] == ["u2", "u1", "u0"] and not listed["has_more"]
    page = raw.get("/_mock/meter_event_errors?limit=2").body
    assert [e["identifier"] for e in page["data"]] == ["u2", "u1"] and page["has_more"]
    other = stripe.StripeClient("sk_test_other_" + raw.api_key[8:], base_addresses={"api": mockstripe_url})
    assert other.raw_request("get", "/_mock/meter_event_errors").data["data"] == []
    assert raw.get("/_mock/meter_event_errors", auth=False).status == 401


@pytest.mark.parametrize("case", DROPPED, ids=[case[0] for case in DROPPED])
def test_strict_mode_rejects_what_would_be_dropped(strict_client: stripe.StripeClient, case) -> None:
    _, event_name, payload, code, message, param = case
    meter, old, customer = dropped_setup(strict_client)
    error = invalid_request(
        lambda: strict_client.v1.billing.meter_events.create(
            {"event_name": event_name, "payload": payload(customer), "identifier": "strict-1"}
        )
    )
    assert (error.http_status, error.code, error.param) == (400, code, param)
    assert error.user_message == message(customer, old)
    # A rejected event leaves no trace: its identifier is still free.
    event = strict_client.v1.billing.meter_events.create(
        {"event_name": "alpaca_ai_tokens", "payload": {"stripe_customer_id": customer, "value": "3"},
         "identifier": "strict-1"}
    )
    assert event.identifier == "strict-1"
    assert usage(strict_client, meter, customer) == 3.0
    assert strict_client.raw_request("get", "/_mock/meter_event_errors").data["data"] == []


def test_events_after_reactivation_count_again(stripe_client: stripe.StripeClient, lenient: None) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, "1")
    stripe_client.v1.billing.meters.deactivate(meter.id)
    send(stripe_client, customer, "10")
    stripe_client.v1.billing.meters.reactivate(meter.id)
    send(stripe_client, customer, "100")
    assert usage(stripe_client, meter.id, customer) == 101.0


def test_cancel_takes_an_event_out_of_the_aggregate(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, "25", identifier="keep")
    generated = send(stripe_client, customer, "100").identifier
    adjustment = stripe_client.v1.billing.meter_event_adjustments.create(
        {"event_name": "alpaca_ai_tokens", "type": "cancel", "cancel": {"identifier": generated}}
    )
    assert adjustment.to_dict() == {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": generated},
        "event_name": "alpaca_ai_tokens",
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }
    assert usage(stripe_client, meter.id, customer) == 25.0
    # Cancelling again changes nothing.
    stripe_client.v1.billing.meter_event_adjustments.create(
        {"event_name": "alpaca_ai_tokens", "type": "cancel", "cancel": {"identifier": generated}}
    )
    assert usage(stripe_client, meter.id, customer) == 25.0
    # The identifier of a cancelled event stays taken.
    error = invalid_request(lambda: send(stripe_client, customer, "1", identifier=generated))
    assert error.param == "identifier"


@pytest.mark.parametrize(
    "params, message, param, code",
    [
        ({"type": "cancel", "cancel": {"identifier": "x"}},
         "Missing required param: event_name.", "event_name", "parameter_missing"),
        ({"event_name": "alpaca_ai_tokens", "cancel": {"identifier": "x"}},
         "Missing required param: type.", "type", "parameter_missing"),
        ({"event_name": "alpaca_ai_tokens", "type": "void", "cancel": {"identifier": "x"}},
         "Invalid type: must be one of cancel", "type", None),
        ({"event_name": "alpaca_ai_tokens", "type": "cancel"},
         "Missing required param: cancel[identifier].", "cancel[identifier]", "parameter_missing"),
        ({"event_name": "alpaca_ai_tokens", "type": "cancel", "cancel": {}},
         "Missing required param: cancel[identifier].", "cancel[identifier]", "parameter_missing"),
        ({"event_name": "alpaca_ai_tokens", "type": "cancel", "cancel": {"identifier": "nope"}},
         "No meter event with identifier nope and event_name alpaca_ai_tokens was received in the last 24 "
         "hours. Only events received in the last 24 hours can be cancelled.", "cancel[identifier]", None),
        ({"event_name": "other_tokens", "type": "cancel", "cancel": {"identifier": "sent"}},
         "No meter event with identifier sent and event_name other_tokens was received in the last 24 "
         "hours. Only events received in the last 24 hours can be cancelled.", "cancel[identifier]", None),
    ],
)
def test_adjustment_errors(stripe_client: stripe.StripeClient, params, message, param, code) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, "4", identifier="sent")
    error = invalid_request(lambda: stripe_client.v1.billing.meter_event_adjustments.create(params))
    assert (error.http_status, error.user_message, error.param, error.code) == (400, message, param, code)
    assert usage(stripe_client, meter.id, customer) == 4.0
