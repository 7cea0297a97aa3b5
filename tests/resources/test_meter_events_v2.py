"""Meter events (v2): sessions, the event stream, single events and adjustments, via the SDK."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from mockstripe.clock import FrozenClock

DAY = 86400
T0 = 1_717_243_200  # 2024-06-01T12:00:00Z
EVENT_NAME = "alpaca_ai_tokens"


def make_meter(client: stripe.StripeClient) -> stripe.billing.Meter:
    return client.v1.billing.meters.create(
        {"display_name": "Alpaca AI tokens", "event_name": EVENT_NAME, "default_aggregation": {"formula": "sum"}}
    )


def usage(client: stripe.StripeClient, meter_id: str, customer: str) -> float:
    """The meter's aggregate for the customer over the whole accepted event window."""
    end = (int(time.time()) // 60 + 10) * 60
    (summary,) = client.v1.billing.meters.event_summaries.list(
        meter_id, {"customer": customer, "start_time": end - 40 * DAY, "end_time": end}
    ).data
    return summary.aggregated_value


def event(customer: str, value: str, **fields: Any) -> dict[str, Any]:
    return {"event_name": EVENT_NAME, "payload": {"stripe_customer_id": customer, "value": value}, **fields}


def streaming(client: stripe.StripeClient, url: str) -> stripe.StripeClient:
    """A client authenticated with a new meter event session of `client`'s account."""
    session = client.v2.billing.meter_event_session.create()
    return stripe.StripeClient(session.authentication_token, base_addresses={"api": url, "meter_events": url})


@pytest.fixture
def stream_client(stripe_client: stripe.StripeClient, mockstripe_url: str) -> stripe.StripeClient:
    return streaming(stripe_client, mockstripe_url)


def post_json(raw, path: str, body: Any, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return raw.post(path, json.dumps(body), headers=headers)


# Sessions.


async def test_session_lasts_fifteen_minutes_of_the_account_clock(in_process) -> None:
    in_process.account.clock = FrozenClock(T0)
    session = await in_process.client.v2.billing.meter_event_session.create_async()
    assert isinstance(session, stripe.v2.billing.MeterEventSession)
    assert session.to_dict() == {
        "id": session.id,
        "object": "v2.billing.meter_event_session",
        "authentication_token": session.authentication_token,
        "created": "2024-06-01T12:00:00.000Z",
        "expires_at": "2024-06-01T12:15:00.000Z",
        "livemode": False,
    }
    assert session.id.startswith("bmes_") and len(session.id) > 30
    other = await in_process.client.v2.billing.meter_event_session.create_async()
    assert (other.id, other.authentication_token) != (session.id, session.authentication_token)


async def test_expired_session_token_is_refused(in_process) -> None:
    in_process.account.clock = FrozenClock(T0)
    meter = await in_process.client.v1.billing.meters.create_async(
        {"display_name": "Tokens", "event_name": EVENT_NAME, "default_aggregation": {"formula": "sum"}}
    )
    customer = (await in_process.client.v1.customers.create_async()).id
    session = await in_process.client.v2.billing.meter_event_session.create_async()
    streamer = in_process.client_for(session.authentication_token)

    in_process.account.clock = FrozenClock(T0 + 15 * 60 - 1)
    await streamer.v2.billing.meter_event_stream.create_async({"events": [event(customer, "3")]})

    in_process.account.clock = FrozenClock(T0 + 15 * 60)
    with pytest.raises(stripe.TemporarySessionExpiredError) as caught:
        await streamer.v2.billing.meter_event_stream.create_async({"events": [event(customer, "4")]})
    assert (caught.value.http_status, caught.value.code) == (401, "billing_meter_event_session_expired")
    assert caught.value.json_body["error"]["type"] == "temporary_session_expired"

    summaries = await in_process.client.v1.billing.meters.event_summaries.list_async(
        meter.id, {"customer": customer, "start_time": T0 - DAY, "end_time": T0 + DAY}
    )
    assert [s.aggregated_value for s in summaries.data] == [3.0]
    # A new session works again.
    fresh = await in_process.client.v2.billing.meter_event_session.create_async()
    await in_process.client_for(fresh.authentication_token).v2.billing.meter_event_stream.create_async(
        {"events": [event(customer, "5")]}
    )


async def test_long_expired_tokens_are_forgotten(in_process) -> None:
    in_process.account.clock = FrozenClock(T0)
    session = await in_process.client.v2.billing.meter_event_session.create_async()
    streamer = in_process.client_for(session.authentication_token)
    batch = {"events": [event("cus_x", "1")]}
    in_process.account.clock = FrozenClock(T0 + 15 * 60 + DAY - 1)
    await in_process.client.v2.billing.meter_event_session.create_async()
    with pytest.raises(stripe.TemporarySessionExpiredError):
        await streamer.v2.billing.meter_event_stream.create_async(batch)
    # A day after expiry, issuing a session forgets the token: it is then unknown.
    in_process.account.clock = FrozenClock(T0 + 15 * 60 + DAY)
    await in_process.client.v2.billing.meter_event_session.create_async()
    with pytest.raises(stripe.AuthenticationError) as caught:
        await streamer.v2.billing.meter_event_stream.create_async(batch)
    assert caught.value.user_message.startswith("Invalid meter event session token provided: ")


def test_stream_refuses_secret_keys_and_unknown_tokens(
    stripe_client: stripe.StripeClient, mockstripe_url: str
) -> None:
    batch = {"events": [event("cus_x", "1")]}
    with pytest.raises(stripe.AuthenticationError) as caught:
        stripe_client.v2.billing.meter_event_stream.create(batch)
    assert caught.value.http_status == 401
    assert "session token, not an API key" in caught.value.user_message
    unknown = stripe.StripeClient("mes_auth_test_nope", base_addresses={"meter_events": mockstripe_url})
    with pytest.raises(stripe.AuthenticationError) as caught:
        unknown.v2.billing.meter_event_stream.create(batch)
    assert caught.value.user_message == "Invalid meter event session token provided: **************nope"


def test_resetting_the_account_voids_its_session_tokens(
    stream_client: stripe.StripeClient, stripe_api_key: str, raw
) -> None:
    batch = {"events": [event("cus_x", "1")]}
    stream_client.v2.billing.meter_event_stream.create(batch)  # accepted: raises otherwise
    assert raw.post("/_mock/reset", {"api_key": stripe_api_key}, auth=False).status == 200
    with pytest.raises(stripe.AuthenticationError) as caught:
        stream_client.v2.billing.meter_event_stream.create(batch)
    assert caught.value.http_status == 401
    assert caught.value.user_message.startswith("Invalid meter event session token provided:")


def test_session_token_is_not_an_api_key(stream_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stream_client.v1.customers.create()
    with pytest.raises(stripe.AuthenticationError):
        stream_client.v2.billing.meter_event_session.create()


# The stream.


def test_streamed_and_v1_events_count_in_the_same_aggregate(
    stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient
) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    other = stripe_client.v1.customers.create().id
    now = int(time.time())
    result = stream_client.v2.billing.meter_event_stream.create(
        {
            "events": [
                event(customer, "25"),
                event(customer, "2.5", timestamp=_rfc3339(now - 3 * DAY)),
                event(other, "7", identifier="other-1"),
                event(customer, "-0.5", identifier="neg-1", timestamp=_rfc3339(now - 60, millis=123)),
            ]
        }
    )
    assert result is None
    stripe_client.v1.billing.meter_events.create(event(customer, "100"))
    stripe_client.v2.billing.meter_events.create(event(customer, "1000"))
    assert usage(stripe_client, meter.id, customer) == 25 + 2.5 - 0.5 + 100 + 1000
    assert usage(stripe_client, meter.id, other) == 7


def test_a_full_batch_of_100_events(stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    stream_client.v2.billing.meter_event_stream.create({"events": [event(customer, str(i)) for i in range(100)]})
    assert usage(stripe_client, meter.id, customer) == sum(range(100))


def test_101_events_are_refused_and_none_stored(
    stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient
) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stream_client.v2.billing.meter_event_stream.create({"events": [event(customer, "1")] * 101})
    assert (caught.value.http_status, caught.value.param) == (400, "events")
    assert caught.value.user_message == "Array events exceeded maximum 100 allowed elements."
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stream_client.v2.billing.meter_event_stream.create({"events": []})
    assert (caught.value.http_status, caught.value.param) == (400, "events")
    assert caught.value.user_message == "Array events must have at least 1 element."
    assert usage(stripe_client, meter.id, customer) == 0


MALFORMED = [
    # (what is wrong, the event, param, message)
    ("no event_name", {"payload": {"value": "1"}}, "events[1][event_name]",
     "Missing required param: events[1][event_name]."),
    ("no payload", {"event_name": EVENT_NAME}, "events[1][payload]", "Missing required param: events[1][payload]."),
    ("numeric value", {"event_name": EVENT_NAME, "payload": {"value": 1}}, "events[1][payload][value]",
     "Invalid val: value must be a string"),
    ("payload not a map", {"event_name": EVENT_NAME, "payload": "value=1"}, "events[1][payload]", "Invalid hash"),
    ("unix timestamp", {"event_name": EVENT_NAME, "payload": {}, "timestamp": 1717243200}, "events[1][timestamp]",
     "Invalid events[1][timestamp]: 1717243200 is not an RFC 3339 timestamp such as 2024-06-01T12:00:00.000Z."),
    ("date only", {"event_name": EVENT_NAME, "payload": {}, "timestamp": "2024-06-01"}, "events[1][timestamp]",
     "Invalid events[1][timestamp]: 2024-06-01 is not an RFC 3339 timestamp such as 2024-06-01T12:00:00.000Z."),
    ("long identifier", {"event_name": EVENT_NAME, "payload": {}, "identifier": "x" * 101}, "events[1][identifier]",
     "Invalid string: xxxxxxxxxxxxxxxxxxxx...; must be at most 100 characters"),
    ("unknown field", {"event_name": EVENT_NAME, "payload": {}, "metadata": {}}, "events[1][metadata]",
     "Received unknown parameter: events[1][metadata]"),
    ("not an object", "event", "events[1]", "Invalid hash"),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[case[0] for case in MALFORMED])
def test_one_malformed_event_refuses_the_batch(
    stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient, case
) -> None:
    _, malformed, param, message = case
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    batch = [event(customer, "1", identifier="first"), malformed, event(customer, "2", identifier="third")]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stream_client.v2.billing.meter_event_stream.create({"events": batch})
    assert (caught.value.http_status, caught.value.param, caught.value.user_message) == (400, param, message)
    assert usage(stripe_client, meter.id, customer) == 0
    # Nothing was stored: the valid events' identifiers are still free.
    stripe_client.v2.billing.meter_events.create(event(customer, "5", identifier="first"))
    assert usage(stripe_client, meter.id, customer) == 5


def test_resent_events_count_once(stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    batch = {"events": [event(customer, str(10 + i), identifier=f"batch-{i}") for i in range(5)]}
    stream_client.v2.billing.meter_event_stream.create(batch)
    stream_client.v2.billing.meter_event_stream.create(batch)
    # Duplicates inside one batch, and of events sent through v1, count once too.
    stripe_client.v1.billing.meter_events.create(event(customer, "1000", identifier="v1-event"))
    stream_client.v2.billing.meter_event_stream.create(
        {"events": [event(customer, "1", identifier="twice"), event(customer, "1", identifier="twice"),
                    event(customer, "1000", identifier="v1-event")]}
    )
    assert usage(stripe_client, meter.id, customer) == sum(range(10, 15)) + 1000 + 1


def test_stream_drops_what_fails_later_validation(
    stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient, raw, lenient: None
) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    now = int(time.time())
    old = _rfc3339(now - 36 * DAY)
    stream_client.v2.billing.meter_event_stream.create(
        {
            "events": [
                event(customer, "1", identifier="counted"),
                {"event_name": "no_such_meter", "payload": {"value": "1"}, "identifier": "no-meter"},
                event("cus_nobody", "1", identifier="no-customer"),
                event(customer, "1", identifier="too-old", timestamp=old),
                event(customer, "1234567890123456", identifier="too-many-digits"),
            ]
        }
    )
    assert usage(stripe_client, meter.id, customer) == 1
    errors = raw.get("/_mock/meter_event_errors").body["data"]
    assert [(e["identifier"], e["code"]) for e in errors] == [
        ("too-many-digits", "meter_event_value_too_many_digits"),
        ("too-old", "timestamp_too_far_in_past"),
        ("no-customer", "meter_event_customer_not_found"),
        ("no-meter", "no_meter"),
    ]
    assert errors[1]["message"].startswith("The event timestamp cannot be more than 35 days in past.")


def test_strict_mode_refuses_the_batch_of_an_event_that_would_be_dropped(
    strict_url: str, stripe_api_key: str
) -> None:
    client = stripe.StripeClient(stripe_api_key, base_addresses={"api": strict_url, "meter_events": strict_url})
    meter = make_meter(client)
    customer = client.v1.customers.create().id
    streamer = streaming(client, strict_url)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        streamer.v2.billing.meter_event_stream.create(
            {"events": [event(customer, "1", identifier="ok"), event("cus_nobody", "1")]}
        )
    error = caught.value
    assert (error.http_status, error.code, error.param) == (
        400,
        "meter_event_customer_not_found",
        "events[1][payload][stripe_customer_id]",
    )
    assert error.user_message == "No such customer: 'cus_nobody'"
    streamer.v2.billing.meter_event_stream.create({"events": [event(customer, "4", identifier="ok")]})
    assert usage(client, meter.id, customer) == 4


def test_stream_wire_format(stripe_client: stripe.StripeClient, raw) -> None:
    make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    token = stripe_client.v2.billing.meter_event_session.create().authentication_token
    reply = post_json(raw, "/v2/billing/meter_event_stream", {"events": [event(customer, "1")]}, token)
    assert (reply.status, reply.body) == (200, {})
    reply = post_json(raw, "/v2/billing/meter_event_stream", {"events": "all of them"}, token)
    assert reply.status == 400
    reply = post_json(raw, "/v2/billing/meter_event_stream", {"events": [event(customer, "1")]})
    assert reply.status == 401 and set(reply.error) == {"type", "code", "message"}


# Single events.


async def test_single_event_answers_v2_fields(in_process) -> None:
    in_process.account.clock = FrozenClock(T0)
    customer = (await in_process.client.v1.customers.create_async()).id
    created = await in_process.client.v2.billing.meter_events.create_async(
        event(customer, "25", identifier="single-1", timestamp="2024-06-01T11:59:30.250Z")
    )
    assert isinstance(created, stripe.v2.billing.MeterEvent)
    assert created.to_dict() == {
        "object": "v2.billing.meter_event",
        "created": "2024-06-01T12:00:00.000Z",
        "event_name": EVENT_NAME,
        "identifier": "single-1",
        "livemode": False,
        "payload": {"stripe_customer_id": customer, "value": "25"},
        "timestamp": "2024-06-01T11:59:30.250Z",
    }
    defaulted = await in_process.client.v2.billing.meter_events.create_async(event(customer, "1"))
    assert defaulted.timestamp == "2024-06-01T12:00:00.000Z" and defaulted.identifier


def test_single_event_is_validated_on_receipt(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    stripe_client.v2.billing.meter_events.create(event(customer, "5", identifier="once"))
    now = int(time.time())
    refusals = [
        (event(customer, "5", identifier="once"), "identifier", "An event already exists with identifier once."),
        (event(customer, "1", timestamp=_rfc3339(now - 36 * DAY)), "timestamp", "The event timestamp cannot"),
        (event(customer, "1", timestamp=_rfc3339(now + 600)), "timestamp", "The event timestamp cannot"),
        (event(customer, "1234567890123456"), "payload[value]", "The value in the event payload can have at most 15"),
        ({"event_name": EVENT_NAME}, "payload", "Missing required param: payload."),
        ({**event(customer, "1"), "expand": ["payload"]}, "expand", "Received unknown parameter: expand"),
    ]
    for params, param, message in refusals:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe_client.v2.billing.meter_events.create(params)
        assert (caught.value.http_status, caught.value.param) == (400, param)
        assert caught.value.user_message.startswith(message)
    assert usage(stripe_client, meter.id, customer) == 5


def test_v2_errors_use_the_v2_envelope(stripe_client: stripe.StripeClient, raw) -> None:
    reply = post_json(raw, "/v2/billing/meter_events", {"event_name": EVENT_NAME, "payload": {"value": 1}})
    assert reply.status == 400
    assert reply.body == {
        "error": {
            "type": "invalid_request_error",
            "code": None,
            "message": "Invalid val: value must be a string",
            "param": "payload[value]",
        }
    }
    reply = post_json(raw, "/v2/billing/nothing_here", {})
    assert reply.status == 404 and set(reply.error) == {"type", "code", "message"}
    # v1 keeps its own envelope.
    reply = raw.post("/v1/billing/meter_events", "event_name=x")
    assert {"doc_url", "request_log_url"} <= set(reply.error)


# Adjustments.


def test_adjustment_cancels_streamed_and_v1_events(
    stripe_client: stripe.StripeClient, stream_client: stripe.StripeClient
) -> None:
    meter = make_meter(stripe_client)
    customer = stripe_client.v1.customers.create().id
    stream_client.v2.billing.meter_event_stream.create({"events": [event(customer, "10", identifier="streamed")]})
    stripe_client.v1.billing.meter_events.create(event(customer, "20", identifier="v1-sent"))
    stripe_client.v2.billing.meter_events.create(event(customer, "40", identifier="v2-sent"))

    adjustment = stripe_client.v2.billing.meter_event_adjustments.create(
        {"event_name": EVENT_NAME, "type": "cancel", "cancel": {"identifier": "streamed"}}
    )
    assert isinstance(adjustment, stripe.v2.billing.MeterEventAdjustment)
    assert adjustment.id.startswith("mtr_event_adj_")
    assert adjustment.to_dict() == {
        "id": adjustment.id,
        "object": "v2.billing.meter_event_adjustment",
        "cancel": {"identifier": "streamed"},
        "created": adjustment.created,
        "event_name": EVENT_NAME,
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }
    assert adjustment.created.endswith(".000Z")
    stripe_client.v2.billing.meter_event_adjustments.create(
        {"event_name": EVENT_NAME, "type": "cancel", "cancel": {"identifier": "v1-sent"}}
    )
    assert usage(stripe_client, meter.id, customer) == 40
    stripe_client.v1.billing.meter_event_adjustments.create(
        {"event_name": EVENT_NAME, "type": "cancel", "cancel": {"identifier": "v2-sent"}}
    )
    assert usage(stripe_client, meter.id, customer) == 0


ADJUSTMENT_ERRORS = [
    ({"event_name": EVENT_NAME, "type": "cancel"}, "cancel", "Missing required param: cancel."),
    ({"event_name": EVENT_NAME, "type": "cancel", "cancel": {}}, "cancel[identifier]",
     "Missing required param: cancel[identifier]."),
    ({"event_name": EVENT_NAME, "type": "void", "cancel": {"identifier": "a"}}, "type",
     "Invalid type: must be one of cancel"),
    ({"type": "cancel", "cancel": {"identifier": "a"}}, "event_name", "Missing required param: event_name."),
    ({"event_name": EVENT_NAME, "type": "cancel", "cancel": {"identifier": "never-sent"}}, "cancel[identifier]",
     "No meter event with identifier never-sent"),
]


@pytest.mark.parametrize("params, param, message", ADJUSTMENT_ERRORS)
def test_adjustment_errors(stripe_client: stripe.StripeClient, params, param, message) -> None:
    make_meter(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v2.billing.meter_event_adjustments.create(params)
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert caught.value.user_message.startswith(message)


def _rfc3339(unix: int, millis: int = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix)) + f".{millis:03d}Z"
