"""Meter event summaries: sum, count and last over a range, or per hour or day."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

HOUR, DAY = 3600, 86400


def make_meter(client: stripe.StripeClient, formula: str) -> stripe.billing.Meter:
    return client.v1.billing.meters.create(
        {"display_name": "Alpaca AI tokens", "event_name": "alpaca_ai_tokens", "default_aggregation": {"formula": formula}}
    )


def send(client: stripe.StripeClient, customer: str, timestamp: int, value: str = "1", **params: Any):
    return client.v1.billing.meter_events.create(
        {
            "event_name": "alpaca_ai_tokens",
            "payload": {"stripe_customer_id": customer, "value": value},
            "timestamp": timestamp,
            **params,
        }
    )


def summaries(client: stripe.StripeClient, meter_id: str, **params: Any) -> stripe.ListObject:
    return client.v1.billing.meters.event_summaries.list(meter_id, params)


def values(listed: stripe.ListObject) -> list[tuple[int, int, float]]:
    return [(s.start_time, s.end_time, s.aggregated_value) for s in listed.data]


def invalid_request(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


@pytest.fixture
def hour() -> int:
    """The start of an hour three days ago: events around it are well inside the accepted window."""
    return (int(time.time()) // DAY - 3) * DAY + 5 * HOUR


def test_sum_over_a_range(stripe_client: stripe.StripeClient, hour: int) -> None:
    meter = make_meter(stripe_client, "sum")
    customer = stripe_client.v1.customers.create().id
    other = stripe_client.v1.customers.create().id
    send(stripe_client, customer, hour - 1, "1000")  # before the range
    send(stripe_client, customer, hour, "25")
    send(stripe_client, customer, hour + 59 * 60, "-5")
    send(stripe_client, customer, hour + 120, "0.5")
    send(stripe_client, customer, hour + HOUR, "1000")  # at the exclusive end
    send(stripe_client, other, hour + 60, "7")
    listed = summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + HOUR)
    assert listed.url == f"/v1/billing/meters/{meter.id}/event_summaries" and not listed.has_more
    (summary,) = listed.data
    assert summary.to_dict() == {
        "id": summary.id,
        "object": "billing.meter_event_summary",
        "aggregated_value": 20.5,
        "end_time": hour + HOUR,
        "livemode": False,
        "meter": meter.id,
        "start_time": hour,
    }
    assert summary.id.startswith("mtrusg_") and len(summary.id) == len("mtrusg_") + 24
    assert isinstance(summary.aggregated_value, float)
    again = summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + HOUR)
    assert again.data[0].id == summary.id
    assert values(summaries(stripe_client, meter.id, customer=other, start_time=hour, end_time=hour + HOUR)) == [
        (hour, hour + HOUR, 7.0)
    ]


def test_a_range_without_events_sums_to_zero(stripe_client: stripe.StripeClient, hour: int) -> None:
    meter = make_meter(stripe_client, "sum")
    customer = stripe_client.v1.customers.create().id
    listed = summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 60)
    assert values(listed) == [(hour, hour + 60, 0.0)]


def test_count(stripe_client: stripe.StripeClient, hour: int) -> None:
    meter = make_meter(stripe_client, "count")
    customer = stripe_client.v1.customers.create().id
    for offset, value in ((0, "5"), (60, "-3"), (3000, "1.5")):
        send(stripe_client, customer, hour + offset, value)
    assert values(summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + HOUR)) == [
        (hour, hour + HOUR, 3.0)
    ]


def test_last_takes_the_latest_timestamp_not_the_latest_arrival(stripe_client: stripe.StripeClient, hour: int) -> None:
    meter = make_meter(stripe_client, "last")
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, hour + 600, "42")
    send(stripe_client, customer, hour + 60, "7")  # arrives later, happened earlier
    send(stripe_client, customer, hour + HOUR + 1, "99")  # outside the range
    assert values(summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + HOUR)) == [
        (hour, hour + HOUR, 42.0)
    ]
    assert values(summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 300)) == [
        (hour, hour + 300, 7.0)
    ]


def test_cancelled_events_are_excluded(stripe_client: stripe.StripeClient, hour: int) -> None:
    for formula, expected in (("sum", 10.0), ("count", 1.0), ("last", 10.0)):
        meter = make_meter(stripe_client, formula)
        customer = stripe_client.v1.customers.create().id
        send(stripe_client, customer, hour, "10")
        latest = send(stripe_client, customer, hour + 60, "20").identifier
        stripe_client.v1.billing.meter_event_adjustments.create(
            {"event_name": "alpaca_ai_tokens", "type": "cancel", "cancel": {"identifier": latest}}
        )
        listed = summaries(stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + HOUR)
        assert values(listed) == [(hour, hour + HOUR, expected)], formula
        stripe_client.v1.billing.meters.deactivate(meter.id)


def test_hourly_windows_newest_first_without_empty_ones(stripe_client: stripe.StripeClient, hour: int) -> None:
    meter = make_meter(stripe_client, "sum")
    customer = stripe_client.v1.customers.create().id
    send(stripe_client, customer, hour + 10, "1")
    send(stripe_client, customer, hour + 20, "2")
    send(stripe_client, customer, hour + 2 * HOUR + 5, "4")
    send(stripe_client, customer, hour + 3 * HOUR + 5, "8")
    listed = summaries(
        stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 4 * HOUR,
        value_grouping_window="hour",
    )
    assert values(listed) == [
        (hour + 3 * HOUR, hour + 4 * HOUR, 8.0),
        (hour + 2 * HOUR, hour + 3 * HOUR, 4.0),
        (hour, hour + HOUR, 3.0),
    ]
    assert len({s.id for s in listed.data}) == 3

    page = summaries(
        stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 4 * HOUR,
        value_grouping_window="hour", limit=2,
    )
    assert page.has_more and [s.id for s in page.data] == [s.id for s in listed.data[:2]]
    rest = summaries(
        stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 4 * HOUR,
        value_grouping_window="hour", starting_after=page.data[-1].id,
    )
    assert not rest.has_more and [s.id for s in rest.data] == [listed.data[2].id]
    error = invalid_request(
        lambda: summaries(
            stripe_client, meter.id, customer=customer, start_time=hour, end_time=hour + 4 * HOUR,
            value_grouping_window="hour", starting_after="mtrusg_nope",
        )
    )
    assert (error.code, error.param) == ("resource_missing", "starting_after")
    assert error.user_message == "No such billing meter event summary: 'mtrusg_nope'"


def test_daily_windows(stripe_client: stripe.StripeClient) -> None:
    meter = make_meter(stripe_client, "sum")
    customer = stripe_client.v1.customers.create().id
    day = (int(time.time()) // DAY - 4) * DAY
    send(stripe_client, customer, day + 5, "1")
    send(stripe_client, customer, day + DAY - 1, "2")
    send(stripe_client, customer, day + 2 * DAY, "4")
    listed = summaries(
        stripe_client, meter.id, customer=customer, start_time=day, end_time=day + 3 * DAY,
        value_grouping_window="day",
    )
    assert values(listed) == [(day + 2 * DAY, day + 3 * DAY, 4.0), (day, day + DAY, 3.0)]


@pytest.mark.parametrize(
    "params, message, param, code",
    [
        ({"start_time": 0, "end_time": 60}, "Missing required param: customer.", "customer", "parameter_missing"),
        ({"customer": "CUS", "end_time": 60}, "Missing required param: start_time.", "start_time",
         "parameter_missing"),
        ({"customer": "CUS", "start_time": 0}, "Missing required param: end_time.", "end_time", "parameter_missing"),
        ({"customer": "cus_nobody", "start_time": 0, "end_time": 60}, "No such customer: 'cus_nobody'", "customer",
         "resource_missing"),
        ({"customer": "CUS", "start_time": 30, "end_time": 120}, "start_time must be aligned with minute boundaries.",
         "start_time", None),
        ({"customer": "CUS", "start_time": 0, "end_time": 121}, "end_time must be aligned with minute boundaries.",
         "end_time", None),
        ({"customer": "CUS", "start_time": 60, "end_time": 7200, "value_grouping_window": "hour"},
         "start_time must be aligned with hour boundaries.", "start_time", None),
        ({"customer": "CUS", "start_time": 3600, "end_time": 7260, "value_grouping_window": "hour"},
         "end_time must be aligned with hour boundaries.", "end_time", None),
        ({"customer": "CUS", "start_time": 3600, "end_time": DAY, "value_grouping_window": "day"},
         "start_time must be aligned with day boundaries (00:00 UTC).", "start_time", None),
        ({"customer": "CUS", "start_time": 120, "end_time": 120}, "start_time must be before end_time.",
         "start_time", None),
        ({"customer": "CUS", "start_time": 0, "end_time": 100_001 * HOUR, "value_grouping_window": "hour"},
         "The range holds more than 100000 hour windows; mockstripe computes at most 100000 per request. "
         "Ask for a shorter range.", "end_time", None),
        ({"customer": "CUS", "start_time": 0, "end_time": 60, "value_grouping_window": "week"},
         "Invalid value_grouping_window: must be one of day or hour", "value_grouping_window", None),
        ({"customer": "CUS", "start_time": 0, "end_time": 60, "limit": 101},
         "This value must be less than or equal to 100.", "limit", None),
    ],
)
def test_errors(stripe_client: stripe.StripeClient, params, message, param, code) -> None:
    meter = make_meter(stripe_client, "sum")
    customer = stripe_client.v1.customers.create().id
    params = {k: customer if v == "CUS" else v for k, v in params.items()}
    error = invalid_request(lambda: stripe_client.v1.billing.meters.event_summaries.list(meter.id, params))
    assert (error.http_status, error.user_message, error.param, error.code) == (400, message, param, code)


def test_unknown_meter(stripe_client: stripe.StripeClient) -> None:
    customer = stripe_client.v1.customers.create().id
    error = invalid_request(
        lambda: stripe_client.v1.billing.meters.event_summaries.list(
            "mtr_nope", {"customer": customer, "start_time": 0, "end_time": 60}
        )
    )
    assert (error.http_status, error.user_message, error.param) == (404, "No such billing meter: 'mtr_nope'", "id")
