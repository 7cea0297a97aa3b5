"""Billing meters: create, retrieve, update, list, deactivate and reactivate."""

from __future__ import annotations

import time

import pytest
import stripe

GUIDE_METER = {
    "display_name": "Alpaca AI tokens",
    "event_name": "alpaca_ai_tokens",
    "default_aggregation": {"formula": "sum"},
    "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
    "value_settings": {"event_payload_key": "value"},
}
METER_FIELDS = {
    "id",
    "object",
    "created",
    "customer_mapping",
    "default_aggregation",
    "display_name",
    "event_name",
    "event_time_window",
    "livemode",
    "status",
    "status_transitions",
    "updated",
    "value_settings",
}


def next_second() -> None:
    """Wait until the clock's whole second changes, so a later timestamp is a larger one."""
    time.sleep(1.01 - time.time() % 1)


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_the_guides_meter(stripe_client: stripe.StripeClient) -> None:
    before = int(time.time())
    meter = stripe_client.v1.billing.meters.create(GUIDE_METER)
    assert set(meter.to_dict()) == METER_FIELDS
    assert meter.id.startswith("mtr_test_61") and len(meter.id) == len("mtr_test_61") + 30
    assert meter.object == "billing.meter"
    assert before <= meter.created <= int(time.time())
    assert meter.updated == meter.created
    assert meter.to_dict() | {"id": "x", "created": 0, "updated": 0} == {
        "id": "x",
        "object": "billing.meter",
        "created": 0,
        "updated": 0,
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "default_aggregation": {"formula": "sum"},
        "display_name": "Alpaca AI tokens",
        "event_name": "alpaca_ai_tokens",
        "event_time_window": None,
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "value_settings": {"event_payload_key": "value"},
    }
    assert stripe_client.v1.billing.meters.retrieve(meter.id) == meter


def test_defaults_for_customer_mapping_and_value_settings(stripe_client: stripe.StripeClient) -> None:
    meter = stripe_client.v1.billing.meters.create(
        {"display_name": "Calls", "event_name": "calls", "default_aggregation": {"formula": "count"},
         "event_time_window": "hour"}
    )
    assert meter.customer_mapping.to_dict() == {"event_payload_key": "stripe_customer_id", "type": "by_id"}
    assert meter.value_settings.to_dict() == {"event_payload_key": "value"}
    assert meter.default_aggregation.formula == "count"
    assert meter.event_time_window == "hour"


@pytest.mark.parametrize(
    "params, message, param, code",
    [
        ({"event_name": "e", "default_aggregation": {"formula": "sum"}},
         "Missing required param: display_name.", "display_name", "parameter_missing"),
        ({"display_name": "d", "default_aggregation": {"formula": "sum"}},
         "Missing required param: event_name.", "event_name", "parameter_missing"),
        ({"display_name": "d", "event_name": "e"},
         "Missing required param: default_aggregation.", "default_aggregation", "parameter_missing"),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "max"}},
         "Invalid default_aggregation[formula]: must be one of sum, count, or last",
         "default_aggregation[formula]", None),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"},
          "customer_mapping": {"type": "by_id"}},
         "Missing required param: customer_mapping[event_payload_key].", "customer_mapping[event_payload_key]",
         "parameter_missing"),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"},
          "customer_mapping": {"event_payload_key": "customer"}},
         "Missing required param: customer_mapping[type].", "customer_mapping[type]", "parameter_missing"),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"},
          "customer_mapping": {"event_payload_key": "customer", "type": "by_email"}},
         "Invalid customer_mapping[type]: must be one of by_id", "customer_mapping[type]", None),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"}, "value_settings": {"event_payload_key": ""}},
         "Missing required param: value_settings[event_payload_key].", "value_settings[event_payload_key]",
         "parameter_missing"),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"},
          "event_time_window": "week"},
         "Invalid event_time_window: must be one of day or hour", "event_time_window", None),
        ({"display_name": "d" * 251, "event_name": "e", "default_aggregation": {"formula": "sum"}},
         "Invalid string: dddddddddddddddddddd...; must be at most 250 characters", "display_name", None),
        ({"display_name": "d", "event_name": "e" * 101, "default_aggregation": {"formula": "sum"}},
         "Invalid string: eeeeeeeeeeeeeeeeeeee...; must be at most 100 characters", "event_name", None),
        ({"display_name": "d", "event_name": "e", "default_aggregation": {"formula": "sum"},
          "metadata": {"a": "b"}},
         "Received unknown parameter: metadata", "metadata", "parameter_unknown"),
    ],
)
def test_create_errors(stripe_client: stripe.StripeClient, params, message, param, code) -> None:
    error = invalid_request(lambda: stripe_client.v1.billing.meters.create(params))
    assert (error.http_status, error.user_message, error.param, error.code) == (400, message, param, code)
    assert stripe_client.v1.billing.meters.list().data == []


def test_event_name_is_unique_among_active_meters(stripe_client: stripe.StripeClient) -> None:
    first = stripe_client.v1.billing.meters.create(GUIDE_METER)
    error = invalid_request(lambda: stripe_client.v1.billing.meters.create(GUIDE_METER))
    assert error.param == "event_name"
    assert error.user_message == (
        f"An active meter with the event_name 'alpaca_ai_tokens' already exists ({first.id}). "
        "Deactivate it or choose another event_name."
    )
    assert [m.id for m in stripe_client.v1.billing.meters.list().data] == [first.id]

    stripe_client.v1.billing.meters.deactivate(first.id)
    second = stripe_client.v1.billing.meters.create(GUIDE_METER)
    error = invalid_request(lambda: stripe_client.v1.billing.meters.reactivate(first.id))
    assert error.param == "event_name"
    assert f"({second.id})" in error.user_message
    assert stripe_client.v1.billing.meters.retrieve(first.id).status == "inactive"


def test_retrieve_unknown_meter(stripe_client: stripe.StripeClient) -> None:
    error = invalid_request(lambda: stripe_client.v1.billing.meters.retrieve("mtr_missing"))
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    assert error.user_message == "No such billing meter: 'mtr_missing'"


def test_update_changes_display_name_and_bumps_updated(stripe_client: stripe.StripeClient, raw) -> None:
    meter = stripe_client.v1.billing.meters.create(GUIDE_METER)
    next_second()
    updated = stripe_client.v1.billing.meters.update(meter.id, {"display_name": "Tokens"})
    assert updated.display_name == "Tokens"
    assert updated.updated > meter.updated and updated.created == meter.created
    reply = raw.post(f"/v1/billing/meters/{meter.id}", "event_name=other")
    assert reply.status == 400
    assert reply.error["code"] == "parameter_unknown" and reply.error["param"] == "event_name"
    error = invalid_request(lambda: stripe_client.v1.billing.meters.update("mtr_nope", {"display_name": "x"}))
    assert error.http_status == 404


def test_deactivate_and_reactivate(stripe_client: stripe.StripeClient) -> None:
    meter = stripe_client.v1.billing.meters.create(GUIDE_METER)
    before = int(time.time())
    inactive = stripe_client.v1.billing.meters.deactivate(meter.id)
    assert inactive.status == "inactive"
    assert before <= inactive.status_transitions.deactivated_at <= int(time.time())
    assert inactive.updated == inactive.status_transitions.deactivated_at
    error = invalid_request(lambda: stripe_client.v1.billing.meters.deactivate(meter.id))
    assert error.user_message == f"The meter {meter.id} is already inactive."

    active = stripe_client.v1.billing.meters.reactivate(meter.id)
    assert active.status == "active"
    assert active.status_transitions.deactivated_at is None
    error = invalid_request(lambda: stripe_client.v1.billing.meters.reactivate(meter.id))
    assert error.user_message == f"The meter {meter.id} is already active."
    error = invalid_request(lambda: stripe_client.v1.billing.meters.deactivate("mtr_nope"))
    assert (error.http_status, error.user_message) == (404, "No such billing meter: 'mtr_nope'")


def test_list_filters_by_status_and_paginates(stripe_client: stripe.StripeClient) -> None:
    meters = [
        stripe_client.v1.billing.meters.create({**GUIDE_METER, "event_name": f"event_{i}"}) for i in range(3)
    ]
    stripe_client.v1.billing.meters.deactivate(meters[1].id)
    listed = stripe_client.v1.billing.meters.list()
    assert listed.url == "/v1/billing/meters"
    assert [m.id for m in listed.data] == [m.id for m in reversed(meters)]
    assert [m.id for m in stripe_client.v1.billing.meters.list({"status": "active"}).data] == [
        meters[2].id,
        meters[0].id,
    ]
    assert [m.id for m in stripe_client.v1.billing.meters.list({"status": "inactive"}).data] == [meters[1].id]
    page = stripe_client.v1.billing.meters.list({"limit": 2})
    assert page.has_more and [m.id for m in page.data] == [meters[2].id, meters[1].id]
    rest = stripe_client.v1.billing.meters.list({"starting_after": meters[1].id})
    assert not rest.has_more and [m.id for m in rest.data] == [meters[0].id]
    error = invalid_request(lambda: stripe_client.v1.billing.meters.list({"status": "archived"}))
    assert error.user_message == "Invalid status: must be one of active or inactive"
    error = invalid_request(lambda: stripe_client.v1.billing.meters.list({"starting_after": "mtr_nope"}))
    assert (error.code, error.param) == ("resource_missing", "starting_after")
